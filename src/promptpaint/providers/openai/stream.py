"""OpenAI's image stream read into the body a non-streamed call returns.

Wire format (checked against openai-python's ``_streaming.py`` and ``ImageGenStreamEvent`` /
``ImageEditStreamEvent``): ``event: image_generation.partial_image`` (edits:
``image_edit.partial_image``) with ``b64_json`` and ``partial_image_index``; then ``*.completed``
with ``b64_json`` and ``usage`` (no ``output_tokens_details``). An ``event: error``, or any event
whose data has an ``error`` key, is a failure; ``data: [DONE]`` ends the stream.
"""

from __future__ import annotations

from typing import Iterable

from ...sse import Event
from ..streams import OnPreview, Previews, broken, error_message, event_json


def read_openai(events: Iterable[Event], on_preview: OnPreview | None = None,
                request_id: str | None = None, asked: int | None = None, watch=None) -> dict:
    """An OpenAI image stream as ``{"data": [{"b64_json"}...], "usage", "partial_images"}``.

    At most ``asked`` previews are shown and counted in ``partial_images`` (the ones billed, as
    far as this call is concerned); ``watch.beat()`` is called on every event, so a stream of
    keep-alives alone ends at its timeout."""
    images, usage = [], None
    previews = Previews("openai", on_preview, 10**9 if asked is None else asked, request_id)
    for ev in events:
        if watch is not None:
            watch.beat()
        if ev.skipped:  # a line too long to hold: a preview is passed over, anything else is lost
            if (ev.event or "").endswith(".partial_image"):
                previews.skipped(ev.skipped)
                continue
            raise broken("openai", f"OpenAI streamed an event of {ev.skipped:,} bytes, more than promptpaint "
                                   "reads; it was dropped.", request_id)
        if ev.data.strip() == "[DONE]":
            break
        data = event_json("openai", ev, request_id)
        kind = ev.event or data.get("type") or ""
        kind = kind if isinstance(kind, str) else ""
        if kind == "error" or data.get("error") or data.get("type") == "error":
            raise broken("openai", f"OpenAI's stream reported an error: {error_message(data)}", request_id)
        if kind.endswith(".partial_image"):
            previews.offer(data.get("b64_json"))
        elif kind.endswith(".completed"):
            images.append({"b64_json": data.get("b64_json")})
            if data.get("usage"):
                usage = data["usage"]  # each completed event carries the call's usage so far
    if not images:
        raise broken("openai", "OpenAI's stream ended before the final image arrived "
                      f"(after {previews.seen} preview(s)); previews are not kept as the result.", request_id)
    return {"data": images, "usage": usage, "partial_images": previews.counted}
