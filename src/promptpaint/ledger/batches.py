"""The batch tables (migration 5): a Batch API job and each of its lines, recorded in the ledger
itself so ``pp.batches()`` finds a job from any process, on SQLite or PostgreSQL alike.

Two sessions may collect one job at once: a line is claimed by one ``INSERT … ON CONFLICT DO
NOTHING`` on its (job, idx) key, so each line is booked once whoever gets there first.
"""

from __future__ import annotations

import time

from ..errors import InvalidRequest
from . import Ledger

STALE_CLAIM = 600.0  # a line left "booking" this long was left by a collection that died
HELD_BY_JOB = "held by the job"  # a booked line's claim: its worst case is held on the job's row

JOB_COLUMNS = ("id", "provider", "model", "base_url", "name", "created", "state", "kind", "params", "prompts",
               "inputs", "price", "worst", "price_version", "budget", "user", "reserve_row", "collected")
LINE_COLUMNS = ("job", "idx", "status", "claim", "claimed_at", "ledger_row", "images", "usage", "cost", "text",
                "request_id", "error_type", "error")


def _names(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)  # "user" is a keyword in PostgreSQL


class Records:
    """The batch tables (migration 5), read and written through the ledger's own connections, so
    they live wherever its calls do: the SQLite file, or the class's PostgreSQL schema."""

    def __init__(self, ledger: Ledger):
        if not (hasattr(ledger, "_read") and hasattr(ledger, "_write")):
            raise InvalidRequest(f"Batch jobs are recorded in the ledger's own tables, and {type(ledger).__name__} "
                                 "has none. Use the default ledger (SQLite) or a PostgreSQL one, or pp.Sweep.")
        self._read, self._write = ledger._read, ledger._write
        self._jobs = getattr(ledger, "_tables", "") + "batch_jobs"
        self._lines = getattr(ledger, "_tables", "") + "batch_lines"

    def add(self, job: dict) -> None:
        self._write(f"INSERT INTO {self._jobs} ({_names(job)}) VALUES ({', '.join('?' * len(job))})",
                    list(job.values()))

    def jobs(self, job_id: str | None = None, *, user: str | None = None) -> list[dict]:
        """The job ``job_id``, else every job (of ``user`` only, if given), newest first."""
        select = f"SELECT {_names(JOB_COLUMNS)} FROM {self._jobs}"
        if job_id is not None:
            rows = self._read(select + " WHERE id = ?", (job_id,))
        elif user is not None:
            rows = self._read(select + ' WHERE "user" = ? ORDER BY created DESC', (user,))
        else:
            rows = self._read(select + " ORDER BY created DESC")
        return [dict(zip(JOB_COLUMNS, r)) for r in rows]

    def update(self, job_id: str, **values) -> None:
        self._write(f"UPDATE {self._jobs} SET {', '.join(f'{_names([k])} = ?' for k in values)} WHERE id = ?",
                    [*values.values(), job_id])

    def lines(self, job_id: str) -> dict[int, dict]:
        rows = self._read(f"SELECT {_names(LINE_COLUMNS)} FROM {self._lines} WHERE job = ?", (job_id,))
        return {r[1]: dict(zip(LINE_COLUMNS, r)) for r in rows}

    def claim_line(self, job_id: str, idx: int, **values) -> bool:
        """Record a line only if no one has: two sessions collecting one job book each line once
        (the (job, idx) key decides, in one statement, on either backend)."""
        values = {"job": job_id, "idx": idx, **values}
        return self._write(f"INSERT INTO {self._lines} ({_names(values)}) VALUES ({', '.join('?' * len(values))})"
                           " ON CONFLICT (job, idx) DO NOTHING", list(values.values())) == 1

    def take_over(self, job_id: str, idx: int, claim: str) -> dict | None:
        """The line for ``claim`` if it is free or its claim went stale, else None (someone is on it)."""
        if self.claim_line(job_id, idx, status="booking", claim=claim, claimed_at=time.time()):
            return {"ledger_row": None}
        if self._write(f"UPDATE {self._lines} SET claim = ?, claimed_at = ? WHERE job = ? AND idx = ?"
                       " AND status = 'booking' AND (claimed_at IS NULL OR claimed_at < ?)",
                       (claim, time.time(), job_id, idx, time.time() - STALE_CLAIM)) != 1:
            return None
        return self.lines(job_id)[idx]

    def update_line(self, job_id: str, idx: int, **values) -> None:
        self._write(f"UPDATE {self._lines} SET {', '.join(f'{_names([k])} = ?' for k in values)}"
                    " WHERE job = ? AND idx = ?", [*values.values(), job_id, idx])

    def put_line(self, job_id: str, idx: int, **values) -> None:
        values = {"job": job_id, "idx": idx, **values}
        changes = ", ".join(f"{_names([k])} = excluded.{_names([k])}" for k in values if k not in ("job", "idx"))
        self._write(f"INSERT INTO {self._lines} ({_names(values)}) VALUES ({', '.join('?' * len(values))})"
                    f" ON CONFLICT (job, idx) DO UPDATE SET {changes}", list(values.values()))
