"""Where calls are booked: one row per attempt, with reserve/settle so budgets hold under concurrency.

``Ledger`` is the interface; ``SQLiteLedger`` the default backend (stdlib sqlite3, WAL). A shared
backend for a whole class (PostgreSQL) implements the same five methods with the same semantics:
``reserve`` checks every cap and inserts a reservation atomically, ``settle`` replaces it with the
actual cost, ``release`` drops it when nothing was billed.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .errors import BudgetExceeded

NANO = Decimal("0.000000001")
SESSION_ID = uuid.uuid4().hex[:12]  # one per Python process: a kernel session
RESERVATION_TTL = 3600.0  # a reservation left by a crashed process stops counting after this


def _nanos(amount: Decimal | None) -> int | None:
    return None if amount is None else int((Decimal(amount) / NANO).to_integral_value())


def _usd(nanos: int | None) -> Decimal | None:
    from .pricing import tidy
    return None if nanos is None else tidy(Decimal(nanos) * NANO)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Cap:
    """A spending limit: ``scope`` is ``"day"`` (UTC calendar day, all calls) or a budget id."""

    scope: str
    limit: Decimal


@dataclass
class Attempt:
    """What is known about a call before it is sent."""

    provider: str
    model: str
    kind: str
    prompt: str
    params: dict
    price_version: str | None
    session: str = SESSION_ID
    budget: str | None = None
    cache_key: str | None = None


class Ledger(abc.ABC):
    @abc.abstractmethod
    def reserve(self, attempt: Attempt, amount: Decimal | None, caps: list[Cap]) -> int:
        """Book ``amount`` against every cap or raise BudgetExceeded; return the row id."""

    @abc.abstractmethod
    def settle(self, row: int, *, status: str, cost: Decimal | None, usage: dict | None = None,
               request_id: str | None = None, images: list[str] | None = None,
               duration: float | None = None, error: str | None = None) -> None:
        """Replace the reservation by what the call actually cost (None: unknown price)."""

    def release(self, row: int, *, error: str, duration: float | None = None) -> None:
        """The call failed before anything was billed: the reservation is freed."""
        self.settle(row, status="error", cost=Decimal(0), error=error, duration=duration)

    @abc.abstractmethod
    def total(self, *, session: str | None = None, day: dt.date | str | None = None,
              budget: str | None = None) -> Decimal:
        """Settled spending (USD), all time unless narrowed."""

    @abc.abstractmethod
    def entries(self, limit: int = 50) -> list[dict]:
        """The newest rows, newest first."""

    def session(self) -> Decimal:
        return self.total(session=SESSION_ID)

    def today(self) -> Decimal:
        return self.total(day=utc_now().date())

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .display import ledger_bundle  # a short table when ``pp.ledger()`` ends a cell

        return ledger_bundle(self)

    # The request cache lives beside the ledger: both answer "have we paid for this already?"
    @abc.abstractmethod
    def cache_get(self, key: str) -> dict | None: ...

    @abc.abstractmethod
    def cache_put(self, key: str, value: dict) -> None: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,              -- UTC ISO time the attempt started
    day TEXT NOT NULL,             -- UTC date, for daily totals and caps
    session TEXT NOT NULL,         -- one per Python process
    budget TEXT,                   -- the Client budget this call counts against
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,            -- generate | edit | chat
    prompt TEXT,
    params TEXT,                   -- JSON; never a key
    usage TEXT,                    -- JSON, normalised Usage
    cost_nanos INTEGER,            -- USD * 1e9; NULL when the price is unknown
    reserved_nanos INTEGER,
    reserved_until REAL,           -- epoch seconds; a reservation counts until settled or then
    price_version TEXT,
    status TEXT NOT NULL,          -- reserved | ok | refused | error | cached
    request_id TEXT,
    images TEXT,                   -- JSON list of sha256 of the stored images
    duration REAL,
    error TEXT,
    cache_key TEXT
);
CREATE INDEX IF NOT EXISTS calls_day ON calls(day);
CREATE INDEX IF NOT EXISTS calls_session ON calls(session);
CREATE INDEX IF NOT EXISTS calls_budget ON calls(budget);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, ts TEXT NOT NULL);
"""

_SPENT = ("SELECT COALESCE(SUM(CASE WHEN status = 'reserved' THEN "
          "(CASE WHEN reserved_until > ? THEN reserved_nanos ELSE 0 END) "
          "ELSE COALESCE(cost_nanos, 0) END), 0) FROM calls WHERE ")


class SQLiteLedger(Ledger):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self):
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")  # takes the write lock now: reserve is check-then-insert
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    def reserve(self, attempt: Attempt, amount: Decimal | None, caps: list[Cap]) -> int:
        now = utc_now()
        need = _nanos(amount) or 0
        with self._tx() as db:
            for cap in caps:
                where = "day = ?" if cap.scope == "day" else "budget = ?"
                arg = now.date().isoformat() if cap.scope == "day" else cap.scope
                spent = db.execute(_SPENT + where, (time.time(), arg)).fetchone()[0]
                if spent + need > _nanos(cap.limit):
                    what = "today's budget" if cap.scope == "day" else "this client's budget"
                    raise BudgetExceeded(
                        f"This call could cost up to ${_usd(need):.4f}, and {what} of "
                        f"${cap.limit:.2f} has ${max(Decimal(0), cap.limit - _usd(spent)):.4f} left.",
                        limit=cap.limit, spent=_usd(spent), needed=_usd(need))
            cur = db.execute(
                "INSERT INTO calls (ts, day, session, budget, provider, model, kind, prompt, params,"
                " reserved_nanos, reserved_until, price_version, status, cache_key)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'reserved',?)",
                (now.isoformat(), now.date().isoformat(), attempt.session, attempt.budget,
                 attempt.provider, attempt.model, attempt.kind, attempt.prompt,
                 json.dumps(attempt.params, sort_keys=True, default=str), need,
                 time.time() + RESERVATION_TTL, attempt.price_version, attempt.cache_key))
            return cur.lastrowid

    def settle(self, row, *, status, cost, usage=None, request_id=None, images=None,
               duration=None, error=None):
        with self._tx() as db:
            db.execute(
                "UPDATE calls SET status=?, cost_nanos=?, usage=?, request_id=?, images=?,"
                " duration=?, error=?, reserved_until=NULL WHERE id=?",
                (status, _nanos(cost), json.dumps(usage) if usage is not None else None, request_id,
                 json.dumps(images or []), duration, error, row))

    def total(self, *, session=None, day=None, budget=None) -> Decimal:
        where, args = ["status != 'reserved'"], []
        for column, value in (("session", session), ("day", day), ("budget", budget)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value.isoformat() if isinstance(value, dt.date) else str(value))
        nanos = self._conn().execute(
            "SELECT COALESCE(SUM(cost_nanos), 0) FROM calls WHERE " + " AND ".join(where), args
        ).fetchone()[0]
        return _usd(nanos)

    def count(self, *, day: dt.date | None = None) -> int:
        """How many calls were booked (any outcome), all time or on one UTC day."""
        where, args = ("WHERE day = ?", (day.isoformat(),)) if day else ("", ())
        return self._conn().execute(f"SELECT COUNT(*) FROM calls {where}", args).fetchone()[0]

    def unknown_cost_calls(self) -> int:
        return self._conn().execute(
            "SELECT COUNT(*) FROM calls WHERE status IN ('ok','refused') AND cost_nanos IS NULL"
        ).fetchone()[0]

    def entries(self, limit=50) -> list[dict]:
        db = self._conn()
        cur = db.execute("SELECT * FROM calls ORDER BY id DESC LIMIT ?", (limit,))
        names = [c[0] for c in cur.description]
        out = []
        for values in cur.fetchall():
            row = dict(zip(names, values))
            for k in ("params", "usage", "images"):
                row[k] = json.loads(row[k]) if row[k] else None
            row["cost"] = _usd(row.pop("cost_nanos"))
            row.pop("reserved_until")
            row["reserved"] = _usd(row.pop("reserved_nanos"))
            out.append(row)
        return out

    def cache_get(self, key):
        got = self._conn().execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        return json.loads(got[0]) if got else None

    def cache_put(self, key, value):
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO cache (key, value, ts) VALUES (?,?,?)",
                       (key, json.dumps(value), utc_now().isoformat()))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


_ledgers: dict[Path, SQLiteLedger] = {}
_lock = threading.Lock()


def ledger(path: str | Path | None = None) -> Ledger:
    """The ledger under ``PROMPTPAINT_HOME`` (or at ``path``): ``pp.ledger().total()``."""
    from .config import home

    p = Path(path) if path else home() / "ledger.sqlite3"
    with _lock:
        if p not in _ledgers:
            _ledgers[p] = SQLiteLedger(p)
        return _ledgers[p]
