"""OpenAI's image stream read into the body a non-streamed call returns.

Wire format (checked against openai-python's ``_streaming.py`` and ``ImageGenStreamEvent`` /
``ImageEditStreamEvent``): ``event: image_generation.partial_image`` (edits:
``image_edit.partial_image``) with ``b64_json`` and ``partial_image_index``; then ``*.completed``
with ``b64_json`` and ``usage`` (no ``output_tokens_details``). An ``event: error``, or any event
whose data has an ``error`` key, is a failure; ``data: [DONE]`` ends the stream.
"""

from __future__ import annotations

import base64
from typing import Iterable

from ...sse import Event
from ..streams import OnPreview, broken, deliver, error_message, event_json


def read_openai(events: Iterable[Event], on_preview: OnPreview | None = None,
                request_id: str | None = None) -> dict:
    """An OpenAI image stream as ``{"data": [{"b64_json"}...], "usage", "partial_images"}``."""
    images, usage, partials = [], None, 0
    for ev in events:
        if ev.data.strip() == "[DONE]":
            break
        data = event_json("openai", ev, request_id)
        kind = ev.event or data.get("type") or ""
        if kind == "error" or data.get("error") or data.get("type") == "error":
            raise broken("openai", f"OpenAI's stream reported an error: {error_message(data)}", request_id)
        if kind.endswith(".partial_image"):
            try:
                preview = base64.b64decode(data["b64_json"], validate=True)
            except (KeyError, TypeError, ValueError):
                raise broken("openai", "OpenAI streamed a preview with unreadable image data.",
                              request_id) from None
            partials += 1
            deliver(on_preview, preview, int(data.get("partial_image_index", partials - 1)))
        elif kind.endswith(".completed"):
            images.append({"b64_json": data.get("b64_json")})
            if data.get("usage"):
                usage = data["usage"]  # each completed event carries the call's usage so far
    if not images:
        raise broken("openai", "OpenAI's stream ended before the final image arrived "
                      f"(after {partials} preview(s)); previews are not kept as the result.", request_id)
    return {"data": images, "usage": usage, "partial_images": partials}
