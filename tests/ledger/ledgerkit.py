"""What several ledger test files book: a Gemini call as a kernel would reserve it."""

from __future__ import annotations

from promptpaint.ledger import Attempt


def attempt(user: str | None = None, *, prompt: str = "a fox", **kw) -> Attempt:
    """A Gemini generate call by ``user`` (None: whoever the environment names, as a kernel's);
    ``kw`` sets other fields (``budget=``, ``cache_key=``)."""
    if user is not None:
        kw["user"] = user
    return Attempt("gemini", "gemini-3.1-flash-image", "generate", prompt, {}, None, **kw)
