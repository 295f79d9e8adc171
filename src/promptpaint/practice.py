"""Practice: the offline stand-in billed like a real model (``Client("offline", bill_like=MODEL)``
or ``PROMPTPAINT_BILL_LIKE``), so a teacher can try a class's caps before a cent is spent.

A practice call reserves that model's worst case for the same settings, at its price today, and
is booked at it (the stand-in's own usage is no bill), marked in the ledger as practice.
"""

from __future__ import annotations

from decimal import Decimal

from .clock import utc_now
from .registry import Model, Price


def model_of(client, connection) -> Model | None:
    """The model a Client's offline calls are billed like, if any."""
    return getattr(client, "bill_like", None) if connection.offline else None


def terms(model: Model | None, price: Price | None, own_model: Model, connection):
    """(price, model, provider) a call's worst case is reckoned with: the practice model's, at its
    price today, or the call's own."""
    if model is None:
        return price, own_model, connection
    from .providers import provider_class

    return model.price_on(utc_now().date()), model, provider_class(model.provider)


def version(model: Model | None, price: Price | None) -> str | None:
    """The ledger row's ``price_version``: marked as practice when it is."""
    if model is not None:
        return f"practice as {model.id} {price.version}"
    return price.version if price else None


def book(held, model: Model, worst: Decimal, answer, ids) -> Decimal:
    """Settle a practice call at the model's worst case; return that cost."""
    held.settle(status="ok", cost=worst, usage=answer.usage.as_dict(), images=ids,
                error=f"practice: the offline stand-in, booked at {model.id}'s prices")
    return worst
