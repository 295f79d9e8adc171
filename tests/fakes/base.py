"""What every provider fake shares: its queue of faults, its bill, and the faults that strike the
same way whatever the wire format (a body that is not JSON, cut short, lost, or with odd counts)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal

from .wire import Answer, RecordedRequest

ODD_USAGE = ("fraction", "string", "null", "negative", "huge")
# Faults that strike after the provider did (and billed) the work: the answer is lost or garbled.
#   truncated: the body is cut off (mode "close_early" or "cut_json"); drop_after_read: the
#   connection closes without an answer; odd_usage: kind= one of ODD_USAGE in the usage counts.
BILLED_FAULTS = {"truncated", "drop_after_read", "odd_usage"}


@dataclass
class Bill:
    """One call as the provider books it: what it charged, whether or not the client heard back."""

    provider: str
    model: str
    request_id: str
    usage: dict  # the honest counts, in the provider's own wire names
    cost: Decimal
    fault: str | None = None


def billed_fault(name: str | None, kw: dict) -> bool:
    return name in BILLED_FAULTS and not (name == "truncated" and "body" in kw)


def odd_usage(usage: dict, kind: str, output_key: str) -> None:
    """Report the counts the way a broken gateway might. ``fraction`` shaves half a token off each
    count (the honest bill is the count rounded up); ``string`` quotes them; ``null``, ``negative``
    and ``huge`` break the output count, which a client must not trust."""
    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, int) and not isinstance(v, bool):
                    node[k] = (v - 0.5 if v else 0.0) if kind == "fraction" else str(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    if kind in ("fraction", "string"):
        walk(usage)
        return
    usage[output_key] = {"null": None, "negative": -abs(usage.get(output_key) or 1), "huge": 10 ** 13}[kind]


class ProviderFake:
    """One provider's API on the shared server. A subclass owns its routes, wire format, prices and
    fault answers; ``fake`` is the FakeProviders whose keys, knobs and records it uses."""

    name: str
    FAULTS: tuple[str, ...]
    DEFAULT_USAGE: dict             # token-count overrides a fresh fake starts with (usually none)
    OUTCOME_FAULTS: frozenset[str]  # faults answered after validation, as the outcome of the work
    USAGE_KEY: str                  # where a JSON answer carries its usage counts
    OUTPUT_COUNT: str               # the usage count ``odd_usage`` null/negative/huge breaks

    def __init__(self, fake):
        self.fake = fake

    # -- what a subclass answers
    def owns(self, path: str) -> bool:
        raise NotImplementedError

    def handle(self, req: RecordedRequest) -> Answer:
        raise NotImplementedError

    def cost(self, model: str, usage: dict) -> Decimal:
        """USD for these counts at the provider's list prices."""
        raise NotImplementedError

    def truncated_body(self) -> dict:
        raise NotImplementedError

    def headers(self, req: RecordedRequest) -> dict:
        """Headers the provider adds to every answer of its API."""
        return {}

    def stream_events(self, req: RecordedRequest, answer: Answer) -> list:
        """The complete streamed ``answer`` as the (event name, data) pairs the real API sends."""
        raise NotImplementedError

    def stream_error(self) -> tuple:
        raise NotImplementedError

    def stream_event(self, name: str | None, data: dict) -> bytes:
        """One server-sent event as the provider frames it."""
        return ((f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n").encode()

    # -- shared
    def pop_fault(self, req: RecordedRequest) -> tuple[str | None, dict]:
        name, kw = self.fake._pop_fault(self.name) or (None, {})
        req.fault = name
        return name, kw

    def bill(self, model: str, request_id: str, usage: dict, fault: str | None) -> None:
        cost = self.cost(model, usage) / 1_000_000
        with self.fake._lock:
            self.fake.billed.append(Bill(self.name, model, request_id, usage, cost, fault))

    @staticmethod
    def sleep(name: str | None, kw: dict) -> None:
        if name == "slow":
            time.sleep(kw.get("seconds", 1.0))

    def answers_before_validation(self, name: str | None, kw: dict) -> bool:
        """Transport/HTTP faults answer before the request is judged; outcome and billed faults after."""
        return bool(name) and name not in self.OUTCOME_FAULTS and name != "slow" and not billed_fault(name, kw)

    def mangle(self, answer: Answer, name: str | None, kw: dict) -> Answer:
        """Apply a fault that strikes after the work was done (and billed)."""
        if not billed_fault(name, kw):
            return answer
        # A streamed answer (no JSON body) breaks the same ways: streams.py turns these into a
        # connection lost before or during the events.
        if name == "drop_after_read":
            answer.drop = True
        elif name == "truncated":
            answer.truncate = kw.get("mode", "close_early")
        elif name == "odd_usage" and answer.json is not None:
            body = json.loads(json.dumps(answer.json))
            odd_usage(body[self.USAGE_KEY], kw.get("kind", "string"), self.OUTPUT_COUNT)
            answer = Answer(answer.status, body, headers=answer.headers, content_type=answer.content_type)
        return answer

    def common_fault(self, name: str, kw: dict) -> Answer:
        if name == "non_json":
            body = kw.get("body", "<html><head><title>Gateway</title></head><body><h1>Service "
                                  "temporarily unavailable</h1><p>Please try again.</p></body></html>")
            return Answer(kw.get("status", 200), body, content_type=kw.get("content_type", "text/html; charset=utf-8"))
        if name == "truncated":
            return Answer(200, kw.get("body") or self.truncated_body(), truncate=kw.get("mode", "close_early"))
        if name == "status":
            body = kw.get("body", {})
            ctype = kw.get("content_type", "application/json" if isinstance(body, (dict, list)) else "text/plain")
            return Answer(kw.get("code", 500), body, headers=kw.get("headers"), content_type=ctype)
        raise AssertionError(name)  # pragma: no cover
