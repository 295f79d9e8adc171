"""What the gateway admits, and what it reserves: the Client's own pricing, applied server-side.

The worst case comes from ``pricing.worst_usage`` and ``pricing.most`` on the registry's model and
today's price, exactly as ``pp.Client`` reserves it; the caps are the ledger's own (``user:*``,
``user:NAME``, ``class``), checked and booked atomically by ``ledger.reserve``. Nothing the
student sends can lower a reservation: a price or ceiling in the request is not read, a model the
registry does not price is refused, and a setting nothing bounds (``xhigh``, ``max``) is refused
unless the teacher started the gateway with ``--ceiling``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from PIL import Image

from .. import plan, pricing, registry
from ..clock import utc_now
from ..errors import GatewayRefusal, InvalidRequest
from ..providers import Call, provider_class
from ..providers.inbound import Inbound
from ..registry import Model, Price

WINDOW = dt.timedelta(minutes=1)


@dataclass
class Priced:
    model: Model
    price: Price
    params: dict     # checked against the model
    amount: Decimal  # the reservation


def price(inb: Inbound, ceiling: Decimal | None) -> Priced:
    """The model, today's price and the worst case of ``inb``, or a GatewayRefusal."""
    try:
        model = registry.get(inb.model, inb.provider)
    except InvalidRequest as exc:
        raise GatewayRefusal(403, "model_not_allowed", exc.message, param="model") from None
    if not model.known:
        raise GatewayRefusal(403, "model_not_allowed", f"{inb.model} is not in promptpaint's model registry, so "
                      "the gateway cannot price it. `promptpaint models` lists the models it prices.",
                      param="model")
    if model.is_retired():
        nxt = f" Use {model.successor} instead." if model.successor else ""
        raise GatewayRefusal(403, "model_not_allowed", f"{model.id} has been shut down.{nxt}", param="model")
    today_price = model.price_on(utc_now().date())
    if today_price is None:
        raise GatewayRefusal(403, "model_not_allowed", f"No price is on file for {model.id} today, so the gateway "
                      "cannot keep a budget with it.", param="model")
    try:
        params = registry.validate_params(model, inb.params, kind="generate" if inb.kind == "generate" else "edit")
    except InvalidRequest as exc:
        raise GatewayRefusal(400, "invalid_value", exc.message, param=exc.param) from None
    if len(inb.images) > model.max_input_images:
        raise GatewayRefusal(400, "invalid_value", f"{model.id} takes at most {model.max_input_images} input images.",
                      param="image")
    return Priced(model, today_price, params, reservation(model, today_price, inb, params, ceiling))


# Stands for a mask or markup file the request carries: the worst case counts it as an input
# image (and adds the provider's mask instruction), whatever its pixels.
_LAYER = Image.new("L", (1, 1))


def reservation(model: Model, price: Price, inb: Inbound, params: dict, ceiling: Decimal | None) -> Decimal:
    """The most the call can cost: ``plan.worst_case``, the very function every Client call
    reserves with (previews, masks, replayed turns included)."""
    call = Call(kind=inb.kind, prompt=inb.prompt, params=params, images=list(inb.images),
                mask=_LAYER if inb.mask else None, markup=_LAYER if inb.markup else None,
                history=inb.history, previews=inb.previews)
    worst = plan.worst_case(model, provider_class(model.provider), call, price, [], ceiling)
    if worst is None:  # nothing bounds it (xhigh, max) and the teacher set no ceiling
        try:
            pricing.worst_usage(model, inb.prompt, params, inb.input_images,
                                provider=provider_class(model.provider))
            why = f"{model.id} has no published bound for these settings"
        except pricing.Unbounded as exc:
            why = str(exc)
        raise GatewayRefusal(403, "setting_not_allowed", f"{why}: the gateway refuses a call it cannot bound. "
                      "Choose a setting with a published price (e.g. quality 'high'), or ask the teacher "
                      "to start the gateway with --ceiling USD.", param="quality")
    return worst


class Rates:
    """Requests per minute per user, from the ledger's ``rates`` table (``user:NAME``, else
    ``user:*``), counted over the ledger's own rows so several gateways share one count."""

    def __init__(self, ledger, refresh: float = 2.0):
        self.ledger, self.refresh = ledger, refresh
        self._table: dict[str, int] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def limit(self, user: str) -> int | None:
        with self._lock:
            if time.monotonic() - self._read_at > self.refresh:
                rows = self.ledger._read(f"SELECT scope, per_minute FROM {self.ledger._tables}rates")
                self._table, self._read_at = {s: int(n) for s, n in rows}, time.monotonic()
            table = self._table
        own = table.get(f"user:{user}")
        return own if own is not None else table.get("user:*")

    def check(self, user: str) -> None:
        limit = self.limit(user)
        if limit is None:
            return
        since = (utc_now() - WINDOW).isoformat()
        count, oldest = self.ledger._read(
            f'SELECT COUNT(*), MIN(ts) FROM {self.ledger._tables}calls WHERE "user" = ? AND ts >= ?',
            (user, since))[0]
        if count >= limit:
            wait = 60.0
            if oldest:
                wait = max(1.0, (dt.datetime.fromisoformat(str(oldest)) + WINDOW - utc_now()).total_seconds())
            raise GatewayRefusal(429, "rate_limit_exceeded", f"{user} may send {limit} requests a minute through "
                          f"the class gateway; try again in {wait:.0f} s.", retry_after=wait)


def set_rate(ledger, scope: str, per_minute: int | None) -> None:
    """``per_minute=None`` removes the rate for ``scope`` (``user:*`` or ``user:NAME``)."""
    from ..ledger.budgets import check_scope

    scope = check_scope(scope)
    if scope == "class":
        raise InvalidRequest("A rate is per user: use 'user:*' or 'user:NAME'.", param="scope")
    t = ledger._tables
    if per_minute is None:
        ledger._write(f"DELETE FROM {t}rates WHERE scope = ?", (scope,))
        return
    ledger._write(f"INSERT INTO {t}rates (scope, per_minute, set_at) VALUES (?, ?, ?) ON CONFLICT (scope) "
                  "DO UPDATE SET per_minute = excluded.per_minute, set_at = excluded.set_at",
                  (scope, int(per_minute), utc_now().isoformat()))


def rates(ledger) -> list[tuple[str, int]]:
    """The rates kept in the ledger, as (scope, requests per minute)."""
    return [(scope, int(n)) for scope, n in
            ledger._read(f"SELECT scope, per_minute FROM {ledger._tables}rates ORDER BY scope")]


def parse_rate(text: str) -> int:
    """``"10/min"`` (or ``"10"``) -> 10 requests a minute."""
    number, _, unit = str(text).strip().partition("/")
    if unit not in ("", "min", "minute", "m") or not number.strip().isdigit():
        raise InvalidRequest(f"--rate {text!r}: write requests per minute, e.g. 10/min.", param="rate")
    return int(number)
