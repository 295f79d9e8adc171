"""What both providers' stream readers share: a broken stream is a billed-maybe error, a
preview callback never loses a call, and each event is a JSON object.

Each reader (``providers/openai/stream.py``, ``providers/gemini/stream.py``) hands every preview
to ``on_preview(image_bytes, index)`` as it arrives and returns the final answer body, so the
non-streamed parsing (usage, refusals, turns) applies unchanged. A stream that reports an error,
or ends before its final image, raises ``ProviderError`` with ``maybe_billed=True``: the provider
may have done (and billed) the work, and a preview is never taken for the result.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Callable

from ..errors import ProviderError
from ..sse import Event

log = logging.getLogger("promptpaint")

OnPreview = Callable[[bytes, int], None]
CUT_OFF_HINT = "The call may have been billed; it was not retried. Try again."
#: A preview whose base64 is longer than this is skipped, never decoded (a 4K draft is ~30 MB).
PREVIEW_LIMIT = 40 * 2**20


class Previews:
    """The previews of one stream: at most ``asked`` shown, each at most ``PREVIEW_LIMIT``; the
    rest neither decoded nor shown (nor, for a provider that bills previews, booked: ``counted``
    counts those delivered or skipped for size, up to ``asked``)."""

    def __init__(self, provider: str, on_preview: "OnPreview | None", asked: int, request_id=None,
                 limit: int | None = None):
        self.provider, self.on_preview, self.asked = provider, on_preview, max(0, int(asked))
        self.request_id, self.limit = request_id, PREVIEW_LIMIT if limit is None else limit
        self.seen = 0       # every preview the stream sent
        self.counted = 0    # those within what was asked

    def offer(self, b64) -> None:
        """One streamed preview (its base64 text): shown if it is among those asked and not too big."""
        self.seen += 1
        if self.counted >= self.asked:
            return  # beyond what was asked: not decoded, not shown, not counted
        index = self.counted
        self.counted += 1
        if not isinstance(b64, str) or not b64 or len(b64) > self.limit:
            if isinstance(b64, str) and len(b64) > self.limit:
                log.info("promptpaint: %s preview %d skipped (%d bytes of base64)", self.provider, index, len(b64))
            return
        try:
            data = base64.b64decode(b64, validate=True)
        except ValueError:
            raise broken(self.provider, f"{self.provider} streamed a preview with unreadable image data.",
                         self.request_id) from None
        deliver(self.on_preview, data, index)

    def skipped(self, size: int) -> None:
        """A preview dropped by the line reader for its size: counted as sent, never shown."""
        self.seen += 1
        if self.counted < self.asked:
            self.counted += 1
            log.info("promptpaint: %s preview skipped (%d bytes)", self.provider, size)


def broken(provider: str, message: str, request_id=None) -> ProviderError:
    return ProviderError(message, provider=provider, request_id=request_id, hint=CUT_OFF_HINT,
                         maybe_billed=True)


def deliver(on_preview: OnPreview | None, data: bytes, index: int) -> None:
    if on_preview is None:
        return
    try:
        on_preview(data, index)
    except Exception:  # a display callback must never lose a call that is being paid for
        log.exception("promptpaint: the preview callback failed")


def event_json(provider: str, ev: Event, request_id) -> dict:
    try:
        data = json.loads(ev.data)
    except ValueError:
        raise broken(provider, f"{provider} streamed an event that is not JSON.", request_id) from None
    if not isinstance(data, dict):
        raise broken(provider, f"{provider} streamed an event that is not a JSON object.", request_id)
    return data


def error_message(data: dict) -> str:
    err = data.get("error")
    if isinstance(err, dict):
        return str(err.get("message") or err.get("code") or "an error occurred during streaming")
    return str(err or data.get("message") or "an error occurred during streaming")
