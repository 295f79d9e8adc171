"""The upstream call: the student's bytes to the provider with the teacher's key, the provider's
bytes back to the student as they arrive, and the booking when it is over.

The student's credential never goes upstream: only the headers listed here are passed, and the
provider's key is added. The key is scrubbed from anything that comes back (an upstream 401 is
replaced by the gateway's own message: OpenAI echoes part of the key in it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

import anyio
import httpx
from starlette.responses import Response


log = logging.getLogger("promptpaint.gateway")

PASSED_HEADERS = ("content-type", "accept")
ANSWER_HEADERS = ("content-type", "x-request-id", "retry-after", "retry-after-ms")


@dataclass
class Upstream:
    """One provider as the gateway calls it: its reader, base URL and the teacher's key."""

    reader: object
    base_url: str
    key: str | None

    def headers(self, request_headers) -> dict:
        out = {k: request_headers[k] for k in PASSED_HEADERS if k in request_headers}
        out.update(self.reader.auth_headers(str(self.key)))
        return out

    def scrub(self, data: bytes) -> bytes:
        if self.key and self.key.encode() in data:
            data = data.replace(self.key.encode(), b"[key]")
        return data


def answer_headers(resp: httpx.Response) -> dict:
    return {k: resp.headers[k] for k in ANSWER_HEADERS if k in resp.headers}


def request_id(resp: httpx.Response) -> str | None:
    return resp.headers.get("x-request-id") or resp.headers.get("x-goog-request-id")


# What a finished call reports to the booking: the answer's bytes, whether it arrived whole, and
# what went wrong if not.
Done = Callable[[bytes, bool, str | None], Awaitable[None]]


class Relay(Response):
    """An upstream SSE stream passed through chunk by chunk. When it ends (whole, cut off, or
    the student gone) ``done`` books it; a disconnect is noticed from the ASGI receive channel."""

    def __init__(self, upstream: httpx.Response, done: Done, scrub: Callable[[bytes], bytes]):
        # Not Response.__init__: it would add "content-length: 0" for the empty initial body.
        self.status_code, self.background = upstream.status_code, None
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer_headers(upstream).items()]
        self.upstream, self.done, self._scrub = upstream, done, scrub

    async def __call__(self, scope, receive, send) -> None:
        chunks: list[bytes] = []
        complete, problem = False, None
        async with anyio.create_task_group() as tg:
            async def watch():
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(watch)
            try:
                await send({"type": "http.response.start", "status": self.status_code,
                            "headers": self.raw_headers})
                async for chunk in self.upstream.aiter_raw():
                    chunks.append(chunk)
                    await send({"type": "http.response.body", "body": self._scrub(chunk), "more_body": True})
                complete = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except anyio.get_cancelled_exc_class():
                problem = "the student disconnected before the answer was complete" if not complete else None
                raise
            except httpx.HTTPError as exc:
                problem = f"the provider's stream broke: {type(exc).__name__}"
            except OSError as exc:  # the student's connection went away mid-send
                problem = f"the stream to the student was cut off: {type(exc).__name__}"
            finally:
                tg.cancel_scope.cancel()
                with anyio.CancelScope(shield=True):
                    await self.upstream.aclose()
                    await self.done(b"".join(chunks), complete, problem)
