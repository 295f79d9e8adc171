"""``promptpaint ledger init|grant``, ``promptpaint budget set|remove|list`` and ``promptpaint cost
--by user``: what a teacher runs to put a class on one ledger, cap it and read who spent what.

The ledger is ``--ledger`` if given, else ``PROMPTPAINT_LEDGER`` (a file or a ``postgresql://`` URL),
else the personal SQLite file. Passwords belong in PGPASSWORD or ~/.pgpass, not in the URL: a
command line is visible to every user of the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt


def add_parsers(sub, cost: argparse.ArgumentParser) -> None:
    led = sub.add_parser("ledger", help="create or migrate a shared ledger, and grant kernels access")
    lsub = led.add_subparsers(dest="action", required=True, metavar="action", help="init or grant")
    init = lsub.add_parser("init", help="create or migrate the ledger's schema (run as the database owner)")
    init.add_argument("url", help="postgresql://OWNER@HOST/DB (or a SQLite file)")
    grant = lsub.add_parser("grant", help="let a login role book its own calls directly (one person or a "
                            "trusted team; a class uses the gateway)")
    grant.add_argument("url", help="postgresql://OWNER@HOST/DB")
    grant.add_argument("role", help="the existing login role kernels connect as")

    bud = sub.add_parser("budget", help="caps kept in the ledger, for a user, every user or the class")
    bsub = bud.add_subparsers(dest="action", required=True, metavar="action", help="set, remove or list")
    bset = bsub.add_parser("set", help="set a cap, e.g. budget set user:alice 2.00 --per day")
    bset.add_argument("scope", help="class, user:* (every user without their own cap) or user:NAME")
    bset.add_argument("amount", nargs="?", help="dollars, e.g. 2.00")
    bset.add_argument("--rate", metavar="N/min", help="also cap requests through the gateway, e.g. 10/min")
    brm = bsub.add_parser("remove", help="remove a cap")
    brm.add_argument("scope", help="class, user:* or user:NAME")
    blist = bsub.add_parser("list", help="list the caps")
    for p in (bset, brm, blist):
        p.add_argument("--ledger", help="the ledger (default: PROMPTPAINT_LEDGER)")
    for p in (bset, brm):
        p.add_argument("--per", choices=["day"], help="a cap per UTC day instead of for all time")

    cost.add_argument("--by", choices=["user", "day", "model", "provider"],
                      help="a table of spending by user (the teacher's report), day, model or provider")
    cost.add_argument("--day", help="only this UTC day, YYYY-MM-DD (with --by)")


def _open(where: str | None):
    import promptpaint as pp

    return pp.ledger(where) if where else pp.ledger()


def ledger_cmd(args) -> int:
    from .errors import InvalidRequest
    from .ledger import SQLiteLedger

    if args.url.startswith(("postgresql://", "postgres://")):
        from .ledger.postgres import PostgresLedger

        led = PostgresLedger(args.url, check=False)
    elif args.action == "grant":
        raise InvalidRequest("grant is for a PostgreSQL ledger: pass its postgresql:// URL.")
    else:
        led = SQLiteLedger(args.url)  # opening a file migrates it
    try:
        if args.action == "init":
            found = led.init() if hasattr(led, "init") else None
            where = getattr(led, "where", args.url)
            print(f"{where}: ledger ready" + (f" (migrated from schema version {found})" if found else ""))
        else:
            led.grant(args.role)
            print(f"{led.where}: {args.role} may now book and settle its own calls and read its own rows; "
                  "it cannot change budgets or settled rows.\nThis is for one person or a trusted team: a "
                  "class goes through `promptpaint gateway serve`, and students' kernels never connect "
                  "to the database.")
    finally:
        led.close()
    return 0


def budget_cmd(args) -> int:
    from .ledger import dollars

    led = _open(args.ledger)
    if args.action == "set":
        if args.amount is None and not args.rate:
            from .errors import InvalidRequest

            raise InvalidRequest("budget set SCOPE AMOUNT (dollars), and/or --rate N/min.")
        if args.amount is not None:
            led.set_budget(args.scope, args.amount, per=args.per)
        if args.rate:  # requests per minute, enforced by the class gateway
            from .gateway import rules

            rules.set_rate(led, args.scope, rules.parse_rate(args.rate))
    elif args.action == "remove":
        led.set_budget(args.scope, None, per=args.per)
    rows = led.budgets()
    if not rows:
        print("no caps in this ledger")
    for b in rows:
        print(f"{b['scope']:24} {dollars(b['limit']):>10} {'per day' if b['per'] else 'all time':8} set {b['set_at'][:19]}")
    try:  # requests per minute through the gateway (schema 6)
        rates = led._read(f"SELECT scope, per_minute FROM {led._tables}rates ORDER BY scope")
    except Exception:
        rates = []
    for scope, n in rates:
        print(f"{scope:24} {n:>6}/min  requests through the gateway")
    return 0


def cost_by(args) -> int:
    from .errors import InvalidRequest
    from .ledger import dollars

    day = None
    if args.day:
        try:
            day = dt.date.fromisoformat(args.day)
        except ValueError:
            raise InvalidRequest(f"--day {args.day!r}: write the UTC day as YYYY-MM-DD.") from None
    if args.by == "user" and day is None:
        return _effective(_open(None))
    rows = _open(None).totals(by=args.by, day=day)
    print(f"{args.by:20} {'calls':>6} {'cost':>10} {'unknown':>8} {'reserved':>10} {'cap':>10} {'left':>10}")
    for r in rows:
        cap = dollars(r["cap"]) if r["cap"] is not None else "-"
        left = dollars(r["left"]) if r["left"] is not None else "-"
        print(f"{r[args.by]:20} {r['calls']:>6} {dollars(r['cost']):>10} {r['unknown_cost_calls']:>8} "
              f"{dollars(r['reserved']):>10} {cap:>10} {left:>10}")
    if not rows:
        print("no calls" + (f" on {day}" if day else ""))
    return 0


def _effective(led) -> int:
    """``cost --by user``: each student's effective caps (their own or user:*, all time and per
    UTC day) with what is left, then the class's."""
    from .ledger import dollars
    from .ledger.effective import by_user

    def cap(amount, scope):
        return f"{dollars(amount)} {scope}" if amount is not None else "-"

    rows, klass = by_user(led)
    print(f"{'user':20} {'calls':>6} {'cost':>10} {'unknown':>8} {'reserved':>10}  {'cap':18} {'left':>10}"
          f"  {'per day':18} {'left today':>10}")
    for r in rows:
        left = dollars(r["left"]) if r["left"] is not None else "-"
        day_left = dollars(r["day_left"]) if r["day_left"] is not None else "-"
        print(f"{r['user']:20} {r['calls']:>6} {dollars(r['cost']):>10} {r['unknown_cost_calls']:>8} "
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
    return 0
