"""The read-side SQL both backends share: the same statements through ``_read(sql, args)``, with
the ``calls`` table under the prefix ``_tables`` and filters bound with ``_placeholder``."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from ..errors import InvalidRequest
from ..money import format as dollars, nanos, usd
from .state import COUNTED, OVER_SQL, Totals, summarise

# What ``reconcile`` may overwrite: a row whose cost is not known (in flight, interrupted, unknown,
# or priced above its reservation). A known cost stays as booked.
RECONCILE = ("UPDATE {t}calls SET cost_nanos = ?, status = CASE WHEN status = 'reserved' THEN 'ok' ELSE status END,"
             " error = CASE WHEN error IS NULL OR error = '' THEN ? ELSE error || '; ' || ? END"
             " WHERE id = ? AND cost_nanos IS NULL")


def over_note(reported: int, reserved: int | None) -> str:
    """The error text of a row priced above its reservation."""
    return (f"its usage priced at {dollars(usd(reported))}, above the {dollars(usd(reserved))} it could cost: "
            "booked as unknown and counted at its reservation until reconciled")


class SQLReads:
    _tables = ""
    _placeholder = "?"

    def _where(self, **filters) -> tuple[str, list]:
        where, args = ["1=1"], []
        for column, value in filters.items():
            if value is not None:
                where.append(f'"{column}" = {self._placeholder}')  # quoted: "user" is a keyword in PostgreSQL
                args.append(value.isoformat() if isinstance(value, dt.date) else str(value))
        return " AND ".join(where), args

    def total(self, *, session=None, day=None, budget=None, user=None) -> Decimal:
        where, args = self._where(session=session, day=day, budget=budget, user=user)
        return usd(self._read(f"SELECT COALESCE(SUM(cost_nanos), 0) FROM {self._tables}calls"
                              f" WHERE status <> 'reserved' AND {where}", args)[0][0])

    def spent(self, *, budget=None, day=None, user=None) -> Decimal:
        where, args = self._where(budget=budget, day=day, user=user)
        return usd(self._read(f"SELECT COALESCE(SUM({COUNTED}), 0) FROM {self._tables}calls WHERE {where}",
                              args)[0][0])

    def count(self, *, day=None) -> int:
        """How many calls were booked (any outcome), all time or on one UTC day (for pp.ledger()'s table)."""
        where, args = self._where(day=day)
        return self._read(f"SELECT COUNT(*) FROM {self._tables}calls WHERE {where}", args)[0][0]

    def summary(self, *, session=None, day=None, budget=None) -> Totals:
        where, args = self._where(session=session, day=day, budget=budget)
        t = self._tables
        unknown = "(cost_nanos IS NULL AND reported_nanos IS NULL)"
        known, n_unknown, unknown, *over = self._read(
            "SELECT COALESCE(SUM(cost_nanos), 0),"
            f" COALESCE(SUM(CASE WHEN {unknown} THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN {unknown} THEN reserved_nanos END), 0),"
            f" COALESCE(SUM(CASE WHEN {OVER_SQL} THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN {OVER_SQL} THEN reported_nanos END), 0),"
            f" COALESCE(SUM(CASE WHEN {OVER_SQL} THEN reserved_nanos END), 0)"
            f" FROM {t}calls WHERE status <> 'reserved' AND {where}", args)[0]
        return summarise(known, n_unknown, unknown, self._read(
            f"SELECT host, pid, ts, reserved_nanos, kind FROM {t}calls WHERE status = 'reserved' AND {where}",
            args), over=tuple(over))

    def over_reservation(self, *, user: str | None = None) -> list[dict]:
        """Calls priced above their reservation, flagged for review, oldest first: ``id``, ``ts``,
        ``user``, ``provider``, ``model``, ``prompt``, ``reserved`` (what each counts at) and
        ``reported`` (what its usage priced at)."""
        where, args = self._where(user=user)
        columns = ("id", "ts", "user", "provider", "model", "prompt", "reserved_nanos", "reported_nanos")
        rows = self._read(f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)} FROM {self._tables}calls"
                          f" WHERE {OVER_SQL} AND {where} ORDER BY id", args)
        out = []
        for values in rows:
            row = dict(zip(columns, values))
            row["reserved"], row["reported"] = usd(row.pop("reserved_nanos")), usd(row.pop("reported_nanos"))
            out.append(row)
        return out

    def reconcile(self, row: int, *, cost) -> None:
        """Book ``cost`` (USD, e.g. from the provider's usage page) on a row whose cost is not known:
        in flight, interrupted, of unknown cost, or priced above its reservation. ``cost=None``
        settles a reservation as of unknown cost. A row with a known cost is left as booked."""
        if cost is None:
            self.settle(row, status="ok", cost=None, error="interrupted; reconciled by hand")
            return
        amount = nanos(cost)
        if amount < 0:
            raise InvalidRequest(f"A reconciled cost cannot be negative ({cost}).", param="cost")
        note = f"reconciled by hand at {dollars(usd(amount))}"
        if not self._write(RECONCILE.format(t=self._tables), (amount, note, note, row)):
            raise InvalidRequest(f"Ledger row {row} has a known cost, does not exist, or is not yours to change: "
                                 "nothing was reconciled.", hint="`promptpaint cost --last N` lists rows with their "
                                 "ids; on a shared ledger the teacher (its owner) reconciles.", param="row")

    def call_row(self, row_id: int) -> dict | None:
        """Row ``row_id`` with the fields ``image_origin`` gives (and ``images``); None if absent.
        For a caller that knows which call made an image (the Studio), where a lookup by the
        image's hash could find another call that made the same bytes."""
        if type(row_id) is not int:
            return None
        columns = ("id", "ts", "provider", "model", "kind", "prompt", "params", "cost_nanos", "request_id",
                   "images")
        rows = self._read(f"SELECT {', '.join(columns)} FROM {self._tables}calls WHERE id = "
                          f"{self._placeholder}", (row_id,))
        if not rows:
            return None
        row = dict(zip(columns, rows[0]))
        row["images"] = json.loads(row["images"] or "[]")
        row["params"] = json.loads(row["params"]) if row["params"] else None
        row["cost"] = usd(row.pop("cost_nanos"))
        return row

    def image_origin(self, digest: str) -> dict | None:
        """How image ``digest`` (its sha256 in the store) was made: the newest call that produced
        it, with ``id``, ``ts``, ``provider``, ``model``, ``kind``, ``prompt``, ``params``, ``cost``
        and ``request_id``; None when no call did. One query instead of reading every
        row into Python."""
        if not re.fullmatch(r"[0-9a-f]{16,128}", digest or ""):
            return None  # a store id is hex: nothing else can match (and no LIKE wildcard gets in)
        columns = ("id", "ts", "provider", "model", "kind", "prompt", "params", "cost_nanos", "request_id",
                   "images")
        rows = self._read(f"SELECT {', '.join(columns)} FROM {self._tables}calls WHERE images LIKE "
                          f"{self._placeholder} ORDER BY id DESC", (f'%"{digest}"%',))
        for values in rows:
            row = dict(zip(columns, values))
            if digest in json.loads(row.pop("images") or "[]"):
                row["params"] = json.loads(row["params"]) if row["params"] else None
                row["cost"] = usd(row.pop("cost_nanos"))
                return row
        return None

