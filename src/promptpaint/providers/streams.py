"""What both providers' stream readers share: a broken stream is a billed-maybe error, a
preview callback never loses a call, and each event is a JSON object.

Each reader (``providers/openai/stream.py``, ``providers/gemini/stream.py``) hands every preview
to ``on_preview(image_bytes, index)`` as it arrives and returns the final answer body, so the
non-streamed parsing (usage, refusals, turns) applies unchanged. A stream that reports an error,
or ends before its final image, raises ``ProviderError`` with ``maybe_billed=True``: the provider
may have done (and billed) the work, and a preview is never taken for the result.
"""

from __future__ import annotations

import json
import logging
from typing import Callable

from ..errors import ProviderError
from ..sse import Event

log = logging.getLogger("promptpaint")

OnPreview = Callable[[bytes, int], None]
CUT_OFF_HINT = "The call may have been billed; it was not retried. Try again."


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
