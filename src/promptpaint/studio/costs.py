"""The Studio's cost panel: what the last call and this widget cost, all time from the ledger,
the budget left, and the next call's estimate (typical and at most).

Money travels to the front end as decimal strings (nothing lost to floats); the front end
formats it. A call of unknown cost is counted apart, never folded in as $0.
"""

from __future__ import annotations

from decimal import Decimal

from .. import config, images
from ..client import Client, Result
from ..clock import current_user, utc_now
from ..errors import PromptpaintError, Refused
from ..ledger import Ledger, Totals

TYPICAL_OF = 20      # the typical cost is the median of at most this many recent calls
TYPICAL_KEYS = ("size", "quality", "n", "aspect_ratio", "image_size")


def decimal_text(d: Decimal | None) -> str | None:
    """An amount as the front end receives it: ``"0.0134"``, or None when unknown."""
    return None if d is None else format(d, "f")


def typical_params(model, params: dict) -> dict:
    """The settings a call usually ends up costing: a ``quality`` of auto is priced as its worst
    case (high) for budgets, but usually renders at medium."""
    if "quality" in model.params and params.get("quality") in (None, "auto"):
        return {**params, "quality": "medium"}
    return params


class Costs:
    def __init__(self, ledger: Ledger, budget: Decimal | None, budget_id: str | None):
        self.ledger, self.budget, self.budget_id = ledger, budget, budget_id
        self.total = Decimal(0)
        self.last: Decimal | None = None
        self.calls = 0          # calls that landed or may have been paid: "Last call: —" before the first
        self.unknown_calls = 0  # of those, calls whose cost nobody knows
        self._all_time: Totals | None = None
        self._budget_left: Decimal | None = None
        self._typical: Decimal | None = None

    def count(self, result: Result | None, exc: BaseException | None) -> Decimal | None:
        """Count a finished call; returns what a failed one may have cost."""
        paid = getattr(exc, "cost", None) if exc is not None else None
        # A call that landed, was refused or may have been billed is "the last call" (its cost may
        # be unknown: None); one that failed before reaching the provider is not.
        if result is not None or isinstance(exc, Refused) or paid or getattr(exc, "maybe_billed", False):
            self.calls += 1
            self.last = result.cost if result is not None else paid
            if self.last is None:
                self.unknown_calls += 1
            else:
                self.total += self.last
        return paid

    def panel(self, client: Client | None, model_id: str, params: dict, prompt: str, has_image: bool, *,
              totals: bool = True, error: PromptpaintError | None = None) -> dict:
        """The ``costs`` trait; ``totals=False`` keeps the ledger figures (no database read)."""
        estimate = typical = None
        note = error.message if error is not None else ""
        if client is not None:
            try:
                sent = images.drop_empty(params)
                n_images = int(has_image)  # a count: the image shown plus the references
                estimate = client.estimate(prompt or "", images=n_images, **sent)
                typical = client.estimate(prompt or "", images=n_images, **typical_params(client.model, sent))
                note = "free (offline stand-in)" if client.offline else (
                    "" if estimate is not None else "price unknown")
            except PromptpaintError as exc:
                note = exc.message
            except (TypeError, ValueError):
                note = "A setting has a value of the wrong kind."
        if totals or self._all_time is None:
            self._all_time = self.ledger.summary()
            self._budget_left = self.budget_left()
            self._typical = self.typical(model_id, params)
        every = self._all_time
        open_calls = every.unknown_calls + every.interrupted_calls
        return {"last": decimal_text(self.last), "widget": decimal_text(self.total),
                "widget_unknown": self.unknown_calls,
                "all_time": decimal_text(every.known), "all_time_unknown": open_calls,
                "all_time_note": str(every) if open_calls else "",
                "budget_left": decimal_text(self._budget_left),
                "estimate": decimal_text(estimate),
                "estimate_typical": decimal_text(self._typical if self._typical is not None else typical),
                "estimate_note": note, "calls": self.calls}

    def typical(self, model_id: str, params: dict) -> Decimal | None:
        """The median of what recent calls with this model and these settings really cost (from
        the ledger), or None before there are any: measured, never guessed."""
        wanted = {k: v for k, v in images.drop_empty(params).items() if k in TYPICAL_KEYS}
        recent = [r["cost"] for r in self.ledger.entries(500)  # newest first
                  if r.get("model") == model_id and r.get("status") == "ok" and r.get("cost") is not None
                  and {k: v for k, v in (r.get("params") or {}).items() if k in TYPICAL_KEYS} == wanted]
        costs = sorted(recent[:TYPICAL_OF])
        return costs[len(costs) // 2] if costs else None

    def budget_left(self) -> Decimal | None:
        """What the caps still allow, read from the ledger: the figure a call is checked against
        (unknown-cost calls and live reservations count), not this widget's own arithmetic."""
        left = None
        if self.budget is not None:
            left = max(Decimal(0), self.budget - self.ledger.spent(budget=self.budget_id))
        daily = config.daily_budget()
        if daily is not None:
            # The daily cap from one's own config counts one's own calls, also in a class ledger.
            today = max(Decimal(0), daily - self.ledger.spent(day=utc_now().date(), user=current_user()))
            left = today if left is None else min(left, today)
        mine = self.ledger.allowance()  # caps a teacher keeps in a class ledger (pg)
        if mine is not None:
            left = mine if left is None else min(left, mine)
        return left


__all__ = ["Costs", "decimal_text", "typical_params"]
