"""A streamed answer that must end: no event within the timeout, or Cancel, closes it.

A read timeout alone cannot do it: a server that sends a keep-alive comment every few seconds
resets it forever, and a blocked read does not look at Cancel. So each stream gets a watcher
thread that shuts the socket's read side (the read then returns at once) when Cancel is set or
when the stream's reader has not seen an event (``beat()``) for ``idle`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("promptpaint")

TICK = 0.1  # how often the watcher looks at Cancel: the most a cancelled stream runs on


class Watch:
    """The time since the last event of one stream; the reader calls ``beat()`` on each event."""

    def __init__(self, idle: float = float("inf"), clock=time.monotonic):
        self.idle = float(idle)
        self.clock = clock
        self.last = clock()

    def beat(self) -> None:
        self.last = self.clock()

    def expired(self) -> bool:
        return self.clock() - self.last > self.idle  # never, for idle=inf

    def guard(self, resp, cancel: threading.Event | None) -> "Stop":
        """Start watching ``resp`` (a streamed requests.Response); ``Stop.done()`` ends the watch."""
        return Stop(self, resp, cancel)


class Stop:
    """The watcher of one stream: ``reason`` is None, ``"cancel"`` or ``"idle"`` once it cut in."""

    def __init__(self, watch: Watch, resp, cancel: threading.Event | None):
        self.reason: str | None = None
        self._watch, self._resp, self._cancel = watch, resp, cancel
        self._finished = threading.Event()
        if cancel is None and watch.idle == float("inf"):
            return  # nothing to watch for
        threading.Thread(target=self._run, name="promptpaint-stream-watch", daemon=True).start()

    def done(self) -> None:
        self._finished.set()

    def _run(self) -> None:
        while not self._finished.wait(TICK):
            if self._cancel is not None and self._cancel.is_set():
                self._cut("cancel")
                return
            if self._watch.expired():
                self._cut("idle")
                return

    def _cut(self, reason: str) -> None:
        if self._finished.is_set():
            return
        self.reason = reason
        shut(self._resp)


def shut(resp) -> None:
    """Shut a streamed response's socket for reading, so a read blocked in another thread returns."""
    import socket

    raw = getattr(resp, "raw", None)
    try:
        if raw is not None and getattr(raw, "_sock_shutdown", None):
            raw.shutdown()  # urllib3 >= 2.3 has this for exactly this purpose
            return
        conn = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
        sock = getattr(conn, "sock", None)
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError, RuntimeError, AttributeError):
        log.debug("promptpaint: could not shut a stream's socket", exc_info=True)
