"""Gemini's ``streamGenerateContent?alt=sse`` stream read into one ``GenerateContentResponse``.

Wire format (checked against google-genai's ``_api_client`` stream reader): each ``data:``
line is a whole ``GenerateContentResponse``. Image parts with ``thought: true`` are the model's
interim drafts (previews); the result is the last non-thought image; ``usageMetadata`` is
cumulative, so the last chunk's is the call's usage (summing the chunks would count the prompt
again and again).
"""

from __future__ import annotations

from typing import Iterable

from ...sse import Event
from ..streams import OnPreview, Previews, broken, error_message, event_json


def read_gemini(events: Iterable[Event], on_preview: OnPreview | None = None,
                request_id: str | None = None, asked: int | None = None, watch=None) -> dict:
    """A Gemini ``streamGenerateContent`` SSE stream as one ``GenerateContentResponse`` body.

    A thought image is shown (the first ``asked`` of them) and dropped at once: only a signed one
    (a signature the conversation must return) is kept. ``watch.beat()`` on every event."""
    parts = _Parts()
    finish = usage = feedback = None
    extra: dict = {}
    previews = Previews("gemini", on_preview, 10**9 if asked is None else asked, request_id)
    skipped = 0
    for ev in events:
        if watch is not None:
            watch.beat()
        if ev.skipped:
            # Too long to hold: a thought image (passed over) or the answer itself (then the stream
            # ends without a finished answer, and says so below).
            skipped += ev.skipped
            previews.skipped(ev.skipped)
            continue
        chunk = event_json("gemini", ev, request_id)
        if chunk.get("error"):
            raise broken("gemini", f"Gemini's stream reported an error: {error_message(chunk)}", request_id)
        for key in ("modelVersion", "responseId"):
            if key in chunk:
                extra[key] = chunk[key]
        if chunk.get("usageMetadata"):
            usage = chunk["usageMetadata"]
        feedback = chunk.get("promptFeedback") or feedback
        candidates = chunk.get("candidates") or []
        for cand in candidates if isinstance(candidates, list) else []:
            if not isinstance(cand, dict) or cand.get("index", 0) != 0:
                continue
            content = cand.get("content") or {}
            for part in (content.get("parts") or []) if isinstance(content, dict) else []:
                if not isinstance(part, dict):
                    continue
                inline = part.get("inlineData") or part.get("inline_data")
                if part.get("thought") and isinstance(inline, dict) and inline.get("data"):
                    previews.offer(inline["data"])
                    if not part.get("thoughtSignature"):
                        continue  # shown; never the result, never replayed: not kept
                parts.append(part)
            finish = cand.get("finishReason") or finish
    if finish is None and feedback is None:
        more = f"; {skipped:,} bytes too long to read were dropped" if skipped else ""
        raise broken("gemini", "Gemini's stream ended before the answer was finished "
                      f"(after {previews.seen} preview(s){more}); previews are not kept as the result.",
                      request_id)
    body: dict = {**extra}
    if finish is not None or parts:
        body["candidates"] = [{"content": {"role": "model", "parts": parts.done()}, "finishReason": finish,
                               "index": 0}]
    if feedback:
        body["promptFeedback"] = feedback
    if usage:
        body["usageMetadata"] = usage
    body["previews"] = previews.seen
    return body


class _Parts:
    """The answer's parts as they stream in. Text arrives in pieces across chunks: a piece joins
    the text part before it, collected in a list and joined once (adding strings one by one is
    quadratic in a long answer)."""

    def __init__(self):
        self.parts: list[dict] = []
        self._pieces: list[str] | None = None  # pieces of the last part's text, not joined yet

    def __bool__(self) -> bool:
        return bool(self.parts)

    def append(self, part: dict) -> None:
        prev = self.parts[-1] if self.parts else None
        if (prev is not None and self._pieces is not None and isinstance(part.get("text"), str)
                and set(part) <= {"text", "thought"} and prev.get("thought") == part.get("thought")):
            self._pieces.append(part["text"])
            return
        self._join()
        self.parts.append(dict(part))
        self._pieces = [part["text"]] if isinstance(part.get("text"), str) else None

    def _join(self) -> None:
        if self._pieces is not None and len(self._pieces) > 1:
            self.parts[-1]["text"] = "".join(self._pieces)
        self._pieces = None

    def done(self) -> list[dict]:
        self._join()
        return self.parts
