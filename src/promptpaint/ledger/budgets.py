"""Caps kept in the ledger, and the per-user report: one set of rules for every backend, in SQL
that SQLite and PostgreSQL both run (``?`` placeholders; the PostgreSQL backend swaps in ``%s``).

A teacher sets caps once, in the ledger every kernel shares: ``user:alice`` (one student),
``user:*`` (every student without a cap of their own), ``class`` (everyone together), each for all
time or ``per="day"`` (the UTC calendar day). A call is admitted only if its reservation fits under
every cap that applies, checked and booked inside one transaction that the backend serialises
(SQLite: ``admit`` under BEGIN IMMEDIATE; PostgreSQL: its ``reserve`` function, the same checks).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Callable, Sequence

from ..clock import current_user, utc_now
from ..errors import BudgetExceeded, InvalidRequest
from ..money import format as dollars, nanos, parse, usd
from .queries import SQLReads
from .state import COUNTED

PERIODS = {None: "total", "day": "day"}

Fetch = Callable[[str, Sequence], list]

_SCOPE = re.compile(r"^(class|user:\*|user:[^\s:*][^\s]{0,127})$")


def check_scope(scope: str) -> str:
    scope = (scope or "").strip()
    if not _SCOPE.match(scope):
        raise InvalidRequest(f"Unknown budget scope {scope!r}: use 'class', 'user:*' (every student) "
                             "or 'user:NAME'.", param="scope")
    return scope


def check_per(per: str | None) -> str:
    if per not in PERIODS:
        raise InvalidRequest(f"per={per!r}: use per=None (all time) or per='day' (each UTC day).",
                             param="per")
    return PERIODS[per]


def check_limit(limit) -> Decimal:
    return parse(limit, "A budget's limit", param="limit")


LEDGER_HINT = ("This cap is kept in the shared ledger: ask whoever runs it (the teacher) to raise it; "
               "`promptpaint budget list` shows every cap.")

# -- statements ----------------------------------------------------------------------------------

SET = ("INSERT INTO {t}budgets (scope, per, limit_nanos, set_at) VALUES (?, ?, ?, ?) "
       "ON CONFLICT (scope, per) DO UPDATE SET limit_nanos = excluded.limit_nanos, set_at = excluded.set_at")
UNSET = "DELETE FROM {t}budgets WHERE scope = ? AND per = ?"
LIST = "SELECT scope, per, limit_nanos, set_at FROM {t}budgets ORDER BY scope, per"

# Every sum a reservation is checked against, each read through an index; the class's all-time
# total is the running total in ``counted`` (migration 4), not a sum over every row of a term.
_SUM = f"(SELECT COALESCE(SUM({COUNTED}), 0) FROM {{t}}calls WHERE {{cond}})"
SPENT = ("SELECT " + _SUM.format(t="{t}", cond='"user" = ?') + ", "
         + _SUM.format(t="{t}", cond='"user" = ? AND day = ?') + ", "
         "(SELECT nanos FROM {t}counted), "
         + _SUM.format(t="{t}", cond="day = ?") + ", "
         + _SUM.format(t="{t}", cond="budget = ?"))


def budget_rows(rows) -> list[dict]:
    return [{"scope": s, "per": None if p == "total" else p, "limit": usd(n), "set_at": str(at)}
            for s, p, n, at in rows]


# The caps on one call, in the order they are checked (the PostgreSQL function in postgres.py
# checks the same ones in the same order and answers with these codes).
WORDS = {"user": "{user}'s class allowance", "user_day": "{user}'s daily class allowance",
         "class": "the class's budget", "class_day": "the class's daily budget",
         "budget": "this budget", "day": "today's budget"}
IN_LEDGER = {"user", "user_day", "class", "class_day"}


def _checks(fetch: Fetch, t: str, user: str, day: str, budget: str | None, client_caps) -> list:
    """Every cap on a call by ``user`` as (code, limit, what counts against it now), read in one
    pass over the rows."""
    stored = {(s, p): n for s, p, n, _ in fetch(LIST.format(t=t), ())}
    user_all, user_day, class_all, class_day, by_budget = fetch(
        SPENT.format(t=t), (user, user, day, day, budget))[0]
    checks = []
    for code, per, spent in (("user", "total", user_all), ("user_day", "day", user_day)):
        own = stored.get((f"user:{user}", per))
        limit = own if own is not None else stored.get(("user:*", per))  # the default for everyone
        if limit is not None:
            checks.append((code, limit, spent))
    for code, per, spent in (("class", "total", class_all), ("class_day", "day", class_day)):
        if ("class", per) in stored:
            checks.append((code, stored[("class", per)], spent))
    for cap in client_caps:
        if cap.scope == "day":  # PROMPTPAINT_DAILY_BUDGET: this user's own spending today
            checks.append(("day", nanos(cap.limit), user_day))
        else:
            checks.append(("budget", nanos(cap.limit), by_budget))
    return checks


# What to do, by the cap that refused: only a cap that is per day resets with tomorrow.
HINTS = {
    "budget": "This budget is for these calls only (budget= on the Client, Studio or Sweep): raise "
              "it, or choose cheaper settings (lower quality, smaller size, fewer images).",
    "day": "Raise daily_budget in the config (or PROMPTPAINT_DAILY_BUDGET), choose cheaper settings, "
           "or wait: today's budget starts again at midnight UTC.",
    "user": LEDGER_HINT, "class": LEDGER_HINT,
    "user_day": LEDGER_HINT + " This allowance is per day: it starts again at midnight UTC.",
    "class_day": LEDGER_HINT + " This budget is per day: it starts again at midnight UTC.",
}


def refusal(code: str, user: str, limit: int, spent: int, need: int) -> BudgetExceeded:
    left = max(Decimal(0), usd(limit) - usd(spent))
    return BudgetExceeded(
        f"This call could cost up to {dollars(usd(need))}, and {WORDS[code].format(user=user)} of "
        f"{dollars(usd(limit))} has {dollars(left)} left.", limit=usd(limit), spent=usd(spent), needed=usd(need),
        hint=HINTS[code])


def admits(ledger, attempt, amount, client_caps: list):
    """``(left, refusal)`` for a call of ``amount`` as ``admit`` would judge it now, booking
    nothing: the least any cap still allows (None: no cap applies) and the BudgetExceeded it
    would raise (None: it fits). Read through the ledger's ``_read`` when it keeps caps of its own;
    a ledger without tables checks the Client's caps against ``spent``."""
    need = nanos(amount) or 0
    if isinstance(ledger, CapsInLedger):
        checks = _checks(ledger._read, ledger._tables, attempt.user, ledger.day().isoformat(),
                         attempt.budget, client_caps)
    else:
        checks = []
        for cap in client_caps:
            spent = (ledger.spent(day=ledger.day(), user=attempt.user) if cap.scope == "day"
                     else ledger.spent(budget=cap.scope))
            checks.append(("day" if cap.scope == "day" else "budget", nanos(cap.limit), nanos(spent)))
    left, refused = None, None
    for code, limit, spent in checks:
        room = max(Decimal(0), usd(limit) - usd(spent))
        left = room if left is None else min(left, room)
        if refused is None and spent + need > limit:
            refused = refusal(code, attempt.user, limit, spent, need)
    return left, refused


def admit(fetch: Fetch, t: str, *, user: str, day: str, budget: str | None, need: int,
          client_caps: list) -> None:
    """Raise BudgetExceeded unless ``need`` nanodollars fit under every cap on this call.

    Call inside the backend's reserve transaction, after it has taken its write lock: the sums
    read here must not change before the row is inserted.
    """
    for code, limit, spent in _checks(fetch, t, user, day, budget, client_caps):
        if spent + need > limit:
            raise refusal(code, user, limit, spent, need)


def allowance(fetch: Fetch, t: str, *, user: str, day: str) -> Decimal | None:
    """What ``user`` may still spend under the caps kept in the ledger (None: no cap applies)."""
    left = [limit - spent for _, limit, spent in _checks(fetch, t, user, day, None, [])]
    return max(Decimal(0), usd(min(left))) if left else None


TOTALS = ("SELECT {key}, COUNT(*) FILTER (WHERE NOT (status = 'error' AND cost_nanos = 0)),"
          " COALESCE(SUM(cost_nanos) FILTER (WHERE status <> 'reserved'), 0),"
          " COUNT(*) FILTER (WHERE status <> 'reserved' AND cost_nanos IS NULL),"
          " COALESCE(SUM(reserved_nanos) FILTER (WHERE status = 'reserved' OR cost_nanos IS NULL), 0),"
          f" COALESCE(SUM({COUNTED}), 0)"
          " FROM {t}calls {where} GROUP BY {key} ORDER BY {key}")
BY = {"user": '"user"', "day": "day", "model": "model", "provider": "provider"}


def totals(fetch: Fetch, t: str, *, by: str = "user", day=None) -> list[dict]:
    """Spending grouped ``by`` user (or day, model, provider), for all time or one ``day``.

    ``cost`` is what settled calls cost where known; ``unknown`` counts calls whose cost nobody
    knows; ``reserved`` is what those and running or interrupted calls hold; for users, ``cap`` is
    the allowance that applies (per day when ``day`` is given) and ``left`` what remains of it.
    """
    if by not in BY:
        raise InvalidRequest(f"by={by!r}: use one of {', '.join(BY)}.", param="by")
    where, args = ("WHERE day = ?", (day,)) if day is not None else ("", ())
    rows = fetch(TOTALS.format(key=BY[by], t=t, where=where), args)
    stored = {(s, p): n for s, p, n, _ in fetch(LIST.format(t=t), ())}
    per = "day" if day is not None else "total"
    out = []
    for key, calls, cost, unknown, reserved, counted in rows:
        row = {by: str(key) if key is not None else None, "calls": calls, "cost": usd(cost),
               "unknown_cost_calls": unknown, "reserved": usd(reserved), "cap": None, "left": None}
        if by == "user":
            cap = stored.get((f"user:{key}", per), stored.get(("user:*", per)))
            if cap is not None:
                row["cap"] = usd(cap)
                row["left"] = max(Decimal(0), usd(cap - counted))
        out.append(row)
    if by == "user":  # a student with a cap of their own is listed before their first call
        seen = {row["user"] for row in out}
        for (scope, p), cap in stored.items():
            name = scope[5:]
            if scope.startswith("user:") and name != "*" and p == per and name not in seen:
                out.append({"user": name, "calls": 0, "cost": Decimal(0), "unknown_cost_calls": 0,
                            "reserved": Decimal(0), "cap": usd(cap), "left": usd(cap)})
        out.sort(key=lambda row: row["user"])
    return out


class CapsInLedger(SQLReads):
    """``set_budget``, ``budgets``, ``totals`` and ``allowance`` for a backend that runs these
    statements through ``_read(sql, args)`` and ``_write(sql, args)`` (``?`` placeholders), with
    its tables named after the prefix ``_tables``."""

    def set_budget(self, scope: str, limit, per: str | None = None) -> None:
        scope, period = check_scope(scope), check_per(per)
        if limit is None:
            self._write(UNSET.format(t=self._tables), (scope, period))
        else:
            self._write(SET.format(t=self._tables),
                        (scope, period, nanos(check_limit(limit)), utc_now().isoformat()))

    def budgets(self) -> list[dict]:
        return budget_rows(self._read(LIST.format(t=self._tables)))

    def totals(self, by: str = "user", day: dt.date | str | None = None) -> list[dict]:
        day = day.isoformat() if isinstance(day, dt.date) else day
        return totals(self._read, self._tables, by=by, day=day)

    def allowance(self, user: str | None = None) -> Decimal | None:
        return allowance(self._read, self._tables, user=user or current_user(),
                         day=self.day().isoformat())
