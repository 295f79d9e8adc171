"""``promptpaint models``: every model with its prices and lifecycle, from the registry."""

from __future__ import annotations

from .params import Command, P
from .safe import pad, shown


def run(args) -> int:
    from .. import clock, providers, registry

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


COMMANDS = [
    Command("models", "models with prices and lifecycle", run, (
        P("--all", action="store_true", help="include retired models"),
    ), description="Models with their prices and lifecycle."),
]
