"""What the providers that speak HTTP share: a connection over a ``Transport`` (retries, timeouts,
errors read by the provider's own ``classify``, the key kept out of every message)."""

from __future__ import annotations

from ..transport import Transport
from .base import Provider


class HTTPProvider(Provider):
    """A provider reached over HTTP with a key; subclasses take ``(transport, key, base_url)``."""

    @classmethod
    def connect(cls, key, base_url: str, retry, timeout: float) -> "HTTPProvider":
        transport = Transport(cls.name, (key,), cls.classify, cls.retry_delay, retry=retry,
                              timeout=(10.0, timeout))
        return cls(transport, key, base_url)
