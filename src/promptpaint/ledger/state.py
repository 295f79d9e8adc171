"""What a booked row means: a reservation in flight, interrupted or awaiting a batch's collection,
a settled cost or an unknown one, and the ``Totals`` that keep those apart.

What counts against a cap (``spent``) is every row's known cost, else its reservation: a call of
unknown cost, a call in flight and a reservation left by a dead process (*interrupted*) all count
until someone reconciles them. Nothing expires on its own: a paid call must never become free.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass
from decimal import Decimal

from ..clock import HOST, utc_now
from ..money import Dollars, format as dollars, usd

# A reservation whose owner cannot be checked (another machine) is listed as interrupted once it
# is older than any call can run (600 s timeout x 3 attempts, with room). Listing only: it counts
# against caps either way until reconciled.
LONGEST_CALL = dt.timedelta(hours=1)

# The SQL expression both backends sum for "what counts against a cap": a known cost, else the
# reservation (unknown cost, in flight, interrupted). A released row has cost 0.
COUNTED = "COALESCE(cost_nanos, reserved_nanos, 0)"
AWAITING = "awaiting collection"
# A settled call whose usage priced above its reservation: kept as reported, counted at the
# reservation until reconciled (``promptpaint ledger reconcile ID --cost X``).
OVER = "over its reservation"
OVER_SQL = "(status <> 'reserved' AND cost_nanos IS NULL AND reported_nanos IS NOT NULL)"


def bounded(cost: int | None, reserved: int | None, bound: int | None = None) -> tuple[int | None, int | None]:
    """``(cost to book, cost reported)`` in nanodollars for a call settled at ``cost``.

    A cost above the call's bound (``bound``, else its reservation) is no bill the call could have
    run up: a bogus usage (100M tokens) must not exhaust a budget. It is booked as unknown, so it
    counts at the reservation, and kept in ``reported`` for review. A $0 reservation bounds nothing
    (a batch line whose job holds its worst case, a free call), nor does an unbounded one (None).
    """
    limit = bound if bound is not None else (reserved or None)
    if cost is not None and limit is not None and cost > limit:
        return None, cost
    return cost, None


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
class Totals:
    """Spending split by how sure we are of it; ``str()`` says it in words."""

    known: Decimal = Decimal(0)             # settled calls whose cost the provider reported
    unknown_calls: int = 0                  # may have been billed, amount not known
    unknown_reserved: Decimal = Decimal(0)  # ... counted at their reservations
    in_flight_calls: int = 0
    in_flight_reserved: Decimal = Decimal(0)
    interrupted_calls: int = 0              # reserved by a process that died before settling
    interrupted_reserved: Decimal = Decimal(0)
    over_calls: int = 0                     # priced above their reservation, flagged for review
    over_reported: Decimal = Decimal(0)     # ... what their usage priced at (not counted)
    over_reserved: Decimal = Decimal(0)     # ... what they count at: their reservations
    batches_awaiting: int = 0               # batch jobs not collected yet, each at its worst case
    batches_reserved: Decimal = Decimal(0)

    @property
    def counted(self) -> Decimal:
        """What counts against a cap: the known costs plus every open reservation."""
        return Dollars(self.known + self.unknown_reserved + self.in_flight_reserved + self.interrupted_reserved
                       + self.batches_reserved + self.over_reserved)

    def __str__(self) -> str:
        parts = [f"{dollars(self.known)} known"]
        for n, amount, what in ((self.unknown_calls, self.unknown_reserved, "of unknown cost"),
                                (self.interrupted_calls, self.interrupted_reserved, "interrupted"),
                                (self.in_flight_calls, self.in_flight_reserved, "in flight")):
            if n:
                parts.append(f"{n} call{'s' if n != 1 else ''} {what}, up to {dollars(amount)} reserved")
        if self.over_calls:
            n = self.over_calls
            parts.append(f"{n} call{'s' if n != 1 else ''} {OVER} for review (reported "
                         f"{dollars(self.over_reported)}, counted at {dollars(self.over_reserved)} until "
                         "`promptpaint ledger reconcile ID --cost X`)")
        if self.batches_awaiting:
            n = self.batches_awaiting
            parts.append(f"{n} batch job{'s' if n != 1 else ''} {AWAITING} (pp.batches()), "
                         f"up to {dollars(self.batches_reserved)} reserved")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"<Totals {self}>"


def summarise(known: int, n_unknown: int, unknown: int, open_rows, over=(0, 0, 0)) -> Totals:
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
                  batches_awaiting=open_[AWAITING][0], batches_reserved=usd(open_[AWAITING][1]),
                  over_calls=over[0], over_reported=usd(over[1]), over_reserved=usd(over[2]))


def entry(row: dict) -> dict:
    """A ``calls`` row as ``entries()`` gives it: JSON decoded, dollars, and its ``state``."""
    for k in ("params", "usage", "images"):
        row[k] = json.loads(row[k]) if row[k] else None
    row["cost"] = usd(row.pop("cost_nanos"))
    row.pop("reserved_until")
    row["reserved"] = usd(row.pop("reserved_nanos"))
    row["reported"] = usd(row.pop("reported_nanos", None))
    if row["status"] == "reserved":
        row["state"] = reservation_state(row["host"], row["pid"], row["ts"], row["kind"])
    elif row["cost"] is None and row["reported"] is not None:
        row["state"] = OVER
    elif row["cost"] is None:
        row["state"] = "unknown cost"
    else:
        row["state"] = row["status"]
    return row
