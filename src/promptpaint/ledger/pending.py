"""Settles the ledger could not take, kept beside the image store until it can.

When booking an answered call fails (the database is down, a connection died twice), the call's
images are already in the store and its row stays reserved, counting at its reservation. The
settle is written here, one JSON line per call under ``PROMPTPAINT_HOME``, and
``promptpaint ledger reconcile --interrupted`` (``replay``) books each again: a settle only
changes a row still reserved, so replaying one twice, or one the ledger did take, changes nothing.
"""

from __future__ import annotations

import json
import os
import threading
from decimal import Decimal
from pathlib import Path

FILE = "unsettled.jsonl"
_lock = threading.Lock()


def _where(ledger) -> str:
    """Which ledger a line belongs to, without any password (``where`` hides it)."""
    return str(getattr(ledger, "where", None) or getattr(ledger, "path", ""))


def _file() -> Path:
    from ..config import home

    return home() / FILE


def keep(ledger, row: int, settle: dict) -> None:
    """Remember ``settle`` (the keywords of ``Ledger.settle``) for ``row``; never raises."""
    line = {"ledger": _where(ledger), "row": row,
            **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in settle.items()}}
    try:
        with _lock, open(_file(), "a", encoding="utf-8") as f:
            f.write(json.dumps(line, default=str) + "\n")
    except OSError:
        pass  # the reservation still counts: nothing is lost by not remembering the cost


def replay(ledger) -> tuple[list[int], list[tuple[int, str]]]:
    """Book every kept settle of ``ledger``; return (rows booked, (row, why) still failing)."""
    from ..errors import LedgerError

    path = _file()
    with _lock:
        try:
            lines = [json.loads(s) for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]
        except (OSError, ValueError):
            return [], []
        mine = _where(ledger)
        keep_lines, done, failed = [], [], []
        for line in lines:
            if line.get("ledger") != mine:
                keep_lines.append(line)
                continue
            fields = {k: v for k, v in line.items() if k not in ("ledger", "row")}
            for k in ("cost", "bound"):
                if fields.get(k) is not None:
                    fields[k] = Decimal(fields[k])
            try:
                ledger.settle(line["row"], **fields)
                done.append(line["row"])
            except LedgerError as exc:
                failed.append((line["row"], exc.message))
                keep_lines.append(line)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(x) + "\n" for x in keep_lines), encoding="utf-8")
        os.replace(tmp, path)
    return done, failed
