"""Who is calling: from the credential alone, never from anything else the client sends.

The token travels where each SDK puts its key: ``Authorization: Bearer …`` (OpenAI) or
``x-goog-api-key: …`` (google-genai). A ``ppg_`` token is looked up by its hash in the ledger
(a revoked one stops at once: no cache). With ``--jupyterhub``, any other token is asked of the
Hub with its own ``HubAuth``, and the user is the Hub's name for it.
"""

from __future__ import annotations

import os

from . import tokens


def credential(headers) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-goog-api-key", "").strip()
    return key or None


class Auth:
    def __init__(self, ledger, *, hub: bool = False):
        self.ledger = ledger
        self.hub = None
        if hub:
            self.hub = hub_auth()

    def user(self, token: str) -> str | None:
        """The user ``token`` belongs to, or None (blocking: run it off the event loop)."""
        if token.startswith(tokens.PREFIX):
            return tokens.user_for(self.ledger, token)
        if self.hub is not None:
            model = self.hub.user_for_token(token, use_cache=True, sync=True)
            if not model or model.get("kind", "user") != "user" or not model.get("name"):
                return None
            # The Hub's own rule for this service: the token must carry access:services!service=NAME.
            if self.hub.access_scopes and not self.hub.check_scopes(self.hub.access_scopes, model):
                return None
            return str(model["name"])
        return None


def hub_auth():
    """jupyterhub's own HubAuth, configured from the environment the Hub gives a service
    (JUPYTERHUB_API_TOKEN, JUPYTERHUB_API_URL)."""
    try:
        from jupyterhub.services.auth import HubAuth
    except ImportError:
        from ..errors import InvalidRequest

        raise InvalidRequest("--jupyterhub needs jupyterhub installed beside the gateway: "
                             "pip install 'promptpaint[hub]'.") from None
    if not os.environ.get("JUPYTERHUB_API_TOKEN"):
        from ..errors import InvalidRequest

        raise InvalidRequest("--jupyterhub: JUPYTERHUB_API_TOKEN is not set. Run the gateway as a Hub "
                             "service (c.JupyterHub.services in jupyterhub_config.py), which sets it.")
    return HubAuth(cache_max_age=60)
