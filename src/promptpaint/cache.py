"""The call cache and single-flight: an identical earlier call's images at $0, and identical
calls in flight at once make one request.

A cached answer is keyed by everything that shapes the picture: the account (provider, base URL
without credentials, a hash of the key, so one account or gateway never answers another's), the
model, the kind, the prompt, the checked parameters, and the inputs' bytes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from decimal import Decimal
from typing import Callable

from . import pricing
from .ledger import Attempt, Ledger
from .result import Result
from .store import ImageStore, encode_png, sha256


class SingleFlight:
    """Identical cached calls in flight at once make one request; the others wait for its answer."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}

    def enter(self, key: str) -> threading.Event | None:
        """None: the caller makes the request (and must ``leave``). Else an event to wait on."""
        with self._lock:
            running = self._running.get(key)
            if running is None:
                self._running[key] = threading.Event()
            return running

    def leave(self, key: str) -> None:
        with self._lock:
            self._running.pop(key).set()


IN_FLIGHT = SingleFlight()


def key_of(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def call_key(account, model_id: str, kind: str, call, preserve: bool, feather: int) -> str:
    """The cache key of a prepared call (``call`` is a ``providers.Call``)."""
    inputs = [sha256(e) if isinstance(e, bytes) else e.uri for e in call.images]
    return key_of(*account, model_id, kind, call.prompt, call.params, inputs,
                  sha256(encode_png(call.mask)) if call.mask is not None else None,
                  sha256(encode_png(call.markup)) if call.markup is not None else None,
                  preserve, feather)


def lookup(ledger: Ledger, store: ImageStore, key: str, attempt: Attempt, offline: bool) -> Result | None:
    """The cached answer for ``key`` booked as a $0 call, or None (never cached, or its images
    are no longer in the store)."""
    hit = ledger.cache_get(key)
    if not hit:
        return None
    paths = [store.find(i) for i in hit["ids"]]
    if any(p is None for p in paths):
        return None
    row = ledger.reserve(attempt, Decimal(0), [])
    ledger.settle(row, status="cached", cost=Decimal(0), usage=hit["usage"], images=hit["ids"], duration=0.0)
    return Result(prompt=attempt.prompt, provider=attempt.provider, model=attempt.model,
                  kind=attempt.kind, params=attempt.params, ids=hit["ids"], paths=paths,
                  text=hit["text"], usage=pricing.Usage(**hit["usage"]), cost=Decimal(0),
                  cached=True, ledger_id=row, offline=offline)


def remember(ledger: Ledger, key: str, result: Result) -> None:
    ledger.cache_put(key, {"ids": result.ids, "text": result.text, "usage": result.usage.as_dict()})


def once(key: str, cached: Callable[[], Result | None], run: Callable[[], Result]) -> Result:
    """``cached()`` if it has the answer, else ``run()``; concurrent callers with one key wait
    for the first one's answer instead of paying again."""
    while True:
        hit = cached()
        if hit is not None:
            return hit
        running = IN_FLIGHT.enter(key)
        if running is None:
            break
        running.wait()  # the same call is being made: its answer lands in the cache
    try:
        hit = cached()
        return hit if hit is not None else run()
    finally:
        IN_FLIGHT.leave(key)
