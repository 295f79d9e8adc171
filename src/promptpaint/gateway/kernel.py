"""The kernel side of the class gateway: ``PROMPTPAINT_GATEWAY`` (and ``PROMPTPAINT_TOKEN``, else
``JUPYTERHUB_API_TOKEN``) sends both providers through the gateway, with the token as their key.
No provider key and no database URL are needed in the kernel.

Booking: the gateway's ledger is the truth — it reserved, capped and booked every call. The
kernel keeps its own local record (a SQLite file beside the image store, ``gateway-calls.sqlite3``)
only for what is local: a ``Client(budget=…)``, the Studio's session figures and Past images. That
record never decides what the class may spend: ``allowance()``, ``budgets()`` and ``calls()`` (and
``pp.ledger()`` shown in a notebook) read the gateway's ``/promptpaint/v1/me``.

Only the standard library, ``requests`` and the ledger's own modules here: no server stack.
"""

from __future__ import annotations

import functools
import html
import os
from decimal import Decimal

from .env import GATEWAY_ENV, TOKEN_ENVS, token, url  # noqa: F401  (the kernel's settings)


def me(timeout: float = 10.0) -> dict:
    """The gateway's report on this kernel's user: caps, spending, allowance, recent calls."""
    import requests

    from .. import redact
    from ..errors import LedgerError

    gw, (tok, where) = url(), token()
    if not gw:
        raise LedgerError(f"This kernel is not behind a class gateway ({GATEWAY_ENV} is not set).")
    if not tok:
        raise LedgerError(f"{GATEWAY_ENV} is set but no token: set {where}.",
                          hint="Your teacher gives you a gateway token (promptpaint gateway token add).")
    redact.register(tok)
    try:
        resp = requests.get(f"{gw}/promptpaint/v1/me", headers={"Authorization": f"Bearer {tok}"},
                            timeout=timeout)
    except requests.RequestException as exc:
        raise LedgerError(f"The class gateway at {gw} cannot be reached: {type(exc).__name__}.",
                          hint=f"Check {GATEWAY_ENV}, or ask the teacher whether the gateway is running.") from None
    if resp.status_code != 200:
        try:
            message = resp.json()["error"]["message"]
        except Exception:
            message = f"HTTP {resp.status_code}"
        raise LedgerError(f"The class gateway refused: {redact.scrub(message)}")
    return resp.json()


def class_allowance() -> Decimal | None:
    """What this kernel's user may still spend under the class's caps (None: no cap applies).
    The Studio's cost panel shows it (through ``pp.ledger().allowance()``)."""
    value = me().get("allowance")
    return None if value is None else Decimal(value)


def local_ledger():
    """The ledger ``pp.ledger()`` gives in a kernel behind a gateway."""
    from ..config import home

    return _gateway_ledger_class()(home() / "gateway-calls.sqlite3")


@functools.lru_cache(maxsize=1)
def _gateway_ledger_class():
    from ..ledger.sqlite import SQLiteLedger
    from ..ledger.state import Totals
    from ..money import Dollars, format as dollars

    class GatewayLedger(SQLiteLedger):
        """This kernel's own record (local), with the class's figures from the gateway."""

        def summary(self, *, session=None, day=None, budget=None) -> Totals:
            """All time (no filter): the user's calls as the gateway booked them, from every
            kernel; narrowed to this session, a day or a budget: this kernel's own record."""
            if session is not None or day is not None or budget is not None:
                return super().summary(session=session, day=day, budget=budget)
            report = me()
            return Totals(known=Dollars(report["known"]), unknown_calls=report["unknown_cost_calls"],
                          unknown_reserved=Dollars(report["reserved"]))

        def allowance(self, user: str | None = None) -> Decimal | None:
            value = me().get("allowance")
            return None if value is None else Dollars(value)

        def budgets(self) -> list[dict]:
            return [{"scope": c["scope"], "per": c["per"], "limit": Dollars(c["limit"]), "set_at": ""}
                    for c in me()["caps"]]

        def calls(self, limit: int = 50) -> list[dict]:
            """This user's calls as the gateway booked them, newest first."""
            return me()["calls"][:limit]

        def _repr_mimebundle_(self, include=None, exclude=None):
            report = me()
            allowance = report["allowance"]
            rows = [("User", report["user"]), ("Spent (counted against caps)", dollars(Decimal(report["spent"]))),
                    ("Spent today", dollars(Decimal(report["spent_today"]))),
                    ("Left to spend", dollars(Decimal(allowance)) if allowance is not None else "no cap"),
                    ("Calls", str(report["calls_total"]))]
            if report["unknown_cost_calls"]:
                rows.append(("Unknown cost", f"{report['unknown_cost_calls']} calls, up to "
                                             f"{dollars(Decimal(report['reserved']))} counted"))
            recent = [(c["ts"][:19], c["model"], c["state"] or c["status"],
                       dollars(Decimal(c["cost"])) if c["cost"] is not None else
                       f"unknown (up to {dollars(Decimal(c['reserved'] or 0))})", (c["prompt"] or "")[:60])
                      for c in report["calls"][:10]]
            body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                           for k, v in rows)
            calls = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>" for r in recent)
            text = "\n".join(f"{k}: {v}" for k, v in rows) + "".join(
                "\n  " + "  ".join(str(x) for x in r) for r in recent)
            return {"text/html": f'<table class="promptpaint-ledger">{body}</table>'
                                 f'<table class="promptpaint-calls">{calls}</table>',
                    "text/plain": f"Class gateway {url()}\n{text}"}

    return GatewayLedger


def __getattr__(name):  # GatewayLedger is built on first use: importing this loads no ledger
    if name == "GatewayLedger":
        return _gateway_ledger_class()
    raise AttributeError(name)
