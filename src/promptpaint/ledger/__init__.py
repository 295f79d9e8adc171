"""Where calls are booked: one row per attempt, with reserve/settle so budgets hold under concurrency.

``Ledger`` (``base.py``) is the interface; ``SQLiteLedger`` (``sqlite.py``) the default backend, a
shared one for a whole class (PostgreSQL, ``postgres.py``) implements the same methods with the same
meaning. One job per module:

- ``attempt.py``: ``Attempt`` (a call before it is sent), ``Cap``, ``SESSION_ID``;
- ``state.py``: what a row means (in flight, interrupted, unknown cost) and ``Totals``;
- ``queries.py``/``budgets.py``: the SQL both backends share (reads; caps and the class report);
- ``migrations.py``: the schema versions; ``report.py``: the table a notebook shows;
- ``factory.py``: ``ledger()``, the configured ledger.

Amounts are ``money.Dollars``; the ledger stores integer nanodollars (``money.nanos``/``usd``).
This file only gathers the public names, so ``from promptpaint.ledger import X`` keeps working.
"""

from __future__ import annotations

from ..clock import HOST, current_user, utc_now  # noqa: F401  (re-exported: old import paths)
from ..errors import LedgerError
from ..money import NANO, Dollars, format as dollars, nanos, usd  # noqa: F401  (old import paths)
from .attempt import SESSION_ID, Attempt, Cap
from .base import Ledger
from .factory import _ledgers, ledger  # noqa: F401  (_ledgers: tests drop cached ledgers)
from .sqlite import SQLiteLedger
from .state import AWAITING, COUNTED, LONGEST_CALL, Totals, entry, reservation_state, summarise  # noqa: F401

__all__ = ["Ledger", "SQLiteLedger", "Cap", "Attempt", "Totals", "LedgerError", "ledger", "utc_now",
           "SESSION_ID", "COUNTED", "Dollars", "dollars", "current_user"]
