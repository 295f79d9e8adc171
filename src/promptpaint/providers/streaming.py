"""Read the providers' streamed answers into the same body a non-streamed call returns.

Each reader hands every preview to ``on_preview(image_bytes, index)`` as it arrives and returns
the final answer body, so the non-streamed parsing (usage, refusals, turns) applies unchanged.
A stream that reports an error, or ends before its final image, raises ``ProviderError`` with
``maybe_billed=True``: the provider may have done (and billed) the work, and a preview is never
taken for the result.

Wire formats (checked against openai-python's ``_streaming.py`` and ``ImageGenStreamEvent`` /
``ImageEditStreamEvent``, and google-genai's ``_api_client`` stream reader):

- OpenAI: ``event: image_generation.partial_image`` (edits: ``image_edit.partial_image``) with
  ``b64_json`` and ``partial_image_index``; then ``*.completed`` with ``b64_json`` and ``usage``
  (no ``output_tokens_details``). An ``event: error``, or any event whose data has an ``error``
  key, is a failure; ``data: [DONE]`` ends the stream.
- Gemini ``streamGenerateContent?alt=sse``: each ``data:`` line is a whole
  ``GenerateContentResponse``. Image parts with ``thought: true`` are the model's interim drafts
  (previews); the result is the last non-thought image; ``usageMetadata`` is cumulative, so the
  last chunk's is the call's usage (summing the chunks would count the prompt again and again).
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Callable, Iterable

from ..errors import ProviderError
from ..sse import Event

log = logging.getLogger("promptpaint")

OnPreview = Callable[[bytes, int], None]
CUT_OFF_HINT = "The call may have been billed; it was not retried. Try again."


def _broken(provider: str, message: str, request_id=None) -> ProviderError:
    return ProviderError(message, provider=provider, request_id=request_id, hint=CUT_OFF_HINT,
                         maybe_billed=True)


def _deliver(on_preview: OnPreview | None, data: bytes, index: int) -> None:
    if on_preview is None:
        return
    try:
        on_preview(data, index)
    except Exception:  # a display callback must never lose a call that is being paid for
        log.exception("promptpaint: the preview callback failed")


def _json(provider: str, ev: Event, request_id) -> dict:
    try:
        data = json.loads(ev.data)
    except ValueError:
        raise _broken(provider, f"{provider} streamed an event that is not JSON.", request_id) from None
    if not isinstance(data, dict):
        raise _broken(provider, f"{provider} streamed an event that is not a JSON object.", request_id)
    return data


def _error_message(data: dict) -> str:
    err = data.get("error")
    if isinstance(err, dict):
        return str(err.get("message") or err.get("code") or "an error occurred during streaming")
    return str(err or data.get("message") or "an error occurred during streaming")


def read_openai(events: Iterable[Event], on_preview: OnPreview | None = None,
                request_id: str | None = None) -> dict:
    """An OpenAI image stream as ``{"data": [{"b64_json"}...], "usage", "partial_images"}``."""
    images, usage, partials = [], None, 0
    for ev in events:
        if ev.data.strip() == "[DONE]":
            break
        data = _json("openai", ev, request_id)
        kind = ev.event or data.get("type") or ""
        if kind == "error" or data.get("error") or data.get("type") == "error":
            raise _broken("openai", f"OpenAI's stream reported an error: {_error_message(data)}", request_id)
        if kind.endswith(".partial_image"):
            try:
                preview = base64.b64decode(data["b64_json"], validate=True)
            except (KeyError, TypeError, ValueError):
                raise _broken("openai", "OpenAI streamed a preview with unreadable image data.",
                              request_id) from None
            partials += 1
            _deliver(on_preview, preview, int(data.get("partial_image_index", partials - 1)))
        elif kind.endswith(".completed"):
            images.append({"b64_json": data.get("b64_json")})
            if data.get("usage"):
                usage = data["usage"]  # each completed event carries the call's usage so far
    if not images:
        raise _broken("openai", "OpenAI's stream ended before the final image arrived "
                      f"(after {partials} preview(s)); previews are not kept as the result.", request_id)
    return {"data": images, "usage": usage, "partial_images": partials}


def read_gemini(events: Iterable[Event], on_preview: OnPreview | None = None,
                request_id: str | None = None) -> dict:
    """A Gemini ``streamGenerateContent`` SSE stream as one ``GenerateContentResponse`` body."""
    parts: list[dict] = []
    finish = usage = feedback = None
    extra: dict = {}
    previews = 0
    for ev in events:
        chunk = _json("gemini", ev, request_id)
        if chunk.get("error"):
            raise _broken("gemini", f"Gemini's stream reported an error: {_error_message(chunk)}", request_id)
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
                        _deliver(on_preview, base64.b64decode(inline["data"], validate=True), previews)
                    except ValueError:
                        raise _broken("gemini", "Gemini streamed a preview with unreadable image data.",
                                      request_id) from None
                    previews += 1
                _append(parts, part)
            finish = cand.get("finishReason") or finish
    if finish is None and feedback is None:
        raise _broken("gemini", "Gemini's stream ended before the answer was finished "
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
