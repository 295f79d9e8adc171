"""``promptpaint cost``: what calls have cost (session, today, all time), and ``cost --by user``,
the teacher's table of who spent what."""

from __future__ import annotations

import datetime as dt

from .params import LEDGER_FLAG, Command, P
from .safe import pad, shown

OVER_TITLE = ("over their reservation (the usage priced above what the call could cost: kept as reported, "
              "each counts at its reservation until `promptpaint ledger reconcile ID --cost X`):")


def _listing(title: str, rows, dollars) -> None:
    print(title)
    for row in rows:
        print(f"  #{row['id']} {row['ts'][:19]} {shown(row['provider'])}/{shown(row['model'])}  up to "
              f"{dollars(row['reserved'])}  {shown((row['prompt'] or '')[:50])}")


def _over(led, dollars) -> None:
    """Calls flagged for review: what the usage said, what counts, whose, and the id to reconcile."""
    rows = led.over_reservation() if hasattr(led, "over_reservation") else []
    if rows:
        print(OVER_TITLE)
    for row in rows:
        print(f"  #{row['id']} {row['ts'][:19]} {pad(row['user'], 12)} {shown(row['provider'])}/"
              f"{shown(row['model'])}  reported {dollars(row['reported'])}, counted {dollars(row['reserved'])}  "
              f"{shown((row['prompt'] or '')[:50])}")


def run(args) -> int:
    if args.by:
        return by(args)
    import promptpaint as pp

    from ..clock import utc_now
    from ..ledger import AWAITING, SESSION_ID
    from ..money import format as dollars

    led = pp.ledger()
    # Calls of unknown cost and interrupted ones are shown apart, never folded in as $0.
    print(f"this session: {led.summary(session=SESSION_ID)}")
    print(f"today (UTC):  {led.summary(day=utc_now().date())}")
    every = led.summary()
    print(f"all time:     {every}")
    if every.counted != every.known:
        print(f"counting against caps today: {dollars(led.spent(day=utc_now().date()))} "
              "(calls of unknown cost count at their reservation)")
    rows = led.entries(args.last) if args.last else []
    interrupted = [r for r in led.entries(10_000) if r["state"] == "interrupted"] if every.interrupted_calls else []
    if interrupted:
        _listing("interrupted (the process died before booking the answer; each counts at its "
                 "reservation until reconciled):", interrupted, dollars)
    awaiting = [r for r in led.entries(10_000) if r["state"] == AWAITING] if every.batches_awaiting else []
    if awaiting:
        _listing(f"batch jobs {AWAITING} (they run at the provider; collect them with pp.batches() from "
                 "any session; each counts at its worst case until then):", awaiting, dollars)
    for row in rows:
        if row["cost"] is not None:
            cost = dollars(row["cost"])
        elif row.get("reported") is not None:  # flagged: what the usage said is not what counts
            cost = f"reported {dollars(row['reported'])}, counted {dollars(row['reserved'])} (review)"
        else:
            held = f", up to {dollars(row['reserved'])}" if row["reserved"] else ""
            state = row["state"] if row["state"] in ("interrupted", AWAITING) else "unknown"
            cost = f"{state}{held}"
        # The row id (for `promptpaint ledger reconcile ID`) and whose call it was.
        print(f"#{row['id']:<6} {row['ts'][:19]}  {pad(row['user'], 12)} {pad(row['status'], 8)} "
              f"{shown(row['provider'])}/{shown(row['model'])}  {cost}  {shown((row['prompt'] or '')[:50])}")
    _over(led, dollars)
    return 0


def by(args) -> int:
    """A table of spending by user (with each one's cap and what is left), day, model or provider."""
    import promptpaint as pp

    from ..errors import InvalidRequest
    from ..money import format as dollars

    day = None
    if args.day:
        try:
            day = dt.date.fromisoformat(args.day)
        except ValueError:
            raise InvalidRequest(f"--day {args.day!r}: write the UTC day as YYYY-MM-DD.") from None
    if args.by == "user" and day is None:
        return effective(pp.ledger())
    rows = pp.ledger().totals(by=args.by, day=day)
    print(f"{args.by:20} {'calls':>6} {'cost':>10} {'unknown':>8} {'reserved':>10} {'cap':>10} {'left':>10}")
    for r in rows:
        cap = dollars(r["cap"]) if r["cap"] is not None else "-"
        left = dollars(r["left"]) if r["left"] is not None else "-"
        print(f"{pad(r[args.by], 20)} {r['calls']:>6} {dollars(r['cost']):>10} {r['unknown_cost_calls']:>8} "
              f"{dollars(r['reserved']):>10} {cap:>10} {left:>10}")
    if not rows:
        print("no calls" + (f" on {day}" if day else ""))
    return 0


def effective(led) -> int:
    """``cost --by user``: each student's effective caps (their own or user:*, all time and per
    UTC day) with what is left, then the class's."""
    from ..ledger.effective import by_user
    from ..money import format as dollars

    def cap(amount, scope):
        return f"{dollars(amount)} {shown(scope)}" if amount is not None else "-"

    rows, klass = by_user(led)
    print(f"{'user':20} {'calls':>6} {'cost':>10} {'unknown':>8} {'reserved':>10}  {'cap':18} {'left':>10}"
          f"  {'per day':18} {'left today':>10}")
    for r in rows:
        left = dollars(r["left"]) if r["left"] is not None else "-"
        day_left = dollars(r["day_left"]) if r["day_left"] is not None else "-"
        print(f"{pad(r['user'], 20)} {r['calls']:>6} {dollars(r['cost']):>10} {r['unknown_cost_calls']:>8} "
              f"{dollars(r['reserved']):>10}  {cap(r['cap'], r['cap_scope']):18} {left:>10}  "
              f"{cap(r['day_cap'], r['day_cap_scope']):18} {day_left:>10}")
    if not rows:
        print("no calls")
    parts = [f"class: {dollars(klass['counted'])} counted against caps"]
    parts.append(f"cap {dollars(klass['cap'])}, {dollars(klass['left'])} left" if klass["cap"] is not None
                 else "no class cap")
    if klass["day_cap"] is not None:
        parts.append(f"today {dollars(klass['day_counted'])} of {dollars(klass['day_cap'])} per day, "
                     f"{dollars(klass['day_left'])} left")
    print("; ".join(parts))
    _over(led, dollars)
    return 0


COMMANDS = [
    Command("cost", "what calls have cost: session, today and all time", run, (
        P("--last", type=int, default=0, metavar="N", help="also list the last N calls"),
        P("--by", choices=["user", "day", "model", "provider"],
          help="a table of spending by user (the teacher's report), day, model or provider"),
        P("--day", help="only this UTC day, YYYY-MM-DD (with --by)"),
    ), description="What calls have cost, from the ledger."),
]
