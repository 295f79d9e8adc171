"""The short table ``pp.ledger()`` shows when it ends a notebook cell.

It lives beside the ledger, not in ``display.py``, so storage never imports the presentation layer
(and the imaging library it loads): it is the ledger's own repr, like ``Totals.__str__``, built
from the interface's public methods and nothing but ``html`` and ``money``.
"""

from __future__ import annotations

import html

from ..money import format as dollars


def _calls(n: int | None) -> str:
    return "" if n is None else f"{n} call{'' if n == 1 else 's'}"


def ledger_bundle(ledger) -> dict:
    """Calls and known cost today and all time, then calls whose cost is not known (yet).

    Call counts are shown when the backend can give them (``count``).
    """
    today = ledger.day()
    count = getattr(ledger, "count", None)
    totals = ledger.summary()
    rows = [("Today", _calls(count(day=today) if count else None), dollars(ledger.summary(day=today).known)),
            ("All time", _calls(count() if count else None), dollars(totals.known))]
    for what, n, reserved in (("Unknown cost", totals.unknown_calls, totals.unknown_reserved),
                              ("Interrupted", totals.interrupted_calls, totals.interrupted_reserved),
                              ("In flight", totals.in_flight_calls, totals.in_flight_reserved)):
        if n:
            rows.append((what, _calls(n), f"up to {dollars(reserved)} counted against caps"))
    if totals.over_calls:  # a usage priced above what the call could cost: for review
        rows.append(("Over reservation", _calls(totals.over_calls),
                     f"reported {dollars(totals.over_reported)}, {dollars(totals.over_reserved)} counted "
                     "until `promptpaint ledger reconcile`"))
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(name)}</th><td>{html.escape(calls)}</td>"
                   f"<td>{html.escape(cost)}</td></tr>" for name, calls, cost in rows)
    return {"text/html": f'<table class="promptpaint-ledger">{body}</table>',
            "text/plain": "\n".join(f"{name}: " + ", ".join(filter(None, (calls, cost)))
                                    for name, calls, cost in rows)}
