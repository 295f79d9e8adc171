"""One exception family. Every message says what happened and what to do next."""

from __future__ import annotations

from .redact import scrub


class PromptpaintError(Exception):
    """Base of every error promptpaint raises on purpose.

    ``hint`` is the next step for the user; ``provider``, ``status`` and
    ``request_id`` say where the error came from, when it came from a server. ``title`` names the
    kind of problem in a few words, for a UI's heading.

    ``maybe_billed`` is True when the request may have reached the provider but no usable answer
    came back (a read timeout, a connection dropped after sending, a cut-off or unreadable answer):
    the provider may have charged for it, so it is neither resent nor booked as free.

    The message and hint are scrubbed of every registered key and URL credential *before* they
    become the exception's ``args``, so ``repr(e)`` and ``e.args`` are as safe as ``str(e)``.
    """

    title: str = "Something went wrong"
    hint: str = ""
    maybe_billed: bool = False

    def __init__(self, message: str, *, hint: str = "", provider: str | None = None,
                 status: int | None = None, request_id: str | None = None, maybe_billed: bool = False):
        message = scrub(message)
        self.message = message
        self.hint = scrub(hint or type(self).hint)
        self.provider = provider
        self.status = status
        self.request_id = request_id
        self.maybe_billed = maybe_billed
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class AuthError(PromptpaintError):
    title = "Key or access problem"
    hint = "Check the API key (OPENAI_API_KEY, GEMINI_API_KEY or api_key=)."


class AccessError(PromptpaintError):
    """The key is valid but may not use this model or feature."""

    title = "No access to this model"


class InvalidRequest(PromptpaintError):
    title = "Invalid input"

    def __init__(self, message: str, *, param: str | None = None, **kw):
        self.param = param
        super().__init__(message, **kw)


class RateLimited(PromptpaintError):
    title = "Rate limited"
    hint = "Wait a little and try again."

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        super().__init__(message, **kw)


class QuotaExceeded(PromptpaintError):
    title = "Quota exhausted"
    hint = "Enable billing or raise the quota in the provider's console; retrying will not help."


class Refused(PromptpaintError):
    """The provider answered but gave no image: a safety block, a refusal or text only.

    ``reason`` is the provider's own word (``moderation_blocked``, ``IMAGE_SAFETY``,
    ``NO_IMAGE``...), ``text`` whatever the model said, ``cost`` what it was billed.
    """

    title = "Refused by the provider"
    hint = "Rephrase the prompt; refusals are never retried automatically."

    def __init__(self, message: str, *, reason: str = "", text: str | None = None, **kw):
        self.reason = reason
        self.text = text
        self.usage = None
        self.cost = None
        super().__init__(message, **kw)


class ProviderError(PromptpaintError):
    title = "Provider problem"
    hint = "The provider had a problem; try again in a minute."


class Timeout(PromptpaintError):
    title = "Timed out"
    hint = ("The call may still have been billed; it was not retried. "
            "Pass timeout= for a longer wait, or retry_on_timeout=True to retry.")


class ModelRetired(PromptpaintError):
    title = "Model retired"

    def __init__(self, message: str, *, successor: str | None = None, **kw):
        self.successor = successor
        super().__init__(message, **kw)


class BudgetExceeded(PromptpaintError):
    title = "Budget exceeded"
    hint = "Raise the budget (budget=, or daily_budget in the config) or wait for tomorrow's allowance."

    def __init__(self, message: str, *, limit=None, spent=None, needed=None, **kw):
        self.limit, self.spent, self.needed = limit, spent, needed
        super().__init__(message, **kw)


class Cancelled(PromptpaintError):
    title = "Cancelled"
    hint = "The call was cancelled; if the provider had already started it, it may still be billed."


__all__ = [
    "PromptpaintError", "AuthError", "AccessError", "InvalidRequest", "RateLimited",
    "QuotaExceeded", "Refused", "ProviderError", "Timeout", "ModelRetired",
    "BudgetExceeded", "Cancelled",
]
