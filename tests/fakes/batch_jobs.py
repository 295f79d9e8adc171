"""A batch job as both fakes' Batch APIs keep it: its lines, results and the times it moved."""

from __future__ import annotations

import time


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


class Job:
    def __init__(self, provider, job_id, model, lines, key, extra):
        self.provider, self.id, self.model, self.lines, self.key = provider, job_id, model, lines, key
        self.extra = extra                 # the provider's own fields (endpoint, metadata, displayName…)
        self.created = time.time()
        self.results: dict[int, dict] = {}  # line index -> {"status", "json", "key"}
        self.cancelled_at: float | None = None
        self.expired_at: float | None = None
        self.failed: list | None = None     # validation errors
        self.finished_at: float | None = None
        self.output: dict = {}              # provider-specific output references
