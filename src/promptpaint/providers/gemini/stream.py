"""Gemini's ``streamGenerateContent?alt=sse`` stream read into one ``GenerateContentResponse``.

Wire format (checked against google-genai's ``_api_client`` stream reader): each ``data:``
line is a whole ``GenerateContentResponse``. Image parts with ``thought: true`` are the model's
interim drafts (previews); the result is the last non-thought image; ``usageMetadata`` is
cumulative, so the last chunk's is the call's usage (summing the chunks would count the prompt
again and again).
"""

from __future__ import annotations

import base64
from typing import Iterable

from ...sse import Event
from ..streams import OnPreview, broken, deliver, error_message, event_json


def read_gemini(events: Iterable[Event], on_preview: OnPreview | None = None,
                request_id: str | None = None) -> dict:
    """A Gemini ``streamGenerateContent`` SSE stream as one ``GenerateContentResponse`` body."""
    parts: list[dict] = []
    finish = usage = feedback = None
    extra: dict = {}
    previews = 0
    for ev in events:
        chunk = event_json("gemini", ev, request_id)
        if chunk.get("error"):
            raise broken("gemini", f"Gemini's stream reported an error: {error_message(chunk)}", request_id)
        for key in ("modelVersion", "responseId"):
            if key in chunk:
                extra[key] = chunk[key]
        if chunk.get("usageMetadata"):
            usage = chunk["usageMetadata"]
        feedback = chunk.get("promptFeedback") or feedback
        for cand in chunk.get("candidates") or []:
            if cand.get("index", 0) != 0:
                continue
            for part in (cand.get("content") or {}).get("parts") or []:
                inline = part.get("inlineData") or part.get("inline_data")
                if part.get("thought") and inline and inline.get("data"):
                    try:
                        deliver(on_preview, base64.b64decode(inline["data"], validate=True), previews)
                    except ValueError:
                        raise broken("gemini", "Gemini streamed a preview with unreadable image data.",
                                      request_id) from None
                    previews += 1
                _append(parts, part)
            finish = cand.get("finishReason") or finish
    if finish is None and feedback is None:
        raise broken("gemini", "Gemini's stream ended before the answer was finished "
                      f"(after {previews} preview(s)); previews are not kept as the result.", request_id)
    body: dict = {**extra}
    if finish is not None or parts:
        body["candidates"] = [{"content": {"role": "model", "parts": parts}, "finishReason": finish,
                               "index": 0}]
    if feedback:
        body["promptFeedback"] = feedback
    if usage:
        body["usageMetadata"] = usage
    body["previews"] = previews
    return body


def _append(parts: list[dict], part: dict) -> None:
    """Text arrives in pieces across chunks: join a piece onto the text part before it."""
    prev = parts[-1] if parts else None
    if (prev is not None and "text" in part and "text" in prev and set(part) <= {"text", "thought"}
            and prev.get("thought") == part.get("thought")):
        parts[-1] = {**prev, "text": prev["text"] + part["text"]}
    else:
        parts.append(dict(part))
