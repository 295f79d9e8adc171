"""``GET /promptpaint/v1/me``: the caller's own caps, spending, allowance and recent calls —
theirs only. Money is a decimal string of US dollars, so no float rounding creeps in."""

from __future__ import annotations

from decimal import Decimal

from ..clock import utc_now

SHOWN = ("id", "ts", "day", "provider", "model", "kind", "prompt", "params", "status", "state", "cost",
         "reserved", "request_id", "duration", "error", "usage")


def _money(value) -> str | None:
    return None if value is None else format(Decimal(value), "f")


def effective_caps(budgets: list[dict], user: str) -> list[dict]:
    """The caps that apply to ``user``: their own, else ``user:*``, per period; and the class's."""
    out = []
    for per in (None, "day"):
        own = [b for b in budgets if b["scope"] == f"user:{user}" and b["per"] == per]
        star = [b for b in budgets if b["scope"] == "user:*" and b["per"] == per]
        for b in own or star:
            out.append({"scope": b["scope"], "per": per, "limit": _money(b["limit"])})
        for b in budgets:
            if b["scope"] == "class" and b["per"] == per:
                out.append({"scope": "class", "per": per, "limit": _money(b["limit"])})
    return out


def report(ledger, user: str, *, rate: int | None, limit: int = 50) -> dict:
    mine = next((r for r in ledger.totals(by="user") if r["user"] == user), None) or {
        "calls": 0, "cost": Decimal(0), "unknown_cost_calls": 0, "reserved": Decimal(0)}
    calls = []
    for row in ledger.entries(limit, user=user):
        item = {k: row.get(k) for k in SHOWN}
        item["cost"], item["reserved"] = _money(item["cost"]), _money(item["reserved"])
        calls.append(item)
    allowance = ledger.allowance(user)
    return {
        "user": user,
        "caps": effective_caps(ledger.budgets(), user),
        "rate_per_minute": rate,
        "calls_total": mine["calls"],
        "spent": _money(ledger.spent(user=user)),
        "spent_today": _money(ledger.spent(user=user, day=utc_now().date().isoformat())),
        "known": _money(mine["cost"]),
        "unknown_cost_calls": mine["unknown_cost_calls"],
        "reserved": _money(mine["reserved"]),
        "allowance": _money(allowance),
        "calls": calls,
    }
