"""``pp.ledger()``: the configured ledger, one object per place for the whole process."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .base import Ledger
from .sqlite import SQLiteLedger

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
