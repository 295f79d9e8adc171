"""Where calls are booked: one row per attempt, with reserve/settle so budgets hold under concurrency.

``Ledger`` is the interface; ``SQLiteLedger`` (``sqlite.py``) the default backend, a shared one
for a whole class (PostgreSQL, ``postgres.py``) implements the same methods with the same meaning:

- ``reserve`` checks every cap and inserts a reservation atomically;
- ``settle`` replaces it with the actual cost, or with an *unknown* cost (None) when the call may
  have been billed but we cannot say for how much: the row then keeps counting at its reservation;
- ``release`` books $0, only for a call that never reached the provider.

What counts against a cap (``spent``) is every row's known cost, else its reservation: a call of
unknown cost, a call in flight and a reservation left by a dead process (*interrupted*) all count
until someone reconciles them. Nothing expires on its own: a paid call must never become free.
Both backends share the schema versions in ``migrations.py``.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..clock import HOST, current_user, utc_now  # noqa: F401  (re-exported: old import paths)
from ..errors import PromptpaintError

NANO = Decimal("0.000000001")
SESSION_ID = uuid.uuid4().hex[:12]  # one per Python process: a kernel session
# A reservation whose owner cannot be checked (another machine) is listed as interrupted once it
# is older than any call can run (600 s timeout x 3 attempts, with room). Listing only: it counts
# against caps either way until reconciled.
LONGEST_CALL = dt.timedelta(hours=1)

# The SQL expression both backends sum for "what counts against a cap": a known cost, else the
# reservation (unknown cost, in flight, interrupted). A released row has cost 0.
COUNTED = "COALESCE(cost_nanos, reserved_nanos, 0)"
AWAITING = "awaiting collection"


class LedgerError(PromptpaintError):
    """The ledger file or database cannot be read or written; ``path`` says which."""

    title = "Ledger problem"

    def __init__(self, message: str, *, path=None, **kw):
        self.path = path
        super().__init__(message, **kw)


def nanos(amount: Decimal | None) -> int | None:
    return None if amount is None else int((Decimal(amount) / NANO).to_integral_value())


class Dollars(Decimal):
    """An amount of USD: a Decimal for arithmetic, shown as ``$0.0678`` in a notebook or a repr."""

    __slots__ = ()

    def __repr__(self) -> str:
        return dollars(self)


def usd(value: int | None) -> Dollars | None:
    from ..pricing import tidy
    return None if value is None else Dollars(tidy(Decimal(value) * NANO))


def dollars(amount: Decimal | None) -> str:
    """``$0.0678``, ``$0.30``: what a person reads, never ``Decimal('0.0678')``."""
    from ..pricing import tidy
    if amount is None:
        return "unknown"
    text = format(tidy(Decimal(amount)), "f")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def reservation_state(host: str | None, pid: int | None, ts: str | None, kind: str | None = None) -> str:
    """``in flight`` while the process that reserved is alive, else ``interrupted``; a batch
    job's worst case is ``awaiting collection`` (the job runs at the provider, whoever submitted
    it has exited, and ``pp.batches()`` collects it from any process)."""
    if kind == "batch":
        return AWAITING
    # os.kill(pid, 0) only asks on POSIX; on Windows it would terminate the process.
    if host == HOST and pid and sys.platform != "win32":
        if pid == os.getpid():
            return "in flight"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return "interrupted"
        except PermissionError:  # alive, owned by another user
            return "in flight"
        return "in flight"
    try:
        started = dt.datetime.fromisoformat(ts) if ts else None
    except ValueError:
        started = None
    if started is None or utc_now() - started > LONGEST_CALL:
        return "interrupted"
    return "in flight"


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
    user: str = field(default_factory=lambda: current_user())


@dataclass(frozen=True)
class Totals:
    """Spending split by how sure we are of it; ``str()`` says it in words."""

    known: Decimal = Decimal(0)             # settled calls whose cost the provider reported
    unknown_calls: int = 0                  # may have been billed, amount not known
    unknown_reserved: Decimal = Decimal(0)  # ... counted at their reservations
    in_flight_calls: int = 0
    in_flight_reserved: Decimal = Decimal(0)
    interrupted_calls: int = 0              # reserved by a process that died before settling
    interrupted_reserved: Decimal = Decimal(0)
    batches_awaiting: int = 0               # batch jobs not collected yet, each at its worst case
    batches_reserved: Decimal = Decimal(0)

    @property
    def counted(self) -> Decimal:
        """What counts against a cap: the known costs plus every open reservation."""
        return Dollars(self.known + self.unknown_reserved + self.in_flight_reserved + self.interrupted_reserved
                       + self.batches_reserved)

    def __str__(self) -> str:
        parts = [f"{dollars(self.known)} known"]
        for n, amount, what in ((self.unknown_calls, self.unknown_reserved, "of unknown cost"),
                                (self.interrupted_calls, self.interrupted_reserved, "interrupted"),
                                (self.in_flight_calls, self.in_flight_reserved, "in flight")):
            if n:
                parts.append(f"{n} call{'s' if n != 1 else ''} {what}, up to {dollars(amount)} reserved")
        if self.batches_awaiting:
            n = self.batches_awaiting
            parts.append(f"{n} batch job{'s' if n != 1 else ''} {AWAITING} (pp.batches()), "
                         f"up to {dollars(self.batches_reserved)} reserved")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"<Totals {self}>"


def summarise(known: int, n_unknown: int, unknown: int, open_rows) -> Totals:
    """A ``Totals`` from settled sums (nanodollars) and the ``(host, pid, ts, reserved_nanos, kind)``
    of every open reservation; each backend reads those its own way."""
    open_ = {"in flight": [0, 0], "interrupted": [0, 0], AWAITING: [0, 0]}
    for host, pid, ts, reserved, kind in open_rows:
        slot = open_[reservation_state(host, pid, ts, kind)]
        slot[0] += 1
        slot[1] += reserved or 0
    return Totals(known=usd(known), unknown_calls=n_unknown, unknown_reserved=usd(unknown),
                  in_flight_calls=open_["in flight"][0], in_flight_reserved=usd(open_["in flight"][1]),
                  interrupted_calls=open_["interrupted"][0],
                  interrupted_reserved=usd(open_["interrupted"][1]),
                  batches_awaiting=open_[AWAITING][0], batches_reserved=usd(open_[AWAITING][1]))


def entry(row: dict) -> dict:
    """A ``calls`` row as ``entries()`` gives it: JSON decoded, dollars, and its ``state``."""
    for k in ("params", "usage", "images"):
        row[k] = json.loads(row[k]) if row[k] else None
    row["cost"] = usd(row.pop("cost_nanos"))
    row.pop("reserved_until")
    row["reserved"] = usd(row.pop("reserved_nanos"))
    if row["status"] == "reserved":
        row["state"] = reservation_state(row["host"], row["pid"], row["ts"], row["kind"])
    elif row["cost"] is None:
        row["state"] = "unknown cost"
    else:
        row["state"] = row["status"]
    return row


class Ledger(abc.ABC):
    @abc.abstractmethod
    def reserve(self, attempt: Attempt, amount: Decimal | None, caps: list[Cap]) -> int:
        """Book ``amount`` against every cap or raise BudgetExceeded; return the row id."""

    @abc.abstractmethod
    def settle(self, row: int, *, status: str, cost: Decimal | None, usage: dict | None = None,
               request_id: str | None = None, images: list[str] | None = None,
               duration: float | None = None, error: str | None = None) -> None:
        """Replace the reservation by what the call cost. ``cost=None``: unknown, and the
        reservation keeps counting. A negative cost is booked as unknown, never as a credit."""

    def release(self, row: int, *, error: str, duration: float | None = None) -> None:
        """The call never reached the provider: the reservation is freed ($0)."""
        self.settle(row, status="error", cost=Decimal(0), error=error, duration=duration)

    def reconcile(self, row: int, *, cost: Decimal | None) -> None:
        """Settle an interrupted reservation by hand, e.g. from the provider's usage page."""
        self.settle(row, status="ok", cost=cost, error="interrupted; reconciled by hand")

    @abc.abstractmethod
    def total(self, *, session: str | None = None, day: dt.date | str | None = None,
              budget: str | None = None) -> Decimal:
        """Settled spending of known cost (USD), all time unless narrowed; see ``summary``."""

    @abc.abstractmethod
    def spent(self, *, budget: str | None = None, day: dt.date | str | None = None,
              user: str | None = None) -> Decimal:
        """What counts against a cap: known costs, plus the reservation of every call of unknown
        cost, in flight or interrupted. ``user`` narrows it to one user's calls (the daily cap
        from the config is the calling user's own)."""

    @abc.abstractmethod
    def summary(self, *, session: str | None = None, day: dt.date | str | None = None,
                budget: str | None = None) -> Totals:
        """Known spending, and calls of unknown cost, in flight and interrupted, apart."""

    @abc.abstractmethod
    def entries(self, limit: int = 50, *, user: str | None = None) -> list[dict]:
        """The newest rows (of ``user``'s calls only, if given), newest first; ``state`` is
        ``in flight``/``interrupted``/``awaiting collection`` (a batch job) for an open
        reservation, ``unknown cost`` for a settled call without a cost, else the status."""

    # Caps a teacher keeps in the ledger for a whole class (rules in budgets.py).
    @abc.abstractmethod
    def set_budget(self, scope: str, limit, per: str | None = None) -> None:
        """Cap ``scope`` (``"class"``, ``"user:*"`` for each user without a cap of their own, or
        ``"user:NAME"``) at ``limit`` dollars, for all time or ``per="day"`` (UTC day);
        ``limit=None`` removes the cap. A call must fit under every cap that applies to it."""

    @abc.abstractmethod
    def budgets(self) -> list[dict]:
        """The caps kept in the ledger: dicts with ``scope``, ``per``, ``limit``, ``set_at``."""

    @abc.abstractmethod
    def totals(self, by: str = "user", day: dt.date | str | None = None) -> list[dict]:
        """The teacher's report: one dict per user (or day, model, provider) with ``calls``,
        ``cost`` (known), ``unknown_cost_calls``, ``reserved`` (what unknown-cost, running and
        interrupted calls hold), and for users ``cap`` and ``left``."""

    @abc.abstractmethod
    def allowance(self, user: str | None = None) -> Decimal | None:
        """What ``user`` (default: this one) may still spend under the ledger's caps; None if
        no cap applies."""

    def session(self) -> Decimal:
        return self.total(session=SESSION_ID)

    def today(self) -> Decimal:
        return self.total(day=utc_now().date())

    def _repr_mimebundle_(self, include=None, exclude=None):
        from ..display import ledger_bundle  # a short table when ``pp.ledger()`` ends a cell

        return ledger_bundle(self)

    # The request cache lives beside the ledger: both answer "have we paid for this already?"
    @abc.abstractmethod
    def cache_get(self, key: str) -> dict | None: ...

    @abc.abstractmethod
    def cache_put(self, key: str, value: dict) -> None: ...


from .sqlite import SQLiteLedger  # noqa: E402  (the default backend needs the classes above)

_ledgers: dict[str, Ledger] = {}
_lock = threading.Lock()


def ledger(path: str | Path | None = None) -> Ledger:
    """The configured ledger: ``path``, else ``PROMPTPAINT_LEDGER`` (a file, or a ``postgresql://``
    URL a class shares), else ``ledger.sqlite3`` under ``PROMPTPAINT_HOME``. ``pp.ledger().total()``."""
    from ..config import home

    if path is None and os.environ.get("PROMPTPAINT_GATEWAY", "").strip():
        # Behind a class gateway: the gateway's ledger is the truth; see gateway/kernel.py.
        from ..gateway import kernel

        with _lock:
            key = "gateway:" + str(home())
            if key not in _ledgers:
                _ledgers[key] = kernel.local_ledger()
            return _ledgers[key]
    where = str(path or os.environ.get("PROMPTPAINT_LEDGER", "").strip() or home() / "ledger.sqlite3")
    with _lock:
        if where not in _ledgers:
            if where.startswith(("postgresql://", "postgres://")):
                from .postgres import DatabaseURL, PostgresLedger  # psycopg is imported only here
                where = DatabaseURL(where)  # shows no password, even in a traceback's locals
                _ledgers[where] = PostgresLedger(where)
            else:
                _ledgers[where] = SQLiteLedger(Path(where).expanduser())
        return _ledgers[where]


__all__ = ["Ledger", "SQLiteLedger", "Cap", "Attempt", "Totals", "LedgerError", "ledger", "utc_now",
           "SESSION_ID", "COUNTED", "Dollars", "dollars", "current_user"]
