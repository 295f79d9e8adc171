"""The call pipeline as a seam: prepare → reserve → send → store → book.

Every call promptpaint makes goes this way (``Client.generate``/``edit``, ``Chat.send``, a
``Sweep`` cell, each line of a batch, and a gateway that forwards requests for a class):

1. **prepare** — ``CallPlan(client, Request(...))`` checks the prompt and parameters against the
   model, encodes the inputs (``inputs.prepare``), prices the day, and works out the worst case
   (``plan.worst``: the most the call can be billed, or None when nothing bounds it).
2. **reserve** — ``plan.reserve()`` books the worst case on a ledger row against every cap
   (``BudgetExceeded`` here: nothing was sent). It returns a ``Reservation``.
3. **send** — ``plan.send()`` makes the request through the Client's provider connection.
4. **store** — ``plan.store(reservation, answer)`` writes the provider's bytes to the image
   store before anything else (pasting the original back outside a mask).
5. **book** — ``plan.book(reservation, answer, stored)`` settles the row at the cost the usage
   says and returns the ``Result``.

``plan.run()`` does all five, with the cache and single-flight (``cache.py``) and the failure
rules: a call that certainly did not reach the provider is released to $0; one that may have
been billed keeps counting at its reservation (cost unknown).

A gateway that sends the request itself uses only the money half::

    plan = client.plan(Request("generate", prompt, params=params))
    held = plan.reserve()                     # the worst case, against every cap
    ...                                       # forward the request, read the provider's usage
    held.settle_usage(usage, request_id=rid)  # booked at its real cost; or held.fail(exc)

``reserve()`` on its own (module level) holds any amount for any ``Attempt`` on any ledger.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from PIL import Image

from . import cache, inputs, masks, practice, pricing
from .errors import BudgetExceeded, LedgerWarning, PromptpaintError, Refused
from .ledger import Attempt, Cap, Dollars, Ledger, LedgerError, dollars
from .providers import Answer, Call, Provider
from .registry import Model, Price, UnknownPriceWarning
from .result import Result, open_bytes
from .transport import scrub




@dataclass
class Request:
    """What one call asks for, before anything is checked (the arguments of ``Client.edit``)."""

    kind: str                                  # generate | edit | chat
    prompt: str
    inputs: list = field(default_factory=list) # images: PIL, bytes, paths, arrays, URIs
    mask: object = None                        # non-zero where to change
    params: dict = field(default_factory=dict) # the model's own parameters
    history: list | None = None                # earlier turns, provider-shaped (a chat's replay)
    preserve_unmasked: bool | None = None
    feather: int = 4
    markup: object = None                      # strokes that say what to draw
    on_partial: Callable | None = None         # fn(PIL image, index) for each streamed preview
    partial_images: int | None = None
    book_as: str | None = None                 # the kind booked (a chat's first turn books "generate")


@dataclass(frozen=True)
class Budget:
    """A cap by name: calls booked with the same ``id`` share ``limit`` (USD) in the ledger."""

    id: str | None
    limit: Decimal | None


class Reservation:
    """A ledger row that holds a call's worst case until the call is booked.

    ``settle_usage`` books it at the cost the provider's usage says; ``fail`` books a call that
    raised (released to $0 if nothing reached the provider, else kept at its reservation as of
    unknown cost); ``release`` frees it outright.
    """

    def __init__(self, ledger: Ledger, row: int, worst: Decimal | None, price: Price | None,
                 *, provider: str = "", free: bool = False):
        self.ledger, self.row, self.worst, self.price = ledger, row, worst, price
        self.provider, self.free = provider, free
        self.started = time.monotonic()

    def __repr__(self) -> str:
        return f"<Reservation row {self.row}, {dollars(self.worst)} held>"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def cost_of(self, usage: pricing.Usage, usage_problem: str | None = None) -> Decimal | None:
        """What ``usage`` costs at this call's price: $0 for a free (offline) call, None when the
        price or the usage cannot be trusted."""
        if self.free:
            return Decimal(0)
        if usage_problem:
            return None  # an answer whose usage we cannot read must not read as a free call
        cost = pricing.cost(usage, self.price)
        return Dollars(cost) if cost is not None else None

    def settle(self, *, status: str, cost: Decimal | None, usage: dict | None = None, request_id=None,
               images=(), error: str | None = None, duration: float | None = None) -> None:
        """Book an answered call. If the ledger fails now, the reservation stays and keeps
        counting (the safe side), with a LedgerWarning naming the row (so each failure shows, not
        only the first), and the settle is kept for ``promptpaint ledger reconcile --interrupted``."""
        from .ledger import pending

        settle = dict(status=status, cost=cost, usage=usage, request_id=request_id, images=list(images),
                      duration=self.elapsed if duration is None else duration, error=error)
        if images:  # stored images: kept first, so a process that dies now leaves what to book
            pending.keep(self.ledger, self.row, settle)
        try:
            self.ledger.settle(self.row, **settle)
            if images:
                pending.done(self.ledger, self.row)
        except LedgerError as exc:
            if not images:
                pending.keep(self.ledger, self.row, settle)
            warnings.warn(f"{exc} Ledger row {self.row} stays booked at its reservation; "
                          "`promptpaint ledger reconcile --interrupted` books it once the ledger is back.",
                          LedgerWarning, stacklevel=4)

    def settle_usage(self, usage: pricing.Usage, *, usage_problem: str | None = None, request_id=None,
                     images=(), refusal: str | None = None) -> Decimal | None:
        """Book the call at what ``usage`` costs; returns that cost (None: unknown, the
        reservation keeps counting against every cap)."""
        cost = self.cost_of(usage, usage_problem)
        if cost is not None and self.worst and cost > self.worst:
            # No bill this call could run up: the ledger keeps it as reported, flagged for review,
            # and counts the reservation (``ledger.state.bounded``); the Result's cost is unknown.
            warnings.warn(f"{self.provider}: the usage reported for ledger row {self.row} prices at "
                          f"{dollars(cost)}, above the {dollars(self.worst)} this call could cost. It counts "
                          f"at {dollars(self.worst)} until reviewed (`promptpaint ledger reconcile "
                          f"{self.row} --cost X`).", UnknownPriceWarning, stacklevel=3)
            self.settle(status="refused" if refusal else "ok", cost=cost, usage=usage.as_dict(),
                        request_id=request_id, images=images, error=refusal)
            return None
        if usage_problem and not self.free:
            held = f" its reservation of {dollars(self.worst)} keeps counting against budgets" if self.worst else ""
            warnings.warn(f"{self.provider}: {usage_problem}. This call's cost is booked as "
                          f"unknown;{held or ' no budget applied to it'}.", UnknownPriceWarning, stacklevel=3)
        self.settle(status="refused" if refusal else "ok", cost=cost, usage=usage.as_dict(),
                    request_id=request_id, images=images, error=refusal or usage_problem)
        return cost

    def fail(self, exc: BaseException) -> None:
        """Book a call that raised ``exc``: $0 if it certainly did not reach the provider (or was
        refused), else unknown, still counting at its reservation (contract: ``maybe_billed``)."""
        duration = self.elapsed
        if isinstance(exc, Refused):
            exc.cost, exc.usage = Decimal(0), pricing.Usage()
            self.ledger.settle(self.row, status="refused", cost=Decimal(0), request_id=exc.request_id,
                               duration=duration, error=exc.message)
            return
        known = isinstance(exc, PromptpaintError)
        what = f"{type(exc).__name__}: {exc.message}" if known else scrub(f"{type(exc).__name__}: {exc}")
        if known and not getattr(exc, "maybe_billed", False):
            self.ledger.release(self.row, error=what, duration=duration)
            return
        if known:
            exc.cost = None
        self.ledger.settle(self.row, status="error", cost=None, duration=duration,
                           request_id=getattr(exc, "request_id", None), error=f"may have been billed: {what}")

    def release(self, error: str | None = None) -> None:
        self.ledger.release(self.row, error=error, duration=self.elapsed)


def reserve(ledger: Ledger, attempt: Attempt, worst: Decimal | None, caps: list[Cap],
            price: Price | None = None, *, free: bool = False) -> Reservation:
    """Hold ``worst`` for ``attempt`` against ``caps`` (``BudgetExceeded`` when one would break)."""
    return Reservation(ledger, ledger.reserve(attempt, worst, caps), worst, price,
                       provider=attempt.provider, free=free)


def worst_case(model: Model, provider: Provider, call: Call, price: Price | None, caps: list[Cap],
               ceiling: Decimal | None) -> Decimal | None:
    """The most ``call`` can cost. Under a cap, a call nothing bounds is refused (or reserves the
    user's ``ceiling``): a budget is only as good as its reservations."""
    if provider.offline:
        return Decimal(0)
    replayed, extra_text = provider.history_inputs(call.history)
    n_in = (len(call.images) + (call.mask is not None) + (call.markup is not None) + replayed)
    if call.mask is not None:
        extra_text += provider.mask_instruction
    why = None if price is not None else f"the price of {model.id} is unknown"
    if why is None:
        try:
            usage = pricing.worst_usage(model, call.prompt, call.params, n_in, provider=provider,
                                        history_text=extra_text,
                                        first_image_size=inputs.image_size(call.images[0]) if call.images else None)
            if call.previews and provider.preview_tokens:
                # Previews are billed on top of the image (OpenAI: 100 output image tokens each).
                extra = provider.preview_tokens * call.previews * int(call.params.get("n") or 1)
                usage = dataclasses.replace(usage, output_image_tokens=usage.output_image_tokens + extra)
            return pricing.most(usage, price)
        except pricing.Unbounded as exc:
            why = str(exc)
    if ceiling is not None:
        return ceiling
    if caps:
        more = ", or price={…} (USD per 1M tokens)" if price is None else ""
        raise BudgetExceeded(
            f"{why[0].upper()}{why[1:]}, so this call's cost has no known upper bound and the "
            f"budget cannot be kept. Pass ceiling=… (the most one call may cost, in USD){more} "
            "to the Client, or choose a setting with a known price.",
            hint="A budget holds only if every call's cost has an upper bound: pass ceiling= or "
                 "choose another quality or model.")
    if price is None:
        warnings.warn(f"No price on file for {model.id}: this call's cost is booked as unknown.",
                      UnknownPriceWarning, stacklevel=5)
    return None


@dataclass(frozen=True)
class Quote:
    """What a call would reserve, before it is made: the one figure the widget's "at most",
    ``Client.estimate``, a Sweep's or a comparison's estimate and a refusal all quote.

    ``most``: the reservation (None: unbounded and no cap, or unknown price); ``left``: the
    least any cap on the call still allows (None: no cap); ``refusal``: why ``reserve`` would
    refuse it now (None: it would be admitted).
    """

    most: Decimal | None
    left: Decimal | None = None
    refusal: str | None = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def quote(client, request: Request, *, budget: Budget | None = None, price=None) -> Quote:
    """The reservation ``request`` would make on ``client`` now, with the caps in force (the
    budget left included), booking nothing. A blank prompt is quoted as a one-byte one (no call
    carries less); bad parameters raise as the call would."""
    if not str(request.prompt or "").strip():
        request = dataclasses.replace(request, prompt=".")
    how = {} if price is None else {"price": price}
    try:
        plan = CallPlan(client, request, budget=budget, **how)
    except BudgetExceeded as exc:  # nothing bounds it under a cap: refused before any reservation
        return Quote(None, None, _refusal_text(exc))
    return plan.quote()


def _refusal_text(exc: BudgetExceeded) -> str:
    return f"{exc.message} {exc.hint}".strip() if exc.hint else exc.message


_CLIENTS_PRICE = object()


class CallPlan:
    """One call, prepared: checked, encoded, priced and bounded, nothing spent yet.

    :param client: the ``Client`` whose provider, model, ledger, store and rules apply.
    :param request: what to do.
    :param budget: book against this cap instead of the Client's own (a Sweep's shared budget);
        the daily cap applies either way.
    :param price: the price to book at instead of the model's today (a batch's half price).

    After construction: ``call`` (the provider-neutral request), ``price``, ``caps``, ``worst``
    (None: unbounded and no cap) and ``attempt`` (what the ledger row will say).
    """

    def __init__(self, client, request: Request, *, budget: Budget | None = None, price=_CLIENTS_PRICE):
        self.client, self.request = client, request
        self.connection: Provider = client.connection
        n = inputs.previews(client.model, request.on_partial, request.partial_images)
        self.call, self.source, self.preserve = inputs.prepare(
            client.model, self.connection, request.kind, request.prompt, request.inputs, request.mask,
            request.params, request.history, request.preserve_unmasked, request.markup, n)
        self.price: Price | None = client.price_today() if price is _CLIENTS_PRICE else price
        self.budget = budget or Budget(client.budget_id, client.budget)
        self.caps: list[Cap] = client.caps(self.budget)
        self.practice = practice.model_of(client, self.connection)  # bill_like=: another model's prices
        self.price, model, conn = practice.terms(self.practice, self.price, client.model, self.connection)
        self.worst = worst_case(model, conn, self.call, self.price, self.caps, client.ceiling)
        self.cache_key = None
        if client.cache and not request.history:
            self.cache_key = cache.call_key(client.account, client.model.id, request.kind, self.call,
                                            self.preserve, request.feather)
        self.attempt = Attempt(provider=client.provider_name, model=client.model.id,
                               kind=request.book_as or request.kind, prompt=request.prompt,
                               params=self.call.params, price_version=practice.version(self.practice, self.price),
                               budget=self.budget.id, cache_key=self.cache_key)

    def quote(self) -> Quote:
        """What ``reserve`` would hold and say now, booking nothing (see ``Quote``)."""
        if self.connection.offline:
            return Quote(self.worst)
        ledger = self.client.ledger
        if hasattr(ledger, "admits"):
            left, refused = ledger.admits(self.attempt, self.worst, self.caps)
        else:  # a Ledger of someone's own: the Client's caps against what it says was spent
            from .ledger import budgets

            left, refused = budgets.admits(ledger, self.attempt, self.worst, self.caps)
        return Quote(self.worst, left, _refusal_text(refused) if refused is not None else None)

    # -- the steps --------------------------------------------------------------------------------
    def reserve(self) -> Reservation:
        """Hold the worst case against every cap; BudgetExceeded (nothing sent) when one would break."""
        return reserve(self.client.ledger, self.attempt, self.worst, self.caps, self.price,
                       free=self.connection.offline and self.practice is None)

    def send(self, cancel: threading.Event | None = None) -> Answer:
        """Make the request; previews go to ``request.on_partial`` as PIL images (none once cancelled)."""
        on_partial = self.request.on_partial

        def on_preview(data: bytes, index: int) -> None:
            if cancel is None or not cancel.is_set():  # a cancelled call lands, unshown
                on_partial(open_bytes(data), index)

        shown = on_preview if on_partial is not None and self.call.previews else None
        return self.connection.send(self.client.model, self.call, cancel=cancel, on_preview=shown)

    def store(self, held: Reservation, answer: Answer) -> tuple[list[str], list[Path]]:
        """The answer's images on disk, the provider's own bytes first (then the original pasted
        back outside the mask). A failure here books the call as answered but not stored."""
        store, ids, paths = self.client.store, [], []
        try:
            for data in answer.images:
                digest, path = store.put(data)
                if self.call.mask is not None and self.preserve:
                    edited = Image.open(path)
                    digest, path = store.put_image(masks.composite(self.source, edited, self.call.mask,
                                                                   self.request.feather))
                ids.append(digest)
                paths.append(path)
        except BaseException as exc:
            held.settle(status="error", cost=held.cost_of(answer.usage, answer.usage_problem),
                        usage=answer.usage.as_dict(), request_id=answer.request_id, images=ids,
                        error=f"answer received but not stored: {type(exc).__name__}: {exc}")
            raise
        return ids, paths

    def book(self, held: Reservation, answer: Answer, stored: tuple[list[str], list[Path]]) -> Result:
        """Settle at the answer's cost and return the Result (Refused, with its cost, for an answer
        without an image)."""
        duration = held.elapsed
        ids, paths = stored
        cost = (practice.book(held, self.practice, self.worst, answer, ids) if self.practice is not None else
                held.settle_usage(answer.usage, usage_problem=answer.usage_problem,
                                  request_id=answer.request_id, images=ids, refusal=answer.refusal))
        name = self.client.provider_name
        if answer.refusal:
            said = f" The model said: {answer.text!r}" if answer.text else ""
            exc = Refused(f"{name} returned no image (reason: {answer.refusal}).{said}", reason=answer.refusal,
                          text=answer.text, provider=name, request_id=answer.request_id)
            exc.cost, exc.usage = cost, answer.usage
            raise exc
        result = Result(prompt=self.attempt.prompt, provider=name, model=self.client.model.id,
                        kind=self.attempt.kind, params=self.call.params, ids=ids, paths=paths, text=answer.text,
                        usage=answer.usage, cost=cost, request_id=answer.request_id,
                        finish_reason=answer.finish_reason, revised_prompt=answer.revised_prompt,
                        duration=duration, ledger_id=held.row, offline=self.connection.offline,
                        reserved=held.worst if cost is None else None)
        if self.cache_key:
            cache.remember(self.client.ledger, self.cache_key, result)
        return result

    # -- all of it --------------------------------------------------------------------------------
    def run(self, cancel: threading.Event | None = None,
            on_answer: Callable[[Answer], None] | None = None) -> Result:
        """Reserve, send, store and book (or answer from the cache at $0)."""
        def go() -> Result:
            held = self.reserve()
            try:
                answer = self.send(cancel)
            except BaseException as exc:
                held.fail(exc)
                raise
            result = self.book(held, answer, self.store(held, answer))
            if on_answer is not None:
                on_answer(answer)
            return result

        if self.cache_key is None:
            return go()
        client = self.client
        return cache.once(self.cache_key, lambda: cache.lookup(client.ledger, client.store, self.cache_key,
                                                               self.attempt, self.connection.offline), go)


__all__ = ["CallPlan", "Request", "Budget", "Reservation", "reserve", "worst_case", "quote", "Quote",
           "LedgerWarning"]
