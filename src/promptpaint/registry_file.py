"""A user's models.json: read, checked field by field, and laid over the shipped registry.

A teacher adds a model the package does not ship (or a price it does not know yet) once, in
``<promptpaint home>/models.json`` or the file ``PROMPTPAINT_MODELS`` names, in the shipped file's
own format. Errors name the file and the field, because the person who reads them is editing it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path

from .errors import RegistryFileError

ENV = "PROMPTPAINT_MODELS"
ORIGIN = "_origin"  # set on every merged row that came from a user file: the file's path

TOP_KEYS = ("version", "about", "defaults", "batch_prices", "param_sets", "models", "worst_cases",
            "authoring_prices")
MODEL_KEYS = ("provider", "label", "aliases", "capabilities", "params", "without", "extra_choices",
              "prices", "worst_case", "lifecycle", "note")
PRICE_NUMBERS = ("input_text", "input_image", "output_text", "output_image", "input_image_each",
                 "cached_input_text", "cached_input_image")
PRICE_KEYS = ("from", "to", "source") + PRICE_NUMBERS
LIFECYCLE_KEYS = {"status": ("current", "deprecated", "retired"), "shutdown": "date",
                  "successor": "model", "vertex_deprecation": "date", "note": "str"}
PARAM_KINDS = ("size", "choice", "int", "float", "list", "str")


def user_path() -> Path | None:
    """The user's models file: ``PROMPTPAINT_MODELS`` (empty: none), else ``models.json`` in the
    promptpaint home folder when there is one."""
    env = os.environ.get(ENV)
    if env is not None:
        if not env.strip():
            return None
        path = Path(env).expanduser().absolute()  # the ledger records where a price came from
        if not path.is_file():
            raise RegistryFileError(
                f"{ENV}={env}: no such file. Point it at a models.json, or unset it.", param=ENV)
        return path
    from . import config

    try:
        path = config.home() / "models.json"
    except OSError:  # a home that cannot be created has no models file in it
        return None
    return path if path.is_file() else None


def read(path: str | os.PathLike, base: dict) -> dict:
    """The user file at ``path``, parsed and checked against ``base`` (the shipped data)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise RegistryFileError(f"{name}: cannot be read ({e.strerror or e}).") from None
    except UnicodeDecodeError:
        raise RegistryFileError(f"{name}: is not UTF-8 text.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise RegistryFileError(f"{name}: not valid JSON at line {e.lineno}, column {e.colno}: "
                                f"{e.msg}.") from None
    validate(data, name, base)
    return data


def merge(base: dict, user: dict, origin: str) -> dict:
    """``base`` with ``user`` laid over it. A user row for a shipped model replaces the fields it
    names, except ``prices``: its rows come first, so they win on the days they cover and the
    shipped rows still price the other days (old calls keep their old prices)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for section in ("defaults", "param_sets", "worst_cases", "authoring_prices"):
        out[section] = {**base.get(section, {}), **user.get(section, {})}
    batch = dict(base.get("batch_prices", {}))
    for model_id, rows in user.get("batch_prices", {}).items():
        batch[model_id] = [{**r, ORIGIN: origin} for r in rows] + list(batch.get(model_id, []))
    out["batch_prices"] = batch
    models = dict(base["models"])
    for model_id, row in user.get("models", {}).items():
        shipped = models.get(model_id, {})
        merged = {**shipped, **row, ORIGIN: origin}
        merged["prices"] = ([{**p, ORIGIN: origin} for p in row.get("prices", [])]
                            + list(shipped.get("prices", [])))
        models[model_id] = merged
    out["models"] = models
    return out


# ----------------------------------------------------------------------------- checks
def _fail(name: str, where: str, what: str):
    raise RegistryFileError(f"{name}: {where}: {what}")


def _key(where: str, key: str) -> str:
    return f'{where}["{key}"]'


def _obj(name, where, value) -> dict:
    if not isinstance(value, dict):
        _fail(name, where, f"expected an object {{...}}, got {_show(value)}")
    return value


def _list(name, where, value) -> list:
    if not isinstance(value, list):
        _fail(name, where, f"expected a list [...], got {_show(value)}")
    return value


def _str(name, where, value, *, empty=False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        _fail(name, where, f"expected a{'' if empty else ' non-empty'} string, got {_show(value)}")
    return value


def _number(name, where, value, *, whole=False, low=0):
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
          and value >= low and (not whole or float(value).is_integer()))
    if not ok:
        _fail(name, where, f"expected a {'whole ' if whole else ''}number ≥ {low}, got {_show(value)}")
    return value


def _date(name, where, value) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        _fail(name, where, f"expected a date YYYY-MM-DD, got {_show(value)}")


def _unknown(name, where, row: dict, allowed) -> None:
    for key in row:
        if key not in allowed:
            _fail(name, _key(where, key) if where else key,
                  f"unknown field; expected one of {', '.join(allowed)}")


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) or math.isfinite(value) \
        else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate(data, name: str, base: dict | None = None) -> None:
    """Raise RegistryFileError for the first field of ``data`` that promptpaint could not use.

    ``base`` is the data this file is laid over (None: ``data`` is a whole registry, the shipped one).
    """
    base = base or {}
    _obj(name, "the file", data)
    _unknown(name, "", data, TOP_KEYS)
    param_sets = {**base.get("param_sets", {}), **_obj(name, "param_sets", data.get("param_sets", {}))}
    for set_name, specs in data.get("param_sets", {}).items():
        _param_set(name, _key("param_sets", set_name), specs)
    worst = {**base.get("worst_cases", {}), **_obj(name, "worst_cases", data.get("worst_cases", {}))}
    for wc_name, wc in data.get("worst_cases", {}).items():
        if wc_name == "about":
            _str(name, _key("worst_cases", wc_name), wc)
        elif wc_name == "prompt_overhead_tokens":
            _number(name, _key("worst_cases", wc_name), wc, whole=True)
        else:
            _worst_case(name, _key("worst_cases", wc_name), wc)
    models = _obj(name, "models", data.get("models", {}))
    # The providers are those the shipped file names (the package knows no others); checking the
    # shipped file itself, those it names.
    providers = sorted({row.get("provider") for row in (base.get("models") or models).values()
                        if isinstance(row, dict) and isinstance(row.get("provider"), str)})
    known = {**base.get("models", {}), **models}
    ids = set(known) | {a for row in known.values() if isinstance(row, dict) for a in row.get("aliases", [])}
    for model_id, row in models.items():
        _model(name, _key("models", model_id), row, base.get("models", {}).get(model_id),
               param_sets, worst, ids, providers)
    for provider, model_id in _obj(name, "defaults", data.get("defaults", {})).items():
        where = _key("defaults", provider)
        if provider not in providers:
            _fail(name, where, f"unknown provider; expected one of {', '.join(providers)}")
        if model_id not in known or known[model_id].get("provider") != provider:
            _fail(name, where, f"{_show(model_id)} is not a model of provider {provider} in the registry")
    for model_id, rows in _obj(name, "batch_prices", data.get("batch_prices", {})).items():
        if model_id == "about":
            continue
        _prices(name, _key("batch_prices", model_id), rows)


def _model(name, where, row, shipped, param_sets, worst, ids, providers) -> None:
    row = _obj(name, where, row)
    _unknown(name, where, row, MODEL_KEYS)
    full = {**(shipped or {}), **row}
    for key in ("provider", "params"):
        if key not in full:
            _fail(name, f"{where}.{key}", "missing: a model the package does not ship needs "
                  f"provider (one of {', '.join(providers)}) and params (one of {', '.join(param_sets)})")
    if full["provider"] not in providers:
        _fail(name, f"{where}.provider", f"expected one of {', '.join(providers)}, got {_show(full['provider'])}")
    if full["params"] not in param_sets:
        _fail(name, f"{where}.params", f"expected a parameter set ({', '.join(param_sets)}), "
              f"got {_show(full['params'])}")
    specs = param_sets[full["params"]]
    for key in ("label", "note"):
        if key in row:
            _str(name, f"{where}.{key}", row[key], empty=key == "note")
    for i, alias in enumerate(_list(name, f"{where}.aliases", row.get("aliases", []))):
        _str(name, f"{where}.aliases[{i}]", alias)
    for i, param in enumerate(_list(name, f"{where}.without", row.get("without", []))):
        if param not in specs:
            _fail(name, f"{where}.without[{i}]", f"{_show(param)} is not in parameter set {full['params']}")
    for param, extra in _obj(name, f"{where}.extra_choices", row.get("extra_choices", {})).items():
        if specs.get(param, {}).get("kind") not in ("choice", "size"):
            _fail(name, _key(f"{where}.extra_choices", param),
                  f"not a choice parameter of parameter set {full['params']}")
        _list(name, _key(f"{where}.extra_choices", param), extra)
    caps = _obj(name, f"{where}.capabilities", row.get("capabilities", {}))
    for key in ("edit", "mask", "markup"):
        if key in caps and not isinstance(caps[key], bool):
            _fail(name, f"{where}.capabilities.{key}", f"expected true or false, got {_show(caps[key])}")
    for key, low in (("previews", 0), ("max_input_images", 1)):
        if key in caps:
            _number(name, f"{where}.capabilities.{key}", caps[key], whole=True, low=low)
    if "custom_sizes" in caps:
        for key, value in _obj(name, f"{where}.capabilities.custom_sizes", caps["custom_sizes"]).items():
            _number(name, f"{where}.capabilities.custom_sizes.{key}", value, low=1)
    _prices(name, f"{where}.prices", row.get("prices", []))
    if row.get("worst_case") is not None and row["worst_case"] not in worst:
        _fail(name, f"{where}.worst_case", f"{_show(row['worst_case'])} is not in worst_cases; add it "
              "there, or leave worst_case out (then a budget needs ceiling= for this model)")
    life = _obj(name, f"{where}.lifecycle", row.get("lifecycle", {}))
    _unknown(name, f"{where}.lifecycle", life, tuple(LIFECYCLE_KEYS))
    for key, rule in LIFECYCLE_KEYS.items():
        if key not in life:
            continue
        at = f"{where}.lifecycle.{key}"
        if rule == "date":
            _date(name, at, life[key])
        elif rule == "model":
            if life[key] not in ids:
                _fail(name, at, f"{_show(life[key])} is not a model in the registry")
        elif rule == "str":
            _str(name, at, life[key], empty=True)
        elif life[key] not in rule:
            _fail(name, at, f"expected one of {', '.join(rule)}, got {_show(life[key])}")


def _prices(name, where, rows) -> None:
    spans = []
    for i, row in enumerate(_list(name, where, rows)):
        at = f"{where}[{i}]"
        row = _obj(name, at, row)
        _unknown(name, at, row, PRICE_KEYS)
        for key in ("from", "input_text", "output_image", "source"):
            if key not in row:
                _fail(name, f"{at}.{key}", "missing: a price row needs from, input_text, output_image "
                      "(USD per 1M tokens) and source (where the price was read)")
        start = _date(name, f"{at}.from", row["from"])
        end = _date(name, f"{at}.to", row["to"]) if row.get("to") is not None else None
        if end is not None and end <= start:
            _fail(name, f"{at}.to", f"{row['to']} is not after from ({row['from']})")
        _str(name, f"{at}.source", row["source"])
        for key in PRICE_NUMBERS:
            if key in row and (row[key] is not None or key in ("input_text", "output_image")):
                _number(name, f"{at}.{key}", row[key])
        for j, (s, e) in enumerate(spans):
            if start < (e or dt.date.max) and s < (end or dt.date.max):
                _fail(name, f"{at}.from", f"its dates overlap row {j}: give the earlier row a \"to\"")
        spans.append((start, end))


def _param_set(name, where, specs) -> None:
    for param, spec in _obj(name, where, specs).items():
        at = _key(where, param)
        spec = _obj(name, at, spec)
        if spec.get("kind") not in PARAM_KINDS:
            _fail(name, f"{at}.kind", f"expected one of {', '.join(PARAM_KINDS)}, got {_show(spec.get('kind'))}")
        if spec["kind"] in ("choice", "size"):
            _list(name, f"{at}.choices", spec.get("choices"))


def _worst_case(name, where, wc) -> None:
    """Every figure a reservation is made of must be a count ≥ 0: a wrong bound is a broken budget."""
    wc = _obj(name, where, wc)
    _str(name, f"{where}.source", wc.get("source"))

    def walk(at, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{at}.{k}" if k.isidentifier() else _key(at, k), v)
        elif isinstance(value, bool) or isinstance(value, str):
            return
        elif value is not None:
            _number(name, at, value, whole=True)

    walk(where, {k: v for k, v in wc.items() if k != "source"})
