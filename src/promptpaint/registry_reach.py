"""What a key reaches, set against the registry: the registry's half of ``models --check`` and of
the answer to a model the provider no longer serves.

The provider's own model list (``GET /v1/models``, ``GET /v1beta/models``) is read by provider code;
here it is only a set of model ids, so this module knows no wire format and sends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from . import clock, registry
from .errors import InvalidRequest


def _names(model_id: str) -> set[str]:
    """The id and its aliases: a list naming ``gpt-image-2-2026-04-21`` reaches ``gpt-image-2``."""
    row = registry._data()["models"].get(model_id, {})
    return {model_id, *row.get("aliases", [])}


def reach(reachable: Mapping[str, Iterable[str]], today: dt.date | None = None) -> list[dict]:
    """One dict per model of each provider in ``reachable`` (provider -> the ids its list gave):
    the registry's models first (retired ones included, since a key may still reach one), then the
    ids the key reaches that the registry does not know. Keys: ``id``, ``provider``, ``reachable``,
    ``priced`` (a price is on file for ``today``), ``known`` (in the registry), ``status``,
    ``successor``, ``default`` (the provider's default model), ``user_file`` (the models file that
    added or changed it, else None)."""
    today = today or clock.today()
    data = registry._data()
    out = []
    for provider, ids in reachable.items():
        ids = set(ids)
        seen = set()
        for m in registry.all_models():
            if m.provider != provider:
                continue
            names = _names(m.id)
            seen |= names
            status = "retired" if m.is_retired(today) else m.status
            out.append({"id": m.id, "provider": provider, "reachable": bool(names & ids),
                        "priced": m.price_on(today) is not None, "known": True, "status": status,
                        "successor": m.successor, "default": data["defaults"].get(provider) == m.id,
                        "user_file": m.origin or None})
        for model_id in sorted(ids - seen):
            out.append({"id": model_id, "provider": provider, "reachable": True, "priced": False,
                        "known": False, "status": None, "successor": None, "default": False,
                        "user_file": None})
    return out


def defaults_reachable(rows: list[dict]) -> bool:
    """True when the default model of every provider asked is reachable: what an exit code says."""
    return all(r["reachable"] for r in rows if r["default"])


def replacement(model_id: str, provider: str, reachable: Iterable[str] | None = None,
                today: dt.date | None = None) -> str | None:
    """The model to offer instead of ``model_id``: its successors in turn (skipping retired ones and,
    when ``reachable`` is known, ones the key cannot reach), else the provider's default, else the
    first current model of the provider that the key reaches; None when there is none."""
    today = today or clock.today()
    ids = None if reachable is None else set(reachable)

    def usable(candidate: str | None) -> bool:
        if not candidate or candidate == model_id:
            return False
        try:
            m = registry.get(candidate, provider)
        except InvalidRequest:  # a successor named for another provider is no answer here
            return False
        return not m.is_retired(today) and (ids is None or bool(_names(m.id) & ids))

    seen, current = set(), model_id
    while current and current not in seen:
        seen.add(current)
        try:
            current = registry.get(current, provider).successor
        except InvalidRequest:
            break
        if usable(current):
            return current
    default = registry._data()["defaults"].get(provider)
    if usable(default):
        return default
    for m in registry.all_models():
        if m.provider == provider and m.status == "current" and usable(m.id):
            return m.id
    return None


def unavailable(provider: str, label: str, model_id: str, message: str, **kw):
    """The ModelUnavailable for a provider's 404 naming ``model_id``: it names what to use instead
    (the registry's successor, else the default or another current model) rather than the bare
    provider error. Provider code calls it from its ``classify``."""
    from .errors import ModelUnavailable

    try:
        instead = replacement(model_id, provider)
    except Exception:  # a registry problem must not hide the provider's answer
        instead = None
    use = (f"Use {instead} instead: pp.Client({provider!r}, model={instead!r})." if instead else "")
    return ModelUnavailable(
        f"{label} does not serve {model_id} (any more, or not to this key): {message}", model=model_id,
        successor=instead, provider=provider,
        hint=f"{use} `promptpaint models --check` lists the models your key reaches.".strip(), **kw)
