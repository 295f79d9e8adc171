"""What both providers' Batch API clients share: a job's state in one vocabulary, and plain HTTP.

Batch requests go out once through ``Transport.once`` (no retries, no redirects): creating a job
twice would bill twice, and a status poll or a download that fails is simply asked again later by
the caller. A failure is read as the Transport reads it: ``maybe_billed`` when the request may
have arrived.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import ProviderError
from ..transport import Transport

# One vocabulary for both providers' job states.
PENDING, RUNNING, COMPLETED, FAILED, CANCELLING, CANCELLED, EXPIRED = (
    "pending", "running", "completed", "failed", "cancelling", "cancelled", "expired")
TERMINAL = {COMPLETED, FAILED, CANCELLED, EXPIRED}


@dataclass
class Remote:
    """A batch job as the provider last described it."""

    id: str
    state: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    error: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        return self.state in TERMINAL


def call(transport: Transport, method: str, url: str, *, headers: dict, json=None, data=None, files=None,
         stream: bool = False):
    """One request through the Transport, never retried and never redirected (a 307 from a poll
    must not carry the key to another host); a failure is the provider's own promptpaint error,
    without the key."""
    return transport.once(method, url, headers=headers, json=json, data=data, files=files, stream=stream)


def body_of(resp, provider: str) -> dict:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderError(f"{provider}'s Batch API answered with something that is not a JSON object.",
                            provider=provider, status=resp.status_code, maybe_billed=resp.status_code < 300)
    return body


@dataclass
class BadLine:
    """A line of a batch's output that could not be read: its number and why."""

    number: int
    why: str


def jsonl(resp) -> Iterator[dict | BadLine]:
    """The lines of a streamed JSONL answer, one at a time: a batch's images never all in memory.
    A line that is not a JSON object comes as a ``BadLine``: one bad line loses only itself."""
    try:
        for number, line in enumerate(resp.iter_lines(chunk_size=1 << 16), 1):
            if not line.strip():
                continue
            try:
                item = jsonlib.loads(line)
            except ValueError:
                yield BadLine(number, "not JSON")
                continue
            yield item if isinstance(item, dict) else BadLine(number, f"a JSON {type(item).__name__}, not an object")
    finally:
        resp.close()


def line_error(provider: str, why: str) -> ProviderError:
    """The error for a result line that could not be read. The provider ran (and may have billed)
    it: its cost is unknown, so its worst case keeps counting."""
    return ProviderError(f"{provider}'s answer for this line could not be read ({why}).", provider=provider,
                         hint="The other lines are collected; this one may have been billed.", maybe_billed=True)


def read_line(provider: str, read, line, n_in: int):
    """What one result line says, ``read(line, n_in)``; a line whose shape is not what the provider
    documents is that line's error, and the other lines are still collected."""
    try:
        return read(line, n_in)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        return line_error(provider, f"{type(exc).__name__}: {exc}")
