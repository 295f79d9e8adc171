"""promptpaint: generate and edit images with Gemini and OpenAI image models, and know what it cost.

>>> import promptpaint as pp
>>> r = pp.Client("offline").generate("a red fox in snow")
>>> pp.ledger().total()

``pp.Studio`` (the notebook widget) is imported on first use, so scripts and the CLI never load
a widget library.
"""

from __future__ import annotations

import logging

from .client import Chat, Client, Result
from .sweep import Sweep
from .errors import (AccessError, AuthError, BudgetExceeded, Cancelled, InvalidRequest, LedgerError,
                     LedgerWarning, ModelRetired, ModelUnavailable, OfflineNotice, PromptpaintError, PromptpaintWarning,
                     ProvenanceNotice, ProviderError, QuotaExceeded, RateLimited, Refused,
                     ShutdownWarning, Timeout, UnknownPriceWarning)
from .ledger import Ledger, SQLiteLedger, ledger
from .pricing import Usage

# A library logs, an application decides where to: silent unless the user configures logging.
logging.getLogger("promptpaint").addHandler(logging.NullHandler())


def models(include_retired: bool = False, *, check: bool = False, providers=None):
    """The registry's models, as objects with ``id``, ``provider``, ``prices``, ``lifecycle``.

    With ``check=True``, asks each provider with a key configured (or those in ``providers``)
    which models the key reaches, and returns one dict per model: ``id``, ``provider``,
    ``reachable``, ``priced``, ``known`` (in the registry), ``status``, ``successor``, ``default``,
    ``user_file``; its ``.skipped`` says which providers were not asked and why, and
    ``.defaults_reachable`` whether every default model asked about is reachable."""
    if check:
        from .model_check import check as ask

        return ask(list(providers) if providers else None)
    from . import registry

    return [m for m in registry.all_models() if include_retired or not m.is_retired()]


def provenance(source, *, ledger=None):
    """How an image was made (prompt, model, parameters, cost, ledger row…), from the file's own
    metadata, else its ``.json`` sidecar, else the ledger by the sha256 of its bytes."""
    from .imagemeta import provenance as read

    return read(source, ledger=ledger)


def batches(**kw):
    """Every batch job in the ledger, newest first (see ``Client.batch``): collect one from any session."""
    from .batch import batches as _batches

    return _batches(**kw)


def __getattr__(name: str):
    if name == "__version__":  # read on first use, from the installed metadata (version.py)
        from .version import version

        globals()["__version__"] = version()
        return globals()["__version__"]
    if name == "Studio":
        from .studio import Studio

        return Studio
    raise AttributeError(f"module 'promptpaint' has no attribute {name!r}")


__all__ = [
    "Client", "Chat", "Result", "Sweep", "batches", "provenance", "Usage", "Studio", "ledger", "models",
    "Ledger", "SQLiteLedger",
    "PromptpaintError", "AuthError", "AccessError", "InvalidRequest", "RateLimited", "QuotaExceeded",
    "Refused", "ProviderError", "Timeout", "ModelRetired", "ModelUnavailable", "BudgetExceeded", "Cancelled",
    "LedgerError", "PromptpaintWarning", "OfflineNotice", "ShutdownWarning", "UnknownPriceWarning",
    "LedgerWarning", "ProvenanceNotice",
]
