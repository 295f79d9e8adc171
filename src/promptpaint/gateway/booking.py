"""One forwarded call in the ledger: reserved before it goes upstream, settled from the usage the
provider reports, released ($0) only when the provider certainly did not bill it, and otherwise
booked *unknown at its reservation* (cut off, broken, abandoned), so it keeps counting.

It holds a ``plan.Reservation``, the money half of the Client's own call pipeline (``plan.reserve``
then ``settle_usage``: the usage priced by ``pricing.cost`` at the reserved price). The ledger is
synchronous (psycopg, sqlite3): every call to it runs in a worker thread.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from starlette.concurrency import run_in_threadpool

from .. import plan
from ..ledger import Attempt
from ..providers.inbound import Inbound
from .rules import Priced

log = logging.getLogger("promptpaint.gateway")


@dataclass
class Booking:
    ledger: object
    user: str
    inbound: Inbound
    priced: Priced
    outcome_of: object                  # the provider module's ``outcome(body, streamed=…)``
    held: plan.Reservation | None = None
    started: float = field(default_factory=time.monotonic)

    async def reserve(self) -> int:
        inb, p = self.inbound, self.priced
        params = dict(p.params)
        if inb.previews:
            params["partial_images"] = inb.previews
        attempt = Attempt(provider=inb.provider, model=p.model.id, kind=inb.kind, prompt=inb.prompt,
                          params=params, price_version=p.price.version, user=self.user)
        self.held = await run_in_threadpool(plan.reserve, self.ledger, attempt, p.amount, [], p.price)
        return self.held.row

    async def settle_answer(self, body: bytes, *, streamed: bool, request_id: str | None) -> None:
        """A whole answer (2xx): its usage at the reserved price; unknown if the usage is unreadable."""
        out = self.outcome_of(body, streamed=streamed, input_images=self.inbound.input_images,
                              request_id=request_id)
        if out.usage is None and not out.answered:  # cut off or unreadable: may have been billed
            await self.unknown(out.problem or "the answer was unreadable", out.request_id)
            return
        if out.usage is None:  # an answer whose usage cannot be read: its cost is unknown
            await self._settle(status="refused" if out.refusal else "ok", cost=None, request_id=out.request_id,
                               error=out.problem)
            return
        cost = await run_in_threadpool(lambda: self.held.settle_usage(out.usage, request_id=out.request_id,
                                                                      refusal=out.refusal))
        self._log(cost, out.refusal)

    async def settle_error(self, status: int, body: bytes, request_id: str | None) -> None:
        """The provider answered with an error. Its own JSON error means it did not do the work
        ($0, as the Client releases it); anything else (a proxy's 502 page) may have been billed."""
        try:
            ours = isinstance(json.loads(body), dict)
        except ValueError:
            ours = False
        if ours:
            await self._settle(status="error", cost=Decimal(0), request_id=request_id,
                               error=f"the provider answered {status}")
        else:
            await self.unknown(f"the provider answered {status} without its JSON error", request_id)

    async def release(self, why: str) -> None:
        """Nothing reached the provider (it could not be connected to)."""
        await self._settle(status="error", cost=Decimal(0), error=why)

    async def unknown(self, why: str, request_id: str | None = None) -> None:
        """May have been billed, amount unknown: the reservation keeps counting."""
        await self._settle(status="error", cost=None, request_id=request_id,
                           error=f"may have been billed: {why}")

    async def _settle(self, *, status, cost, request_id=None, error=None) -> None:
        await run_in_threadpool(lambda: self.held.settle(status=status, cost=cost, request_id=request_id,
                                                         error=error))
        self._log(cost, error)

    def _log(self, cost, note) -> None:
        log.info("%s %s/%s row %s reserved %s booked %s%s", self.user, self.inbound.provider,
                 self.priced.model.id, self.held.row, self.priced.amount,
                 "unknown" if cost is None else cost, f" ({note})" if note else "")
