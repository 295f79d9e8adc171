"""``promptpaint models --check`` and ``pp.models(check=True)``: ask each provider which models the
configured key reaches, and set the answer against the registry (``registry_reach``).

The request goes through the provider's own connection (its Transport: no redirects, the key
scrubbed from every message), to the configured base URL — a class gateway's too, when the kernel
goes through one (``config.base_url`` and ``config.find_key`` say where and with what).
"""

from __future__ import annotations

from . import config, providers, redact, registry_reach
from .errors import AuthError, InvalidRequest
from .transport import RetryPolicy


class Checked(list):
    """The rows of ``registry_reach.reach`` (dicts with ``id``, ``provider``, ``reachable``,
    ``priced``, ``known``, ``status``, ``successor``, ``default``, ``user_file``), plus
    ``skipped``: provider -> why it was not asked (no key)."""

    skipped: dict

    @property
    def defaults_reachable(self) -> bool:
        return registry_reach.defaults_reachable(self)


def connect(name: str, timeout: float = 30.0):
    """A connection to provider ``name`` with the configured key and base URL; AuthError without a
    key (its message names the variable to set)."""
    cls = providers.provider_class(name)
    key, key_from = config.find_key(name)
    if not key:
        raise AuthError(f"No {name} API key: set {key_from}.", provider=name)
    redact.register(key)  # before anything is sent, so no message can show it
    problem = config.key_problem(key)
    if problem:
        raise AuthError(f"The {name} API key from {key_from} {problem}.", provider=name,
                        hint=f"Copy the key again, as plain text, into {key_from}.")
    url = config.base_url(name)
    redact.register_url(url)
    base = redact.SecretURL(config.check_base_url(name, url, config.BASE_URL_ENV[name]))
    return cls.connect(redact.Secret(key), base, RetryPolicy(), timeout)


def check(names: list[str] | None = None, *, timeout: float = 30.0) -> Checked:
    """Ask each provider in ``names`` (default: every provider with a key configured) for its model
    list. A provider named explicitly without a key raises AuthError; one left to the default is
    skipped and said so in ``.skipped``. Errors from the provider (a rejected key) raise."""
    unknown = [n for n in names or () if n not in providers.NAMES]
    if unknown:
        raise InvalidRequest(f"Unknown provider {unknown[0]!r}: use one of {', '.join(providers.NAMES)}.",
                             param="provider")
    asked = names or [c.name for c in providers.all_providers() if not c.offline]
    reached, skipped = {}, {}
    for name in asked:
        cls = providers.provider_class(name)
        if cls.offline:
            skipped[name] = "needs no key and reaches every offline model"
            continue
        if not names and not config.find_key(name)[0]:
            skipped[name] = f"no key ({config.find_key(name)[1]})"
            continue
        conn = connect(name, timeout)
        # Text, audio and embedding models are no news to an image tool: keep what the registry
        # knows, and the image models it does not.
        known = {n for m in _registry_models(name) for n in registry_reach._names(m)}
        reached[name] = [i for i in conn.list_models() if i in known or cls.image_model(i)]
    out = Checked(registry_reach.reach(reached))
    out.skipped = skipped
    return out


def _registry_models(provider: str) -> list[str]:
    from . import registry

    return [m.id for m in registry.all_models() if m.provider == provider]
