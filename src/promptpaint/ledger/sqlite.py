"""The default ledger: one SQLite file (stdlib sqlite3, WAL), safe across threads and processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from ..clock import HOST, utc_now
from ..errors import LedgerError
from ..money import nanos
from . import budgets
from .attempt import Attempt, Cap
from .base import Ledger
from .migrations import migrate_sqlite
from .queries import over_note
from .state import bounded, entry


def _advice(path: Path, exc: sqlite3.Error) -> str:
    """What went wrong with the file, and what the user can do about it."""
    text = str(exc)
    low = text.lower()
    if "full" in low:
        what = ("the disk is full. Free some space (or set PROMPTPAINT_HOME to a folder on another "
                "disk) and try again")
    elif "readonly" in low or "read-only" in low:
        what = ("it is read-only. Make the file and its folder writable, or set PROMPTPAINT_HOME "
                "to a writable folder")
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        what = (f"the file is damaged ({text}). Move it aside (e.g. rename it to "
                f"{path.name}.broken): promptpaint then starts a new, empty ledger")
    elif "locked" in low or "busy" in low:
        what = ("another process kept it locked too long. Close other notebooks or scripts using "
                "it and try again")
    elif "unable to open" in low:
        what = "it cannot be opened. Check that its folder exists and is writable, or set PROMPTPAINT_HOME"
    else:
        what = f"SQLite said: {text}"
    return f"The ledger {path} cannot be used: {what}. Calls are refused until it can book them."


def _enter_wal(conn: sqlite3.Connection, patience: float = 60.0) -> None:
    """Switch the file to WAL, waiting out another process that is doing the same.

    Changing the journal mode of a fresh file can answer "database is locked" at once, without
    going through the busy timeout, while a second process creates or migrates the same file.
    """
    deadline = time.monotonic() + patience
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class SQLiteLedger(budgets.CapsInLedger, Ledger):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        # Threads of one process queue here for the file's write lock: SQLite makes a waiter poll
        # with growing sleeps (up to 100 ms), so eight threads polling one lock made a slow tail.
        self._writer = threading.Lock()
        with self._guard():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            migrate_sqlite(self._conn(), self._newer)

    def _newer(self, version: int) -> LedgerError:
        return LedgerError(f"The ledger {self.path} was written by a newer promptpaint (schema "
                           f"version {version}). Upgrade promptpaint (pip install -U promptpaint), "
                           "or point PROMPTPAINT_HOME at another folder.", path=self.path)

    @contextmanager
    def _guard(self):
        """SQLite's own errors become a LedgerError that names the file and the next step."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            if isinstance(exc, OSError):
                raise LedgerError(f"The ledger {self.path} cannot be used: {exc.strerror or exc}. "
                                  "Check the folder, or set PROMPTPAINT_HOME.", path=self.path) from exc
            raise LedgerError(_advice(self.path, exc), path=self.path) from exc

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            try:
                _enter_wal(conn)
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error:
                conn.close()
                raise
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self):
        with self._writer, self._guard():
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")  # takes the write lock now: reserve is check-then-insert
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    def _read(self, sql: str, args=()) -> list[tuple]:
        with self._guard():
            return self._conn().execute(sql, args).fetchall()

    def reserve(self, attempt: Attempt, amount: Decimal | None, caps: list[Cap]) -> int:
        now = utc_now()
        need = nanos(amount)
        with self._tx() as db:  # BEGIN IMMEDIATE: nobody else books between the check and the insert
            budgets.admit(lambda q, a: db.execute(q, a).fetchall(), "", user=attempt.user,
                          day=now.date().isoformat(), budget=attempt.budget, need=need or 0,
                          client_caps=caps)
            cur = db.execute(
                'INSERT INTO calls (ts, day, session, budget, "user", provider, model, kind, prompt,'
                " params, reserved_nanos, price_version, status, cache_key, host, pid)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'reserved',?,?,?)",
                (now.isoformat(), now.date().isoformat(), attempt.session, attempt.budget,
                 attempt.user, attempt.provider, attempt.model, attempt.kind, attempt.prompt,
                 json.dumps(attempt.params, sort_keys=True, default=str), need,
                 attempt.price_version, attempt.cache_key, HOST, os.getpid()))
            return cur.lastrowid

    def settle(self, row, *, status, cost, usage=None, request_id=None, images=None,
               duration=None, error=None, bound=None):
        if cost is not None and cost < 0:
            error = "; ".join(filter(None, [error, f"a negative cost ({cost}) was booked as unknown"]))
            cost = None
        with self._tx() as db:
            got = db.execute("SELECT reserved_nanos FROM calls WHERE id=? AND status = 'reserved'", (row,)).fetchone()
            if got is None:
                return  # settled rows stay as booked
            booked, reported = bounded(nanos(cost), got[0], nanos(bound))
            if reported is not None:
                error = "; ".join(filter(None, [error, over_note(reported, nanos(bound) or got[0])]))
            db.execute(
                "UPDATE calls SET status=?, cost_nanos=?, reported_nanos=?, usage=?, request_id=?, images=?,"
                " duration=?, error=? WHERE id=? AND status = 'reserved'",
                (status, booked, reported, json.dumps(usage) if usage is not None else None, request_id,
                 json.dumps(images or []), duration, error, row))

    def entries(self, limit=50, *, user=None) -> list[dict]:
        where, args = self._where(user=user)
        with self._guard():
            cur = self._conn().execute(f"SELECT * FROM calls WHERE {where} ORDER BY id DESC LIMIT ?",
                                       (*args, limit))
            names = [c[0] for c in cur.description]
            rows = cur.fetchall()
        return [entry(dict(zip(names, values))) for values in rows]

    def cache_get(self, key):
        got = self._read("SELECT value FROM cache WHERE key = ?", (key,))
        return json.loads(got[0][0]) if got else None

    def cache_put(self, key, value):
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO cache (key, value, ts) VALUES (?,?,?)",
                       (key, json.dumps(value), utc_now().isoformat()))

    def _write(self, sql: str, args=()) -> int:
        """Run one statement in its own transaction; return how many rows it changed."""
        with self._tx() as db:
            return db.execute(sql, args).rowcount

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
