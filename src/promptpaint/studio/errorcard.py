"""An exception as the Studio's error card shows it: kind, a title in words, message and hint.

Scrubbed of keys and never a traceback: the type and the message are enough to act on.
"""

from __future__ import annotations

from ..errors import PromptpaintError
from ..transport import scrub


def error_state(exc: BaseException | None) -> dict:
    """The ``error`` trait for ``exc``; ``{}`` for None (the card closes)."""
    if exc is None:
        return {}
    if isinstance(exc, PromptpaintError):
        return {"kind": type(exc).__name__, "title": error_title(exc), "message": scrub(exc.message),
                "hint": scrub(exc.hint or ""), "retry_after": getattr(exc, "retry_after", None),
                # a retired model, or one the provider no longer serves: the picker offers this one
                "successor": getattr(exc, "successor", None)}
    return {"kind": type(exc).__name__, "title": "Something went wrong",
            "message": scrub(str(exc)) or type(exc).__name__,
            "hint": "This looks like a bug in promptpaint; the details are in the kernel log.",
            "retry_after": None}


def error_title(exc: BaseException) -> str:
    """The error class's ``title`` when it has one, else its name in words ("Rate limited")."""
    title = getattr(type(exc), "title", None)
    if isinstance(title, str) and title:
        return title
    name = type(exc).__name__
    words = "".join(f" {c.lower()}" if c.isupper() and i else c for i, c in enumerate(name)).strip()
    return words[:1].upper() + words[1:]


def error_message(exc: BaseException) -> str:
    """The words a panel shows for ``exc`` (its reply's ``error``)."""
    return error_state(exc)["message"]


__all__ = ["error_state", "error_title", "error_message"]
