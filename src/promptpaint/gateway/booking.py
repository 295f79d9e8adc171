"""One forwarded call in the ledger: reserved before it goes upstream, settled from the usage the
provider reports, released ($0) only when the provider certainly did not bill it, and otherwise
booked *unknown at its reservation* (cut off, broken, abandoned), so it keeps counting.

The ledger is synchronous (psycopg, sqlite3): every call to it runs in a worker thread.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from starlette.concurrency import run_in_threadpool

from .. import pricing
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
    row: int | None = None
    started: float = field(default_factory=time.monotonic)

    async def reserve(self) -> int:
        inb, p = self.inbound, self.priced
        params = dict(p.params)
        if inb.previews:
            params["partial_images"] = inb.previews
        attempt = Attempt(provider=inb.provider, model=p.model.id, kind=inb.kind, prompt=inb.prompt,
                          params=params, price_version=p.price.version, user=self.user)
        self.row = await run_in_threadpool(self.ledger.reserve, attempt, p.amount, [])
        return self.row

    async def settle_answer(self, body: bytes, *, streamed: bool, request_id: str | None) -> None:
        """A whole answer (2xx): its usage at today's price; unknown if the usage is unreadable."""
        out = self.outcome_of(body, streamed=streamed, input_images=self.inbound.input_images,
                              request_id=request_id)
        cost = pricing.cost(out.usage, self.priced.price) if out.usage is not None else None
        await self._settle(status="refused" if out.refusal else "ok", cost=cost,
                           usage=out.usage.as_dict() if out.usage is not None else None,
                           request_id=out.request_id, error=out.problem or out.refusal)

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

    async def _settle(self, *, status, cost, usage=None, request_id=None, error=None) -> None:
        duration = time.monotonic() - self.started
        try:
            await run_in_threadpool(lambda: self.ledger.settle(
                self.row, status=status, cost=cost, usage=usage, request_id=request_id,
                duration=duration, error=error))
        except Exception as exc:  # the row stays reserved: it keeps counting (the safe side)
            log.error("could not settle ledger row %s (it stays at its reservation): %s", self.row, exc)
            return
        log.info("%s %s/%s row %s reserved %s booked %s%s", self.user, self.inbound.provider,
                 self.priced.model.id, self.row, self.priced.amount,
                 "unknown" if cost is None else cost, f" ({error})" if error else "")
