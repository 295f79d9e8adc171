"""``promptpaint ledger init|grant`` and ``promptpaint budget set|remove|list``: what a teacher runs
to put a class on one ledger and cap it (``cost --by user`` reads who spent what).

The ledger is ``--ledger`` if given, else ``PROMPTPAINT_LEDGER`` (a file or a ``postgresql://`` URL),
else the personal SQLite file. Passwords belong in PGPASSWORD or ~/.pgpass, not in the URL: a
command line is visible to every user of the machine.
"""

from __future__ import annotations

from .params import LEDGER_FLAG, PER_DAY, Command, P
from .safe import pad


def _open(where: str | None):
    import promptpaint as pp

    return pp.ledger(where) if where else pp.ledger()


def ledger_cmd(args) -> int:
    from ..errors import InvalidRequest
    from ..ledger import SQLiteLedger

    if args.url.startswith(("postgresql://", "postgres://")):
        from ..ledger.postgres import PostgresLedger

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
    from ..money import format as dollars

    led = _open(args.ledger)
    if args.action == "set":
        if args.amount is None and not args.rate:
            from ..errors import InvalidRequest

            raise InvalidRequest("budget set SCOPE AMOUNT (dollars), and/or --rate N/min.")
        if args.amount is not None:
            led.set_budget(args.scope, args.amount, per=args.per)
        if args.rate:  # requests per minute, enforced by the class gateway
            from ..gateway import rules

            rules.set_rate(led, args.scope, rules.parse_rate(args.rate))
    elif args.action == "remove":
        led.set_budget(args.scope, None, per=args.per)
    rows = led.budgets()
    if not rows:
        print("no caps in this ledger")
    for b in rows:
        print(f"{pad(b['scope'], 24)} {dollars(b['limit']):>10} {'per day' if b['per'] else 'all time':8} set {b['set_at'][:19]}")
    from ..gateway import rules

    for scope, n in rules.rates(led):
        print(f"{pad(scope, 24)} {n:>6}/min  requests through the gateway")
    return 0


def reconcile_cmd(args) -> int:
    """``ledger reconcile ID --cost X``: book a row of unknown cost (priced above its reservation,
    interrupted, may have been billed) at what the provider's bill says. ``--interrupted``: book
    the settles this machine kept when the ledger could not take them (``ledger/pending.py``)."""
    from ..errors import InvalidRequest
    from ..ledger import pending
    from ..money import format as dollars, parse

    led = _open(args.ledger)
    if args.interrupted:
        done, failed = pending.replay(led)
        print(f"{len(done)} call{'' if len(done) == 1 else 's'} booked from what this machine kept"
              + (f": rows {', '.join(f'#{r}' for r in done)}" if done else ""))
        for row, why in failed:
            print(f"#{row} still not booked: {why}")
        return 1 if failed else 0
    if args.row is None or args.cost is None:
        raise InvalidRequest("ledger reconcile ID --cost X (the row id from `promptpaint cost --last N`), "
                             "or ledger reconcile --interrupted.")
    cost = parse(args.cost, "--cost")
    led.reconcile(args.row, cost=cost)
    print(f"#{args.row}: reconciled at {dollars(cost)}; it now counts at that cost")
    return 0


SCOPE = "class, user:* (every user without their own cap) or user:NAME"

COMMANDS = [
    Command("ledger", "create or migrate a shared ledger, and grant kernels access", ledger_cmd, actions=(
        Command("init", "create or migrate the ledger's schema (run as the database owner)", ledger_cmd, (
            P("url", help="postgresql://OWNER@HOST/DB (or a SQLite file)"),)),
        Command("grant", "let a login role book its own calls directly (one person or a trusted team; "
                "a class uses the gateway)", ledger_cmd, (
            P("url", help="postgresql://OWNER@HOST/DB"),
            P("role", help="the existing login role kernels connect as"))),
        Command("reconcile", "book a call of unknown cost (e.g. over its reservation) at what the provider "
                "billed", reconcile_cmd, (
            P("row", nargs="?", type=int, help="the ledger row id (`promptpaint cost --last N` shows it)"),
            P("--cost", metavar="USD", help="what the provider's bill says the call cost"),
            P("--interrupted", action="store_true",
              help="book the calls whose images were stored but whose booking failed on this machine"),
            LEDGER_FLAG)),
    )),
    Command("budget", "caps kept in the ledger, for a user, every user or the class", budget_cmd, actions=(
        Command("set", "set a cap, e.g. budget set user:alice 2.00 --per day", budget_cmd, (
            P("scope", help=SCOPE), P("amount", nargs="?", help="dollars, e.g. 2.00"), LEDGER_FLAG, PER_DAY,
            P("--rate", metavar="N/min", help="requests per minute through the class gateway, e.g. 10/min"))),
        Command("remove", "remove a cap", budget_cmd, (P("scope", help=SCOPE), LEDGER_FLAG, PER_DAY)),
        Command("list", "list the caps", budget_cmd, (LEDGER_FLAG,)),
    )),
]
