"""The ledger's interface: what every backend does, with the same meaning.

- ``reserve`` checks every cap and inserts a reservation atomically;
- ``settle`` replaces it with the actual cost, or with an *unknown* cost (None) when the call may
  have been billed but we cannot say for how much: the row then keeps counting at its reservation;
- ``release`` books $0, only for a call that never reached the provider.
"""

from __future__ import annotations

import abc
import datetime as dt
from decimal import Decimal

from ..clock import utc_now
from .attempt import SESSION_ID, Attempt, Cap
from .state import Totals


def budgets_admits(ledger, attempt, amount, caps):
    from . import budgets  # the one set of cap rules

    return budgets.admits(ledger, attempt, amount, caps)


class Ledger(abc.ABC):
    @abc.abstractmethod
    def reserve(self, attempt: Attempt, amount: Decimal | None, caps: list[Cap]) -> int:
        """Book ``amount`` against every cap or raise BudgetExceeded; return the row id."""

    @abc.abstractmethod
    def settle(self, row: int, *, status: str, cost: Decimal | None, usage: dict | None = None,
               request_id: str | None = None, images: list[str] | None = None,
               duration: float | None = None, error: str | None = None, bound: Decimal | None = None) -> None:
        """Replace the reservation by what the call cost. ``cost=None``: unknown, and the
        reservation keeps counting. A negative cost is booked as unknown, never as a credit.
        A cost above ``bound`` (default: the row's reservation, if above $0) is kept as reported
        but booked as unknown, counting at the reservation until reconciled (``state.bounded``)."""

    def release(self, row: int, *, error: str, duration: float | None = None) -> None:
        """The call never reached the provider: the reservation is freed ($0)."""
        self.settle(row, status="error", cost=Decimal(0), error=error, duration=duration)

    def reconcile(self, row: int, *, cost: Decimal | None) -> None:
        """Settle a row of unknown cost by hand (interrupted, or priced above its reservation),
        e.g. from the provider's usage page."""
        self.settle(row, status="ok", cost=cost, error="interrupted; reconciled by hand")

    @abc.abstractmethod
    def total(self, *, session: str | None = None, day: dt.date | str | None = None,
              budget: str | None = None) -> Decimal:
        """Settled spending of known cost (USD), all time unless narrowed; see ``summary``."""

    @abc.abstractmethod
    def spent(self, *, budget: str | None = None, day: dt.date | str | None = None,
              user: str | None = None) -> Decimal:
        """What counts against a cap: known costs, plus the reservation of every call of unknown
        cost, in flight or interrupted. ``user`` narrows it to one user's calls (the daily cap
        from the config is the calling user's own)."""

    @abc.abstractmethod
    def summary(self, *, session: str | None = None, day: dt.date | str | None = None,
                budget: str | None = None) -> Totals:
        """Known spending, and calls of unknown cost, in flight and interrupted, apart."""

    @abc.abstractmethod
    def entries(self, limit: int = 50, *, user: str | None = None) -> list[dict]:
        """The newest rows (of ``user``'s calls only, if given), newest first; ``state`` is
        ``in flight``/``interrupted``/``awaiting collection`` (a batch job) for an open
        reservation, ``unknown cost`` for a settled call without a cost, else the status."""

    # Caps a teacher keeps in the ledger for a whole class (rules in budgets.py).
    @abc.abstractmethod
    def set_budget(self, scope: str, limit, per: str | None = None) -> None:
        """Cap ``scope`` (``"class"``, ``"user:*"`` for each user without a cap of their own, or
        ``"user:NAME"``) at ``limit`` dollars, for all time or ``per="day"`` (UTC day);
        ``limit=None`` removes the cap. A call must fit under every cap that applies to it."""

    @abc.abstractmethod
    def budgets(self) -> list[dict]:
        """The caps kept in the ledger: dicts with ``scope``, ``per``, ``limit``, ``set_at``."""

    @abc.abstractmethod
    def totals(self, by: str = "user", day: dt.date | str | None = None) -> list[dict]:
        """The teacher's report: one dict per user (or day, model, provider) with ``calls``,
        ``cost`` (known), ``unknown_cost_calls``, ``reserved`` (what unknown-cost, running and
        interrupted calls hold), and for users ``cap`` and ``left``."""

    @abc.abstractmethod
    def allowance(self, user: str | None = None) -> Decimal | None:
        """What ``user`` (default: this one) may still spend under the ledger's caps; None if
        no cap applies."""

    def admits(self, attempt: Attempt, amount: Decimal | None, caps: list[Cap]):
        """What ``reserve`` would say now, booking nothing: ``(left, refusal)``, the least any cap
        on this call still allows (None: no cap) and the BudgetExceeded it would raise (None:
        admitted). A ledger that keeps no caps of its own checks only ``caps``."""
        return budgets_admits(self, attempt, amount, caps)

    def session(self) -> Decimal:
        return self.total(session=SESSION_ID)

    def day(self) -> dt.date:
        """Today as this ledger books it: the UTC date a row reserved now gets (a shared database
        takes it from its own clock, so every kernel and gateway agrees on it)."""
        return utc_now().date()

    def today(self) -> Decimal:
        return self.total(day=self.day())

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .report import ledger_bundle  # a short table when ``pp.ledger()`` ends a cell

        return ledger_bundle(self)

    # The request cache lives beside the ledger: both answer "have we paid for this already?"
    @abc.abstractmethod
    def cache_get(self, key: str) -> dict | None: ...

    @abc.abstractmethod
    def cache_put(self, key: str, value: dict) -> None: ...
