"""Settles of answered calls, kept beside the image store until the ledger has them.

Before an answered call is booked (its images already in the store), its settle is appended here,
one JSON line under ``PROMPTPAINT_HOME``; once the ledger took it, a ``done`` line follows. If
booking fails (the database is down, a connection died twice) or the process dies in between, the
row stays reserved, counting at its reservation, and ``promptpaint ledger reconcile --interrupted``
(``replay``) books what was kept: a settle only changes a row still reserved, so replaying one
twice, or one the ledger did take, changes nothing.
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


COMPACT_AT = 256 * 1024  # bytes: the journal is rewritten with only what is still open


def _append(line: dict) -> None:
    try:
        with _lock, open(_file(), "a", encoding="utf-8") as f:
            f.write(json.dumps(line, default=str) + "\n")
    except OSError:
        pass  # the reservation still counts: nothing is lost by not remembering the cost


def keep(ledger, row: int, settle: dict) -> None:
    """Remember ``settle`` (the keywords of ``Ledger.settle``) for ``row``; never raises."""
    _append({"ledger": _where(ledger), "row": row,
             **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in settle.items()}})


def done(ledger, row: int) -> None:
    """The ledger has ``row``'s settle; never raises. A long journal is compacted now and then."""
    _append({"ledger": _where(ledger), "row": row, "done": True})
    try:
        if _file().stat().st_size > COMPACT_AT:
            with _lock:
                _rewrite(_open_lines(_load()))
    except OSError:
        pass


def _load() -> list[dict]:
    try:
        text = _file().read_text(encoding="utf-8")
    except OSError:
        return []
    out = []
    for s in text.splitlines():
        try:
            line = json.loads(s)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(line, dict) and "row" in line:
            out.append(line)
    return out


def _open_lines(lines: list[dict]) -> list[dict]:
    """The kept settles the ledger has not confirmed, each row's last one."""
    closed = {(x.get("ledger"), x["row"]) for x in lines if x.get("done")}
    last = {}
    for x in lines:
        if not x.get("done") and (x.get("ledger"), x["row"]) not in closed:
            last[(x.get("ledger"), x["row"])] = x
    return list(last.values())


def _rewrite(lines: list[dict]) -> None:
    path = _file()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(x, default=str) + "\n" for x in lines), encoding="utf-8")
    os.replace(tmp, path)


def replay(ledger) -> tuple[list[int], list[tuple[int, str]]]:
    """Book every kept settle of ``ledger`` the ledger has not confirmed; return (rows booked,
    (row, why) still failing)."""
    from ..errors import LedgerError

    mine = _where(ledger)
    with _lock:
        lines = _open_lines(_load())
        keep_lines, booked, failed = [], [], []
        for line in lines:
            if line.get("ledger") != mine:
                keep_lines.append(line)
                continue
            fields = {k: v for k, v in line.items() if k not in ("ledger", "row", "done")}
            for k in ("cost", "bound"):
                if fields.get(k) is not None:
                    fields[k] = Decimal(fields[k])
            try:
                ledger.settle(line["row"], **fields)
                booked.append(line["row"])
            except LedgerError as exc:
                failed.append((line["row"], exc.message))
                keep_lines.append(line)
        try:
            _rewrite(keep_lines)
        except OSError:
            pass
    return booked, failed
