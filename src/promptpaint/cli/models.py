"""``promptpaint models``: every model with its prices and lifecycle, from the registry."""

from __future__ import annotations

from .params import Command, P
from .safe import pad, shown


def run(args) -> int:
    from .. import clock, providers, registry

    if args.check:
        return check(args)

    today = clock.today()
    free = {c.name for c in providers.all_providers() if c.offline}
    for m in registry.all_models():
        if m.is_retired(today) and not args.all:
            continue
        p = m.price_on(today)
        price = (f"in ${p.input_text}/${p.input_image} out ${p.output_text}/${p.output_image} per 1M "
                 "(text/image)") if p else "price unknown"
        if m.provider in free:
            price = "$0"
        state = "current"
        if m.is_retired(today):
            state = f"retired {m.shutdown} -> {m.successor}"
        elif m.shutdown_warning(today):
            state = f"shuts down {m.shutdown} -> {m.successor}"
        mine = f"  [your models file: {shown(m.origin)}]" if m.origin else ""
        # A models file is the user's own: its ids and successors are shown, never obeyed.
        print(f"{pad(m.id, 40)} {pad(m.provider, 8)} {pad(state, 36)} {price}{mine}")
    return 0


def check(args) -> int:
    """What the configured keys reach; exit 0 when every default model asked about is reachable,
    8 when one is not (the code of a retired model), 3 when no provider has a key."""
    from .. import providers
    from ..errors import AuthError
    from ..model_check import check as ask

    rows = ask([args.provider] if args.provider else None)
    for name, why in rows.skipped.items():
        print(f"{name}: not checked ({why})")
    if not {r["provider"] for r in rows}:
        keys = " or ".join(v for c in providers.all_providers() for v in c.key_env)
        raise AuthError("No provider has a key configured, so there is no key to check.",
                        hint=f"Set {keys} (see promptpaint --help).")

    def line(r):
        mark = " (default)" if r["default"] else ""
        after = f" -> {r['successor']}" if r["successor"] and not r["reachable"] else ""
        price = "" if r["priced"] else "  no price on file"
        return f"  {r['id']:40} {r['provider']:8}{mark}{after}{price}"

    sections = (
        ("Reachable with your key, priced:", [r for r in rows if r["reachable"] and r["priced"]]),
        ("In the registry but NOT reachable with your key (retired, or not enabled for it):",
         [r for r in rows if not r["reachable"] and (r["status"] != "retired" or args.all)]),
        ("Reachable but NOT priced (calls are booked at unknown cost; add prices in your models.json):",
         [r for r in rows if r["reachable"] and not r["priced"]]),
    )
    for title, chosen in sections:
        if chosen:
            print(title)
            for r in chosen:
                print(line(r))
    gone = [r for r in rows if r["default"] and not r["reachable"]]
    for r in gone:
        instead = registry_reach_replacement(r, rows)
        print(f"The default {r['provider']} model {r['id']} is not reachable with your key"
              + (f": use {instead} (model= or --model)." if instead else "."))
    return 8 if gone else 0


def registry_reach_replacement(row: dict, rows: list[dict]) -> str | None:
    from ..registry_reach import replacement

    return replacement(row["id"], row["provider"], [r["id"] for r in rows if r["reachable"]
                                                    and r["provider"] == row["provider"]])


COMMANDS = [
    Command("models", "models with prices and lifecycle", run, (
        P("--all", action="store_true", help="include retired models"),
        P("--check", action="store_true",
          help="ask each provider which models your key reaches (exit 8 if a default is not reachable)"),
        P("--provider", help="with --check: ask only this provider ({labels})"),
    ), description="Models with their prices and lifecycle."),
]
