"""The kernel side of docs/widget-protocol.md as data: which traits each Session change updates,
which traits the front end may write (and in what order they are checked), and the one table of
messages the front end sends, each with how it is answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

# Which traits each Session change updates, and how each trait reads the Session.
_TRAITS = {
    "selection": ("provider", "model", "params"), "turns": ("turns",),
    "shown": ("current", "image_id", "image_size"), "mask": ("has_mask",),
    "status": ("status", "started_at"), "error": ("error",), "notice": ("notice",), "costs": ("costs",),
    "code": ("code",), "retry": ("retry",), "closed": ("closed",), "compare": ("compare",),
    "references": ("references",),
}
_READ = {
    "provider": lambda s: s.provider, "model": lambda s: s.model, "params": lambda s: dict(s.params),
    "turns": lambda s: s.history.as_state(), "current": lambda s: dict(s.current),
    "image_id": lambda s: s.image_id, "image_size": lambda s: list(s.image_size),
    "has_mask": lambda s: s.mask is not None, "status": lambda s: s.status,
    "started_at": lambda s: s.started_at, "error": lambda s: s.error, "notice": lambda s: s.notice,
    "costs": lambda s: s.costs, "code": lambda s: s.code, "retry": lambda s: s.retry,
    "closed": lambda s: s.closed, "references": lambda s: [dict(r) for r in s.references],
    # A fresh copy each time: the worker fills the cells in place, and traitlets only syncs a new value.
    "compare": lambda s: {**s.compare, "cells": [dict(c) for c in s.compare["cells"]]} if s.compare else {},
}
# The traits the front end may write (↔ in the protocol), in the order they are checked: a model
# against its new provider, params against the new model.
_FRONT_END = {
    "provider": lambda s, v: s.choose_provider(v), "model": lambda s, v: s.choose_model(v),
    "params": lambda s, v: s.choose_params(v),
    "current": lambda s, v: s.show(v.get("turn"), v.get("index", 0)),
    "prompt": lambda s, v: s.choose_prompt(v), "previews": lambda s, v: setattr(s, "previews", bool(v)),
}


class _Dependent(Exception):
    """A model or settings chosen for a provider the kernel just refused: undone with it."""


@dataclass(frozen=True)
class Reply:
    """How a request is answered: the reply's kind, what it echoes of the request, what it
    carries when the handler failed, and whether a refusal also goes to the error card (else
    only the panel that asked shows it)."""

    kind: str
    echo: Callable[[dict], dict] = lambda content: {}
    failed: dict = field(default_factory=dict)
    card: bool = True


_IMAGE = Reply("image", lambda c: {"id": str(c.get("id", ""))[:64], "thumb": bool(c.get("thumb"))}, {"mime": None})
_PAST = Reply("past", failed={"items": []})
_ACK = Reply("ack")  # a message with a request id but no reply of its own: answered all the same

# kind -> (Studio method, how it is answered). A method with a Reply returns (fields, buffers).
MESSAGES: dict[str, tuple[str, Reply]] = {
    "run": ("_msg_run", _ACK), "cancel": ("_msg_cancel", _ACK), "mask": ("_msg_mask", _ACK),
    "markup": ("_msg_markup", _ACK), "upload": ("_msg_upload", _ACK), "open_past": ("_msg_open_past", _ACK),
    "compare": ("_msg_compare", _ACK),
    "reference": ("_msg_reference", _ACK), "remove_reference": ("_msg_remove_reference", _ACK),
    "save": ("_msg_save", Reply("saved", failed={"path": None})),
    "fetch": ("_msg_fetch", _IMAGE), "fetch_mask": ("_msg_fetch_mask", Reply("mask")),
    "past": ("_msg_past", _PAST), "hide_past": ("_msg_hide_past", _PAST),
    "compare_estimate": ("_msg_compare_estimate",
                         Reply("compare_estimate", failed={"cells": [], "calls": 0, "worst_case": None}, card=False)),
}


__all__ = ["MESSAGES", "Reply"]
