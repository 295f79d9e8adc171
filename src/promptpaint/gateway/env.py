"""Where a kernel behind the class gateway sends its calls, read from its environment:
``PROMPTPAINT_GATEWAY`` (and ``PROMPTPAINT_TOKEN``, else ``JUPYTERHUB_API_TOKEN``). ``config``
asks this for each provider's base URL and key; nothing here imports the rest of the package.

A provider's gateway address is ``{gateway}/{provider}`` plus the path of the provider's own
base URL (``/v1`` for an API whose base ends in ``/v1``), so an SDK pointed at it builds the
same paths it would build against the provider.
"""

from __future__ import annotations

import os
import urllib.parse

GATEWAY_ENV = "PROMPTPAINT_GATEWAY"
TOKEN_ENVS = ("PROMPTPAINT_TOKEN", "JUPYTERHUB_API_TOKEN")


def url() -> str | None:
    """The gateway's address, when this kernel goes through one."""
    value = os.environ.get(GATEWAY_ENV, "").strip().rstrip("/")
    return value or None


def token() -> tuple[str | None, str]:
    """The kernel's gateway token and the variable it came from."""
    for name in TOKEN_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value, name
    return None, " or ".join(TOKEN_ENVS)


def prefix(provider: str, default_base_url: str) -> str:
    """The gateway's path for ``provider``: ``/{provider}`` + its own base URL's path."""
    return f"/{provider}" + urllib.parse.urlsplit(default_base_url).path.rstrip("/")


def base_url(provider: str, default_base_url: str | None) -> str | None:
    """The base URL for ``provider`` through the gateway; None when not behind one."""
    gw = url()
    return f"{gw}{prefix(provider, default_base_url)}" if gw and default_base_url else None


def refusal_error(code: str, body: dict, provider: str, request_id: str | None):
    """The PromptpaintError for a refusal the class gateway made itself (its
    ``x-promptpaint-refusal`` header), or None to read it as the provider's own error."""
    from ..errors import AccessError, AuthError, BudgetExceeded

    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = str(err.get("message") or code)
    kw = dict(provider=provider, request_id=request_id)
    if code == "budget_exceeded":
        e = BudgetExceeded(message, hint="The class gateway keeps this cap: ask the teacher to raise it; "
                           "pp.ledger() shows what is left.", **kw)
    elif code in ("missing_token", "invalid_token"):
        e = AuthError(message, hint=f"Set {TOKEN_ENVS[0]} to the gateway token your teacher gave you.", **kw)
    elif code == "provider_not_configured":
        e = AuthError(message, hint="The key goes in the gateway's environment, which only the teacher "
                      "can change.", **kw)
    elif code in ("model_not_allowed", "setting_not_allowed"):
        e = AccessError(message, hint="The class gateway prices every call: choose a model and settings "
                        "`promptpaint models` lists with a price.", **kw)
    else:
        return None
    e.retryable = False
    return e
