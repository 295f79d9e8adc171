"""The Batch APIs of both providers, mounted on FakeProviders (``fake.batches``).

This module keeps the jobs, files and clock; each provider's routes and wire format live in
batches_openai.py (``/v1/files``, ``/v1/batches``) and batches_gemini.py
(``models/{m}:batchGenerateContent``, ``batches/{id}``, the Files API's resumable upload).

Jobs move through their states with time: ``fake.batches.step`` seconds per stage (validating
or pending, then running: the lines run one by one across that stage, then finalizing; a cancel
takes ``cancel_delay``). Each line is answered by the fake's own single-call handler, so a batch line validates, renders, bills and
takes queued faults exactly like a direct call, and is billed by the fake's own tables
(``fake.billed``) at the Batch API's rate: half the direct one. ``billed`` here lists the batch
lines' bills by job and key.
``expire(job_id)`` ends a job as the 24 h window would.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from decimal import Decimal

from .batch_jobs import Job
from .batches_gemini import GeminiBatches
from .batches_openai import OpenAIBatches
from .wire import Answer, CaseInsensitiveDict, RecordedRequest


class FakeBatches:
    def __init__(self, fake, step: float = 0.3):
        self.fake = fake
        self.step = step
        self.cancel_delay = 0.1              # seconds from a cancel request to "cancelled"
        self.drop_create = False             # create the next job, then drop the connection unanswered
        self.files: dict[str, dict] = {}     # id/name -> {"bytes", "purpose", "filename", "created"}
        self.jobs: dict[str, Job] = {}
        self.billed: list[dict] = []         # {"provider", "job", "key", "usd"}
        self.lines_run: list[RecordedRequest] = []
        self._lock = threading.RLock()
        # Gemini first: its Files API shares /v1/files with OpenAI's, told apart by its key header.
        self.apis = {"gemini": GeminiBatches(self), "openai": OpenAIBatches(self)}

    # -- routing (called from the server's handler) --------------------------------------------------
    def route(self, path: str, headers) -> str | None:
        return next((name for name, api in self.apis.items() if api.owns(path, headers)), None)

    def handle(self, req: RecordedRequest) -> Answer:
        with self._lock:
            before = len(self.jobs)
            answer = self.apis[req.provider].handle(req)
            if self.drop_create and len(self.jobs) > before:
                self.drop_create, answer.drop = False, True  # the job exists; its creator never hears
            return answer

    def expire(self, job_id: str, ran: int | None = None) -> None:
        """End the job now, as the provider does when its 24 h window runs out; with ``ran``,
        after exactly its first ``ran`` lines (otherwise after those due by now)."""
        with self._lock:
            job = self.jobs[job_id]
            if ran is None:
                self._run_due(job, time.time())
            for i in range(ran or 0):
                if i not in job.results:
                    job.results[i] = self._run_line(job, i)
            job.expired_at = time.time()
            self._finish(job)

    def total(self, provider: str | None = None) -> Decimal:
        return sum((b["usd"] for b in self.billed if provider in (None, b["provider"])), Decimal(0))

    # -- the job clock -------------------------------------------------------------------------------
    def _due(self, job: Job, i: int) -> float:
        return job.created + self.step + self.step * (i + 1) / max(1, len(job.lines))

    def _run_due(self, job: Job, now: float) -> None:
        stop = min(t for t in (now, job.cancelled_at, job.expired_at) if t is not None)
        for i in range(len(job.lines)):
            if i not in job.results and self._due(job, i) <= stop:
                job.results[i] = self._run_line(job, i)

    def _stage(self, job: Job) -> str:
        """pending | running | finalizing | done, moving the job (and running lines) as time passes."""
        now = time.time()
        if job.finished_at is not None:
            return "done"
        if job.failed is None and now >= job.created + self.step:
            job.failed = self.apis[job.provider].validate(job)
        if job.failed:
            job.finished_at = now
            return "done"
        if now < job.created + self.step and job.cancelled_at is None:
            return "pending"
        self._run_due(job, now)
        if job.cancelled_at is not None:
            if now >= job.cancelled_at + self.cancel_delay:
                self._finish(job)
                return "done"
            return "cancelling"
        if len(job.results) < len(job.lines):
            return "running"
        if now < job.created + 3 * self.step:
            return "finalizing"
        self._finish(job)
        return "done"

    def _finish(self, job: Job) -> None:
        if job.finished_at is None:
            job.finished_at = time.time()
            self.apis[job.provider].finish(job)

    def _run_line(self, job: Job, i: int) -> dict:
        """One line answered by the provider fake's own single-call handler, then billed at half."""
        key, body = job.lines[i]
        api = self.apis[job.provider]
        req = RecordedRequest(provider=job.provider, method="POST", path=api.line_path(job), query={},
                              headers=CaseInsensitiveDict(api.line_headers(job)), raw=json.dumps(body).encode(),
                              json=body)
        answer = api.prepare_line(req, body) or self.fake.providers[job.provider].handle(req)
        req.status, req.response_json = answer.status, answer.json
        self.lines_run.append(req)
        request_id = getattr(req, "_request_id", None)
        if answer.status == 200:
            self._rebill(job, key, api.bill_id(req, answer))
        return {"key": key, "status": answer.status, "json": answer.json, "request_id": request_id}

    def _rebill(self, job: Job, key: str, request_id: str) -> None:
        """The line was billed as a direct call: the Batch API charges half of that."""
        with self.fake._lock:
            for i, bill in enumerate(self.fake.billed):
                if bill.request_id == request_id:
                    half = dataclasses.replace(bill, cost=bill.cost / 2)
                    self.fake.billed[i] = half
                    self.billed.append({"provider": job.provider, "job": job.id, "key": key, "usd": half.cost})
