"""What the providers that speak HTTP share: a connection over a ``Transport`` (retries, timeouts,
errors read by the provider's own ``classify``, the key kept out of every message)."""

from __future__ import annotations

from ..transport import Transport
from .base import Provider


class HTTPProvider(Provider):
    """A provider reached over HTTP with a key; subclasses take ``(transport, key, base_url)``."""

    @classmethod
    def connect(cls, key, base_url: str, retry, timeout: float) -> "HTTPProvider":
        return cls(cls.transport(key, retry=retry, timeout=(10.0, timeout)), key, base_url)

    @classmethod
    def transport(cls, key, **options) -> Transport:
        """A Transport that reads this provider's errors, waits and request ids, keeping ``key``
        out of every message."""
        return Transport(cls.name, (key,), cls.classify, cls.retry_delay,
                         request_id_headers=cls.request_id_headers, **options)
