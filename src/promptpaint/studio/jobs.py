"""One runner for everything the Studio sends: a single call or a comparison is a ``Job`` of
steps run in order on one worker thread, with an id, Cancel, retry notices and one way to end.

A step raising ends the job with that error (a single call's failure); a comparison's steps
catch their own cell's failure, so one cell never stops the next.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image

from ..client import Chat, Client, Result
from ..errors import InvalidRequest
from ..transport import on_retry, scrub

log = logging.getLogger(__name__)
BUSY = "A call is already running: wait for it, or press Cancel."
CANCEL_NOTICE = ("Cancelled. If the provider had already started, the call may still be billed; "
                 "its image will appear in the history, marked cancelled, when it arrives.")


@dataclass
class Job:
    """One call or comparison: its inputs, the thread running it, and how it ended."""

    id: int
    action: str               # generate | edit | compare
    prompt: str
    params: dict
    client: Client
    mask: Image.Image | None
    markup: Image.Image | None = None
    parent: int | None = None
    chat: Chat | None = None
    image: Path | None = None
    references: list = field(default_factory=list)   # paths of the reference images sent
    reference_ids: list = field(default_factory=list)
    source_id: str | None = None                     # the image an edit changes
    cells: list = field(default_factory=list)   # a comparison's compare.Cell list...
    grid: dict = field(default_factory=dict)    # ...and the `compare` state it fills in
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    result: Result | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def join(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def is_alive(self) -> bool:
        return not self.done.is_set()


Step = Callable[[Job], None]


class Runner:
    """The running job of one Session, its status (``idle``/``running``), start time and retry
    notice; it tells the Session what changed through ``session._changed``."""

    def __init__(self, session: "Session"):
        self._session = session
        self.lock = threading.RLock()
        self.job: Job | None = None
        self._ids = itertools.count(1)
        self.status, self.started_at = "idle", 0.0
        self.retry: dict = {}

    def next_id(self) -> int:
        return next(self._ids)

    def busy(self) -> bool:
        return self.job is not None and self.job.is_alive()

    def check_free(self) -> None:
        """Raises InvalidRequest when a run is refused now: a closed Studio, or a call running."""
        s = self._session
        if s.closed:
            raise InvalidRequest(s.closed_message())
        if self.busy():
            raise InvalidRequest(BUSY)

    def start(self, job: Job, steps: list[Step], finish: Callable[[Job], None]) -> Job:
        """Make ``job`` the running one and run ``steps`` then ``finish`` on its worker thread.
        Call with ``lock`` held, after ``check_free``."""
        s = self._session
        self.job = job
        s.set_error(None)
        s.set_notice("")  # a notice belongs to the call it describes
        self.started_at, self.status = time.time(), "running"
        s._changed("status")
        job.thread = threading.Thread(target=self._work, args=(job, steps, finish), daemon=True,
                                      name=f"promptpaint-call-{job.id}")
        job.thread.start()
        return job

    def _work(self, job: Job, steps: list[Step], finish: Callable[[Job], None]) -> None:
        token = on_retry.set(lambda info: self._retrying(job, info))  # this thread's calls only
        try:
            for step in steps:
                step(job)
        except BaseException as exc:  # reported in the UI and re-raised to a Python caller
            job.error = exc
        finally:
            on_retry.reset(token)
            try:
                finish(job)
            except BaseException:  # a bug must not leave the Studio "running" for ever
                log.exception("promptpaint: finishing call %d failed", job.id)
                self.end(job, job.error)
            finally:
                job.done.set()

    def end(self, job: Job, exc: BaseException | None) -> None:
        """``job`` is over: the Studio goes idle (with ``exc`` on the error card), unless it was
        cancelled and a newer call is running, whose status a late finish must not touch."""
        s = self._session
        with self.lock:
            if self.job is job:
                self.job = None
                if exc is not None:
                    s.set_error(exc)
                self._idle()
        s.refresh_costs()

    def cancel(self) -> None:
        with self.lock:
            job, self.job = self.job, None  # the next call may start at once; this one still lands
            if job is None or not job.is_alive():
                return
            job.cancel.set()
            self._idle()
            self._session.set_notice(CANCEL_NOTICE)

    def _idle(self) -> None:
        self.status, self.started_at = "idle", 0.0
        self.retry = {}
        self._session._changed("retry")
        self._session._changed("status")

    def _retrying(self, job: Job, info: dict) -> None:
        """Transport is about to wait and retry: say so instead of a silent "Working…"."""
        if self.job is not job:
            return  # a cancelled call retrying in the background is no longer on screen
        delay = float(info.get("delay") or 0)
        shown = f"{delay:.0f} s" if delay >= 1 else f"{delay:.1f} s"
        title = info.get("title") or "Retrying"
        self.retry = {"title": title, "message": scrub(str(info.get("message") or "")),
                      "delay": delay, "attempt": info.get("attempt"), "attempts": info.get("attempts"),
                      "at": time.time(),
                      "text": f"{title} — retrying in {shown} "
                              f"(attempt {info.get('attempt')} of {info.get('attempts')})"}
        self._session._changed("retry")


__all__ = ["Job", "Runner", "BUSY", "CANCEL_NOTICE"]
