"""Every exception and warning promptpaint raises, in one family. Every message says what
happened and what to do next.

Errors a caller may want to catch as the builtin they resemble are that builtin too (as requests'
``InvalidURL`` is a ``ValueError``): ``InvalidRequest`` is a ``ValueError``, ``Timeout`` a
``TimeoutError``, ``AuthError`` and ``AccessError`` a ``PermissionError``. Every warning is a
``PromptpaintWarning``, so ``warnings.filterwarnings("ignore", category=PromptpaintWarning)``
silences them all.
"""

from __future__ import annotations

from decimal import Decimal

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
    #: What the failed call was billed, when the provider said (a refusal can cost); None: unknown
    #: or nothing. ``usage`` is the provider's token counts for it (a ``pricing.Usage``), if any.
    cost: Decimal | None = None
    usage = None
    #: False when sending the same request again cannot help (a quota, a refusal, a budget). The
    #: transport retries only an answer whose status is transient (408, 429, 5xx) *and* whose
    #: error is retryable; a provider may clear it on one error (e.g. a 429 that means "no credit").
    retryable: bool = True

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


class AuthError(PromptpaintError, PermissionError):
    title = "Key or access problem"
    hint = "Check the API key (the provider's API-key environment variable, or api_key=)."

    def __init__(self, message: str, **kw):
        if not kw.get("hint") and kw.get("provider") not in (None, "offline"):
            kw["hint"] = f"Check the {kw['provider']} API key (its environment variable, or api_key=)."
        super().__init__(message, **kw)


class AccessError(PromptpaintError, PermissionError):
    """The key is valid but may not use this model or feature."""

    title = "No access to this model"


class InvalidRequest(PromptpaintError, ValueError):
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
    retryable = False


class Refused(PromptpaintError):
    """The provider answered but gave no image: a safety block, a refusal or text only.

    ``reason`` is the provider's own word (``moderation_blocked``, ``IMAGE_SAFETY``,
    ``NO_IMAGE``...), ``text`` whatever the model said, ``cost`` what it was billed.
    """

    title = "Refused by the provider"
    hint = "Rephrase the prompt; refusals are never retried automatically."
    retryable = False

    def __init__(self, message: str, *, reason: str = "", text: str | None = None, **kw):
        self.reason = reason
        self.text = text
        super().__init__(message, **kw)


class ProviderError(PromptpaintError):
    title = "Provider problem"
    hint = "The provider had a problem; try again in a minute."


class Timeout(PromptpaintError, TimeoutError):
    title = "Timed out"
    hint = ("The call may still have been billed; it was not retried. "
            "Pass timeout= for a longer wait, or retry_on_timeout=True to retry.")


class ModelRetired(PromptpaintError):
    title = "Model retired"

    def __init__(self, message: str, *, successor: str | None = None, **kw):
        self.successor = successor
        super().__init__(message, **kw)


class ModelUnavailable(InvalidRequest, LookupError):
    """The provider does not serve this model (any more, or not to this key): its 404
    ``model_not_found`` / ``NOT_FOUND``. ``model`` is the id asked for, ``successor`` the model to
    use instead (the registry's successor, else the provider's default or another current model),
    which a UI offers in its model picker."""

    title = "Model not available"
    retryable = False

    def __init__(self, message: str, *, model: str, successor: str | None = None, **kw):
        self.model, self.successor = model, successor
        kw.setdefault("param", "model")
        super().__init__(message, **kw)


class BudgetExceeded(PromptpaintError):
    title = "Budget exceeded"
    # Each refusal names its own way out (ledger/budgets.py HINTS: only a per-day cap resets tomorrow).
    hint = "Raise the budget that refused, or choose cheaper settings."
    retryable = False

    def __init__(self, message: str, *, limit=None, spent=None, needed=None, **kw):
        self.limit, self.spent, self.needed = limit, spent, needed
        super().__init__(message, **kw)


class Cancelled(PromptpaintError):
    title = "Cancelled"
    hint = "The call was cancelled; if the provider had already started it, it may still be billed."
    retryable = False


class GatewayRefusal(PromptpaintError):
    """A request the class gateway answers itself, never sending it upstream: ``status`` (401,
    402, 403, 404, 413, 429...), a machine ``code`` (``budget_exceeded``...), the ``param`` at
    fault and, for a rate, ``retry_after`` seconds."""

    title = "Refused by the class gateway"

    def __init__(self, status: int, code: str, message: str, *, param: str | None = None,
                 retry_after: float | None = None, **kw):
        self.code, self.param, self.retry_after = code, param, retry_after
        super().__init__(message, status=status, **kw)


class LedgerError(PromptpaintError):
    """The ledger file or database cannot be read or written; ``path`` says which."""

    title = "Ledger problem"

    def __init__(self, message: str, *, path=None, **kw):
        self.path = path
        super().__init__(message, **kw)


class HomeFolderError(InvalidRequest, OSError):
    """``PROMPTPAINT_HOME`` (or the default data folder) cannot be created or written. Also an
    ``OSError``, so code that treats a missing folder as "nothing there" keeps doing so."""

    title = "Data folder problem"


# -- signals between modules: caught inside promptpaint, never shown to a user as such -----------

class Unbounded(Exception):
    """No known upper bound for this call's cost: a budget cannot be kept with it."""


class UntrustedUsage(ValueError):
    """A usage field that cannot be a real token count: the call's cost is booked as unknown."""


# -- warnings -------------------------------------------------------------------------------------

class PromptpaintWarning(UserWarning):
    """Base of every warning promptpaint issues: filter them all with this one class."""


class ShutdownWarning(PromptpaintWarning):
    """The model shuts down soon; move to its successor."""


class UnknownPriceWarning(PromptpaintWarning):
    """The cost of a call cannot be known (no price on file, or unusable usage): booked as unknown."""


class LedgerWarning(PromptpaintWarning):
    """The ledger could not book an answered call; it stays counted at its reservation."""


class OfflineNotice(PromptpaintWarning):
    """No API key was found, so calls go to the offline stand-in."""


class ProvenanceNotice(PromptpaintWarning):
    """Something about an image's story to know: it went to a sidecar file (the image must stay
    byte-identical), or the metadata a file carries could not be read and was ignored (and why)."""


class RegistryFileError(InvalidRequest):
    """A models.json that cannot be used; the message names the file and the field."""

    title = "Invalid models.json"


class MalformedFile(ValueError):
    """A file whose structure is not what its format says; the message says where and what. Readers
    of provenance turn it into a ``ProvenanceNotice``: a hostile file never raises at a user."""


__all__ = [
    "PromptpaintError", "AuthError", "AccessError", "InvalidRequest", "RateLimited",
    "QuotaExceeded", "Refused", "ProviderError", "Timeout", "ModelRetired", "ModelUnavailable",
    "BudgetExceeded", "Cancelled", "LedgerError", "Unbounded", "UntrustedUsage",
    "PromptpaintWarning", "ShutdownWarning", "UnknownPriceWarning", "LedgerWarning", "OfflineNotice",
    "ProvenanceNotice", "RegistryFileError", "HomeFolderError",
]
