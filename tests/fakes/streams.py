"""Streaming for the fake providers: previews as they would arrive, with delays and faults.

The provider's fake builds a complete answer; when the request asked for a stream, its
``stream_events`` reshapes it into the events the real API sends (openai.py, gemini.py), and the
handler writes them here one at a time as chunked HTTP.

``fake.streaming.delay`` sets the seconds between events; ``fake.streaming.fault("error", after=1)``
sends an error event after that many events, ``fault("drop", after=1)`` closes the connection there.
``fake.streaming.previews`` is how many interim images Gemini sends.
"""

from __future__ import annotations

import collections
import threading
import time

from .images import preview_of  # noqa: F401  (re-exported for the fakestream.py shim)

FAULTS = ("error", "drop")


class Streaming:
    def __init__(self, fake=None):
        self.fake = fake           # the FakeProviders whose provider fakes shape the events
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
        answer.events = self.fake.providers[provider].stream_events(req, answer)
        with self._lock:
            answer.fault = self._faults.popleft() if self._faults else None
        if answer.fault is None and answer.truncate:
            # A body cut off midway, for a stream, is a connection that breaks after the first event.
            answer.fault = ("drop", 1)
        answer.provider = provider

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
        provider = self.fake.providers[answer.provider]
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
                    name, data = provider.stream_error()
                    self._chunk(w, provider.stream_event(name, data))
                    names.append(name or "error")
                    break
                self._chunk(w, provider.stream_event(name, data))
                names.append(name or "chunk")
            w.write(b"0\r\n\r\n")
            w.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    @staticmethod
    def _chunk(w, raw: bytes) -> None:
        w.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
        w.flush()
