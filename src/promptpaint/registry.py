"""The model registry: what each model accepts, costs and how long it lives, read from models.json."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import re
import warnings
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

from . import clock, registry_file
from .errors import InvalidRequest, ModelRetired, ShutdownWarning, UnknownPriceWarning
from .registry_file import RegistryFileError  # noqa: F401  (public here)

SHUTDOWN_WARNING_DAYS = 30


@dataclass(frozen=True)
class Price:
    """One dated row of a model's price table (USD per 1M tokens)."""

    valid_from: dt.date
    valid_to: dt.date | None
    input_text: Decimal
    input_image: Decimal
    output_text: Decimal
    output_image: Decimal
    source: str
    input_image_each: Decimal | None = None
    cached_input_text: Decimal | None = None   # None: cached tokens bill at the full input rate
    cached_input_image: Decimal | None = None
    origin: str = ""  # the user's models file this row came from; "" for the shipped file

    @property
    def version(self) -> str:
        """What the ledger books as the row's price version: a row from a user's file says so, so a
        bill can be traced to the teacher's price rather than the package's."""
        shipped = f"{self.valid_from.isoformat()}:{self.source[:40]}"
        return f"{shipped} [user file {self.origin}]" if self.origin else shipped

    @classmethod
    def from_row(cls, row: dict) -> "Price":
        def dec(key):
            return Decimal(str(row[key])) if row.get(key) is not None else None
        output_image = dec("output_image")
        return cls(
            valid_from=dt.date.fromisoformat(row["from"]),
            valid_to=dt.date.fromisoformat(row["to"]) if row.get("to") else None,
            input_text=dec("input_text"),
            input_image=dec("input_image") if row.get("input_image") is not None else dec("input_text"),
            output_text=dec("output_text") if row.get("output_text") is not None else output_image,
            output_image=output_image,
            source=row.get("source", ""),
            input_image_each=dec("input_image_each"),
            cached_input_text=dec("cached_input_text"),
            cached_input_image=dec("cached_input_image"),
            origin=row.get(registry_file.ORIGIN, ""),
        )

    @classmethod
    def custom(cls, price: dict) -> "Price":
        """A user's ``price=`` for a model we have no price for."""
        row = {"from": "2000-01-01", "source": "price= given by the user", **price}
        missing = {"input_text", "output_image"} - set(row)
        if missing:
            raise InvalidRequest(
                f"price= needs at least {sorted(missing)} in USD per 1M tokens, "
                "e.g. price={'input_text': 5, 'output_image': 30}.", param="price")
        return cls.from_row(row)


@dataclass(frozen=True)
class Model:
    id: str
    provider: str
    label: str
    capabilities: dict
    params: dict  # name -> spec
    prices: tuple[Price, ...]
    lifecycle: dict
    worst_case: dict | None = None  # models.json "worst_cases": the most a call can be billed
    note: str = ""
    known: bool = True
    origin: str = ""  # the user's models file that added or changed this model; "" if shipped

    @property
    def status(self) -> str:
        return self.lifecycle.get("status", "current")

    @property
    def shutdown(self) -> dt.date | None:
        s = self.lifecycle.get("shutdown")
        return dt.date.fromisoformat(s) if s else None

    @property
    def successor(self) -> str | None:
        return self.lifecycle.get("successor")

    def is_retired(self, today: dt.date | None = None) -> bool:
        today = today or clock.today()
        return self.status == "retired" or (self.shutdown is not None and self.shutdown <= today)

    def days_left(self, today: dt.date | None = None) -> int | None:
        if self.shutdown is None:
            return None
        return (self.shutdown - (today or clock.today())).days

    def shutdown_warning(self, today: dt.date | None = None) -> str | None:
        left = self.days_left(today)
        if left is None or left < 0 or left > SHUTDOWN_WARNING_DAYS:
            return None
        nxt = f"; move to {self.successor}" if self.successor else ""
        return f"{self.id} shuts down on {self.shutdown.isoformat()} (in {left} days){nxt}."

    def price_on(self, day: dt.date) -> Price | None:
        for p in self.prices:
            if p.valid_from <= day and (p.valid_to is None or day < p.valid_to):
                return p
        return None

    @property
    def can_mask(self) -> bool:
        return bool(self.capabilities.get("mask"))

    @property
    def previews(self) -> int:
        """How many previews a streamed call can show: OpenAI's ``partial_images`` limit, or the
        interim (thought) images a Gemini model sends; 0 when the model does not stream them."""
        return int(self.capabilities.get("previews", 0))

    @property
    def takes_markup(self) -> bool:
        """True when the model takes a markup layer as its own input (OpenAI's ``markup`` file);
        other models get the strokes drawn onto the image with an instruction."""
        return bool(self.capabilities.get("markup", False))

    @property
    def max_input_images(self) -> int:
        return int(self.capabilities.get("max_input_images", 1))


@lru_cache(maxsize=1)
def _shipped() -> dict:
    with resources.files(__package__).joinpath("models.json").open("r", encoding="utf-8") as f:
        return json.load(f)


_explicit: list = []  # use_file()'s path, when a program (a gateway) chose the file itself


def use_file(path: str | os.PathLike | None) -> None:
    """Lay the models file at ``path`` over the shipped registry for this process, whatever
    ``PROMPTPAINT_MODELS`` and the home folder say (a class gateway serving the teacher's file);
    None goes back to those. The file is checked now: a bad one raises RegistryFileError."""
    _explicit[:] = [] if path is None else [Path(path).absolute()]
    if _explicit:
        try:
            _load(*_file_key(_explicit[0]))
        except RegistryFileError:
            _explicit.clear()  # a bad file is not put in use
            raise


def load_file(path: str | os.PathLike) -> dict:
    """The models file at ``path``, checked against the shipped registry, without using it."""
    return registry_file.read(path, _shipped())


def user_file() -> Path | None:
    """The models file in use on top of the shipped one, or None."""
    return _explicit[0] if _explicit else registry_file.user_path()


def _file_key(path: Path | None) -> tuple:
    if path is None:
        return (None, 0, 0)
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1)  # read() names the file and why it cannot be read
    return (str(path), st.st_mtime_ns, st.st_size)  # an edited file is read again


@lru_cache(maxsize=4)
def _load(path: str | None, _mtime: int, _size: int) -> tuple[dict, dict[str, Model]]:
    data = _shipped()
    if path is not None:
        data = registry_file.merge(data, registry_file.read(path, data), path)
    index = {}
    for model_id, row in data["models"].items():
        m = _build(data, model_id, row)
        index[model_id] = m
        for alias in row.get("aliases", []):
            index[alias] = m
    return data, index


def _state() -> tuple[dict, dict[str, Model]]:
    return _load(*_file_key(user_file()))


def _data() -> dict:
    """The registry's data: the shipped models.json with the user's file laid over it."""
    return _state()[0]


def _index() -> dict[str, Model]:
    return _state()[1]


def worst_cases() -> dict:
    return _data()["worst_cases"]


def default_model(provider: str) -> str:
    try:
        return _data()["defaults"][provider]
    except KeyError:
        raise InvalidRequest(
            f"Unknown provider {provider!r}. Use one of: {', '.join(_data()['defaults'])}.",
            param="provider") from None


def _build(data: dict, model_id: str, row: dict) -> Model:
    specs = copy.deepcopy(data["param_sets"][row["params"]])
    for name in row.get("without", []):
        specs.pop(name, None)
    for name, extra in row.get("extra_choices", {}).items():
        specs[name]["choices"] = specs[name]["choices"] + [c for c in extra if c not in specs[name]["choices"]]
    return Model(
        id=model_id,
        provider=row["provider"],
        label=row.get("label", model_id),
        capabilities=row.get("capabilities", {}),
        params=specs,
        prices=tuple(Price.from_row(p) for p in row.get("prices", [])),
        lifecycle=row.get("lifecycle", {"status": "current"}),
        worst_case=data["worst_cases"].get(row["worst_case"]) if row.get("worst_case") else None,
        note=row.get("note", ""),
        origin=row.get(registry_file.ORIGIN, ""),
    )


def all_models() -> list[Model]:
    """Every model on file, retired ones included, in file order."""
    return [_index()[k] for k in _data()["models"]]


def get(model_id: str, provider: str | None = None) -> Model:
    """The registry entry for ``model_id``; an unknown id gets a permissive entry marked unknown."""
    m = _index().get(model_id)
    if m is not None:
        if provider and m.provider != provider:
            raise InvalidRequest(
                f"{model_id} is {_a(m.provider)} model, not {provider}. "
                f"Use pp.Client({m.provider!r}, model={model_id!r}).", param="model")
        return m
    if provider is None:
        raise InvalidRequest(f"Unknown model {model_id!r}: name the provider too, "
                             f"e.g. pp.Client('openai', model={model_id!r}).", param="model")
    base = _index()[default_model(provider)]
    return Model(id=model_id, provider=provider, label=model_id, capabilities=base.capabilities,
                 params=base.params, prices=(), lifecycle={"status": "current"}, known=False)


def _a(word: str) -> str:
    """``word`` with its indefinite article: "an openai", "a gemini"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def check_lifecycle(model: Model, today: dt.date | None = None, *, warn: bool = True) -> None:
    """Raise for a retired model, warn for one that shuts down within 30 days."""
    if model.is_retired(today):
        nxt = f" Use {model.successor} instead." if model.successor else ""
        when = f" on {model.shutdown.isoformat()}" if model.shutdown else ""
        raise ModelRetired(f"{model.id} was shut down{when}.{nxt}",
                           successor=model.successor, provider=model.provider)
    msg = model.shutdown_warning(today) if warn else None
    if msg:
        warnings.warn(msg, ShutdownWarning, stacklevel=4)


_SIZE = re.compile(r"^(\d+)x(\d+)$")


def _check_size(model: Model, value: str) -> None:
    spec = model.params["size"]
    if value in spec["choices"]:
        return
    custom = model.capabilities.get("custom_sizes")
    m = _SIZE.match(str(value))
    if custom and m:
        w, h = int(m.group(1)), int(m.group(2))
        k = custom["multiple"]
        if (w % k == 0 and h % k == 0 and max(w, h) / min(w, h) <= custom["max_ratio"]
                and max(w, h) <= custom["max_width"] and w * h <= custom["max_pixels"]):
            return
        raise InvalidRequest(
            f"size={value!r} is not accepted by {model.id}: both sides must be multiples of {k}, "
            f"the ratio at most {custom['max_ratio']}:1 and the area at most 3840x2160.", param="size")
    allowed = ", ".join(spec["choices"])
    extra = " or a custom WxH" if custom else ""
    raise InvalidRequest(f"size={value!r} is not accepted by {model.id}; use one of {allowed}{extra}.",
                         param="size")


def validate_params(model: Model, params: dict, *, kind: str = "generate") -> dict:
    """Check ``params`` against what the model accepts; return them without None values.

    Errors name the parameter and the accepted values, before any request is sent.
    """
    out = {}
    for name, value in params.items():
        if value is None:
            continue
        spec = model.params.get(name)
        if spec is None:
            accepted = ", ".join(sorted(model.params))
            hint = ""
            if name == "aspect_ratio" and "size" in model.params:
                hint = " It takes size= instead, e.g. size='1536x1024' for landscape."
            elif name == "size" and "aspect_ratio" in model.params:
                hint = " It takes aspect_ratio= and image_size= instead, e.g. aspect_ratio='16:9'."
            elif name == "response_format":
                hint = " GPT image models always answer with base64 image data."
            raise InvalidRequest(f"{model.id} does not take {name}=.{hint} It accepts: {accepted}.",
                                 param=name)
        if spec.get("edit_only") and kind == "generate":
            raise InvalidRequest(f"{name}= only applies to edits.", param=name)
        k = spec["kind"]
        if k == "size":
            _check_size(model, value)
        elif k == "choice":
            if value not in spec["choices"]:
                raise InvalidRequest(f"{name}={value!r} is not accepted by {model.id}; "
                                     f"use one of {', '.join(spec['choices'])}.", param=name)
        elif k in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    k == "int" and not float(value).is_integer()):
                raise InvalidRequest(f"{name} must be a {'whole ' if k == 'int' else ''}number, "
                                     f"not {value!r}.", param=name)
            if not math.isfinite(value):
                # NaN passes every range check and then cannot be sent as JSON at all.
                raise InvalidRequest(f"{name}={value!r} is not a number that can be sent: give a value "
                                     f"between {spec.get('min')} and {spec.get('max')}.", param=name)
            lo, hi = spec.get("min"), spec.get("max")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                more = ""
                if name == "n" and hi == 1:
                    more = f" {model.id} makes one image per call; call it again for more."
                raise InvalidRequest(f"{name}={value!r} is out of range for {model.id}: "
                                     f"between {lo} and {hi}.{more}", param=name)
            value = int(value) if k == "int" else float(value)
        elif k == "list":
            if not isinstance(value, (list, tuple)):
                raise InvalidRequest(f"{name} must be a list.", param=name)
            value = list(value)
        elif k == "str":
            value = str(value)
        out[name] = value
    if out.get("background") == "transparent" and out.get("output_format") == "jpeg":
        raise InvalidRequest("background='transparent' needs output_format='png' or 'webp'.",
                             param="background")
    fmt = out.get("output_format")
    for name in out:  # GIF's frames, SVG's authoring model: only with their format
        need = model.params[name].get("needs_format")
        if need and fmt != need:
            raise InvalidRequest(f"{name}= applies to output_format={need!r} only.", param=name)
    if fmt == "svg" and out.get("n", 1) != 1:
        raise InvalidRequest("output_format='svg' makes one image per call: n=1.", param="n")
    if "output_compression" in out and out.get("output_format") not in ("jpeg", "webp"):
        raise InvalidRequest("output_compression applies to output_format='jpeg' or 'webp' only.",
                             param="output_compression")
    return out


def ui_specs(model: Model) -> list[dict]:
    """The parameters a UI should offer for this model, as plain dicts."""
    out = []
    for name, spec in model.params.items():
        if not spec.get("ui", True):
            continue
        row = {"name": name, **{k: v for k, v in spec.items() if k not in ("ui", "edit_only")}}
        if row["kind"] == "size":
            row["kind"] = "choice"  # a UI offers the standard sizes; code may ask for any WxH allowed
        out.append(row)
    return out
