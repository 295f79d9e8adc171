"""The read-side SQL both backends share: the same statements through ``_read(sql, args)``, with
the ``calls`` table under the prefix ``_tables`` and filters bound with ``_placeholder``."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from ..money import usd
from .state import COUNTED, Totals, summarise


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
        known, n_unknown, unknown = self._read(
            "SELECT COALESCE(SUM(cost_nanos), 0),"
            " COALESCE(SUM(CASE WHEN cost_nanos IS NULL THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN cost_nanos IS NULL THEN reserved_nanos END), 0)"
            f" FROM {t}calls WHERE status <> 'reserved' AND {where}", args)[0]
        return summarise(known, n_unknown, unknown, self._read(
            f"SELECT host, pid, ts, reserved_nanos, kind FROM {t}calls WHERE status = 'reserved' AND {where}",
            args))

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

