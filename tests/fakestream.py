"""Streaming for the fake providers: previews as they would arrive, with delays and faults.

FakeProviders builds a complete answer; when the request asked for a stream, this reshapes it into
the events the real API sends and the handler writes them one at a time as chunked HTTP:

- OpenAI: ``partial_image_index`` previews that are coarser versions of the final image (never the
  final bytes), then ``*.completed`` whose ``usage`` (the image's own, without
  ``output_tokens_details``); the bill adds 100 output image tokens per preview (OpenAI's
  image-generation guide, "Partial images cost").
- Gemini (``streamGenerateContent?alt=sse``): ``previews`` interim images marked ``thought: true``,
  then the text and the final image; every chunk carries the cumulative ``usageMetadata`` so far.

``fake.streaming.delay`` sets the seconds between events; ``fake.streaming.fault("error", after=1)``
sends an error event after that many events, ``fault("drop", after=1)`` closes the connection there.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import threading
import time

from PIL import Image

from promptpaint.sse import events as parse_events

PARTIAL_IMAGE_TOKENS = 100
FAULTS = ("error", "drop")


def preview_of(png: bytes, index: int, total: int) -> bytes:
    """A coarse draft of ``png``: the earlier the preview, the blockier."""
    im = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = im.size
    step = 2 ** (total - index + 2)
    small = im.resize((max(1, w // step), max(1, h // step)), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    small.resize((w, h), Image.Resampling.NEAREST).save(buf, format="PNG")
    return buf.getvalue()


class Streaming:
    def __init__(self, fake=None):
        self.fake = fake           # the FakeProviders whose bills the previews add to
        self.delay = 0.0
        self.previews = 2          # Gemini's interim thought images
        self._faults = collections.deque()
        self._lock = threading.Lock()
        self.sent: list[list[str]] = []   # event names of each stream, as written

    def fault(self, name: str, *, after: int = 1) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown stream fault {name!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append((name, after))

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
        self.delay, self.previews = 0.0, 2
        self.sent.clear()

    # -- shaping
    def shape(self, req, answer) -> None:
        """Give ``answer`` (a streamed 200 built by FakeProviders) its events and any fault."""
        provider = req.provider
        if provider == "openai":
            answer.events = self._openai(answer.body)
            self._bill(req, answer)
        else:
            answer.events = self._gemini(answer.body)
        with self._lock:
            answer.fault = self._faults.popleft() if self._faults else None
        if answer.fault is None and answer.truncate:
            # A body cut off midway, for a stream, is a connection that breaks after the first event.
            answer.fault = ("drop", 1)
        answer.provider = provider

    def _openai(self, body: bytes) -> list[tuple[str | None, dict]]:
        out, total = [], 0
        for ev in parse_events([body]):
            data = json.loads(ev.data)
            if ev.event.endswith(".partial_image"):
                total += 1  # rebuilt below as drafts of the final image
                continue
            final = base64.b64decode(data["b64_json"])
            prefix = ev.event.rsplit(".", 1)[0]
            for k in range(total):
                out.append((f"{prefix}.partial_image", {
                    **{key: data[key] for key in ("background", "created_at", "output_format", "quality", "size")},
                    "type": f"{prefix}.partial_image", "partial_image_index": k,
                    "b64_json": base64.b64encode(preview_of(final, k, total)).decode()}))
            usage = dict(data["usage"])
            usage.pop("output_tokens_details", None)  # the completed event's usage has none
            out.append((ev.event, {**data, "usage": usage}))
            out[-1][1]["_previews"] = total  # for the bill; removed before sending
            total = 0
        return out

    def _bill(self, req, answer) -> None:
        """Bill a streamed OpenAI call as the provider does: the image's usage plus 100 output
        image tokens per preview (the fake bills plain answers itself; a stream is billed here)."""
        model = (req.json or {}).get("model") or ((req.form or {}).get("model") or [None])[0]
        for name, data in answer.events:
            if name.endswith(".completed"):
                previews = data.pop("_previews")
                usage = json.loads(json.dumps(data["usage"]))
                usage["output_tokens"] += PARTIAL_IMAGE_TOKENS * previews
                usage["total_tokens"] += PARTIAL_IMAGE_TOKENS * previews
                usage["output_tokens_details"] = {"image_tokens": usage["output_tokens"], "text_tokens": 0}
                if self.fake is not None:
                    self.fake._bill("openai", model, answer.headers.get("x-request-id"), usage, None)

    def _gemini(self, body: bytes) -> list[tuple[str | None, dict]]:
        (ev,) = list(parse_events([body]))
        whole = json.loads(ev.data)
        meta = {k: whole[k] for k in ("modelVersion", "responseId") if k in whole}
        usage = whole.get("usageMetadata") or {}
        prompt_only = {k: usage[k] for k in ("promptTokenCount", "promptTokensDetails") if k in usage}
        prompt_only["totalTokenCount"] = usage.get("promptTokenCount", 0)
        cands = whole.get("candidates") or []
        parts = (cands[0].get("content") or {}).get("parts", []) if cands else []
        image = next((p for p in parts if "inlineData" in p and not p.get("thought")), None)
        out = []
        if image is not None:
            final = base64.b64decode(image["inlineData"]["data"])
            for k in range(self.previews):
                out.append((None, {"candidates": [{"content": {"role": "model", "parts": [
                    {"inlineData": {"mimeType": "image/png",
                                    "data": base64.b64encode(preview_of(final, k, self.previews)).decode()},
                     "thought": True}]}, "index": 0}], "usageMetadata": prompt_only, **meta}))
            before = [p for p in parts if p is not image]
            if before:
                out.append((None, {"candidates": [{"content": {"role": "model", "parts": before}, "index": 0}],
                                   "usageMetadata": prompt_only, **meta}))
            last = {**cands[0], "content": {"role": "model", "parts": [image]}}
            out.append((None, {**whole, "candidates": [last]}))
        else:
            out.append((None, whole))
        return out

    # -- writing
    def send(self, handler, answer) -> None:
        names = []
        self.sent.append(names)
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        for k, v in answer.headers.items():
            handler.send_header(k, v)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        fault, after = answer.fault or (None, None)
        w = handler.wfile
        try:
            for i, (name, data) in enumerate(answer.events):
                if i and self.delay:
                    time.sleep(self.delay)
                if fault and i == after:
                    if fault == "drop":
                        w.write(b"5\r\nevent")  # half an event, then the connection is gone
                        w.flush()
                        handler.close_connection = True
                        names.append("(dropped)")
                        return
                    name, data = self._error(answer.provider)
                    self._chunk(w, name, data)
                    names.append(name or "error")
                    break
                self._chunk(w, name, data)
                names.append(name or "chunk")
            w.write(b"0\r\n\r\n")
            w.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    @staticmethod
    def _error(provider: str):
        if provider == "openai":
            return "error", {"type": "error", "error": {
                "type": "server_error", "code": "server_error", "param": None,
                "message": "The server had an error while processing your request. Sorry about that!"}}
        return None, {"error": {"code": 500, "status": "INTERNAL",
                                "message": "An internal error has occurred. Please retry or report."}}

    @staticmethod
    def _chunk(w, name, data) -> None:
        text = (f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n"
        if not name:
            text = text.replace("\n\n", "\r\n\r\n")  # Gemini ends its events with CRLF CRLF
        raw = text.encode()
        w.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
        w.flush()
