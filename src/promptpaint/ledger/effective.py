"""Each student's effective caps, for the teacher's ``promptpaint cost --by user``: the cap that
applies to them (their own ``user:NAME``, else ``user:*``), for all time and per UTC day, with
what is left of each; and the class's caps with what is left of them. Built from the ``Ledger``
interface only (``budgets``, ``totals``, ``spent``), so both backends give the same table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal



def _cap(budgets: list[dict], user: str, per) -> tuple[str | None, Decimal | None]:
    for scope in (f"user:{user}", "user:*"):
        for b in budgets:
            if b["scope"] == scope and b["per"] == per:
                return scope, b["limit"]
    return None, None


def by_user(ledger, today: dt.date | None = None) -> tuple[list[dict], dict]:
    """(one row per user, the class's row). A user row: ``user, calls, cost, unknown_cost_calls,
    reserved, counted, cap_scope, cap, left, day_cap_scope, day_cap, day_counted, day_left``."""
    today = today or ledger.day()
    budgets = ledger.budgets()
    all_rows = ledger.totals(by="user")
    day_rows = {r["user"]: r for r in ledger.totals(by="user", day=today)}
    out = []
    for r in all_rows:
        user = r["user"]
        counted = r["cost"] + r["reserved"]
        day = day_rows.get(user)
        day_counted = (day["cost"] + day["reserved"]) if day else Decimal(0)
        scope, cap = _cap(budgets, user, None)
        day_scope, day_cap = _cap(budgets, user, "day")
        out.append({**{k: r[k] for k in ("user", "calls", "cost", "unknown_cost_calls", "reserved")},
                    "counted": counted, "cap_scope": scope, "cap": cap,
                    "left": None if cap is None else max(Decimal(0), cap - counted),
                    "day_cap_scope": day_scope, "day_cap": day_cap, "day_counted": day_counted,
                    "day_left": None if day_cap is None else max(Decimal(0), day_cap - day_counted)})
    klass = {"cap": None, "left": None, "day_cap": None, "day_left": None,
             "counted": ledger.spent(), "day_counted": ledger.spent(day=today)}
    for b in budgets:
        if b["scope"] == "class":
            key = "day_cap" if b["per"] == "day" else "cap"
            used = klass["day_counted"] if b["per"] == "day" else klass["counted"]
            klass[key] = b["limit"]
            klass[key.replace("cap", "left")] = max(Decimal(0), b["limit"] - used)
    return out, klass
