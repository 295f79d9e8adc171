"""What both providers' Batch API clients share: a job's state in one vocabulary, and plain HTTP.

Batch requests go out once, without the Transport's retries: creating a job twice would bill
twice, and a status poll or a download that fails is simply asked again later by the caller. A
failure is read as the Transport reads it: ``maybe_billed`` when the request may have arrived.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import Iterator

import requests

from ..errors import ProviderError
from ..transport import Transport, scrub

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
         stream: bool = False) -> requests.Response:
    """One HTTP request; a failure becomes the provider's own promptpaint error, without the key."""
    try:
        resp = transport.session.request(method, url, headers=headers, json=json, data=data, files=files,
                                         timeout=transport.timeout, stream=stream)
    except requests.exceptions.RequestException as exc:
        # The Transport's reading: maybe_billed when the request may have reached the provider.
        err, _ = transport._failure(exc, url)
        raise err from None
    if resp.status_code >= 400:
        try:
            body = resp.json()
        except ValueError:
            body = {"_text": resp.text[:500]}
        rid = transport.request_id(resp.headers)
        err = transport.classify(resp.status_code, body if isinstance(body, dict) else {}, resp.headers, rid)
        err.message = scrub(err.message, transport.secrets)
        raise err
    return resp


def body_of(resp: requests.Response, provider: str) -> dict:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderError(f"{provider}'s Batch API answered with something that is not a JSON object.",
                            provider=provider, status=resp.status_code, maybe_billed=resp.status_code < 300)
    return body


def jsonl(resp: requests.Response) -> Iterator[dict]:
    """The lines of a streamed JSONL answer, one at a time: a batch's images never all in memory."""
    try:
        for line in resp.iter_lines(chunk_size=1 << 16):
            if line.strip():
                try:
                    yield jsonlib.loads(line)
                except ValueError:
                    raise ProviderError("A line of the batch's output file is not JSON.",
                                        hint="Ask for the results again; lines already collected are kept.") from None
    finally:
        resp.close()
