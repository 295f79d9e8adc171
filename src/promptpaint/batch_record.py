"""What a batch job's record holds, and the error for a job the ledger could not record.

Kept apart from ``batch.py`` (the job's life): the price row and public URL it stores, and what
happens when the provider created a job the ledger then failed to write.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit, urlunsplit

from . import errors, registry
from .errors import PromptpaintError
from .providers import batchwire
from .registry import Price


def batch_price(model, day: dt.date) -> Price | None:
    """The model's Batch API price row in force on ``day`` (models.json ``batch_prices``)."""
    for row in registry._data().get("batch_prices", {}).get(model.id, []):
        price = Price.from_row(row)
        if price.valid_from <= day and (price.valid_to is None or day < price.valid_to):
            return price
    return None


def _price_row(price: Price | None) -> str | None:
    if price is None:
        return None
    return json.dumps({"from": price.valid_from.isoformat(), "to": None, "source": price.source,
                       **{k: str(getattr(price, k)) for k in ("input_text", "input_image", "output_text",
                                                             "output_image")}})


def _public_url(url: str) -> str:
    """``url`` without a user:password part: the record must never hold a secret."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _unrecorded(client, wire, remote: batchwire.Remote, row: int, exc: BaseException) -> errors.LedgerError:
    """The error for a job the provider created but the ledger could not record: it names the job,
    so nothing the provider runs is lost. The job is cancelled at the provider when it can be (no
    line of it could be collected or booked), and its reservation keeps holding its worst case."""
    why = exc.message if isinstance(exc, PromptpaintError) else f"{type(exc).__name__}: {exc}"
    try:
        state = wire.cancel(remote.id).state
        fate = f"It was cancelled at {client.provider_name} (now {state}); lines that already ran may be billed."
    except Exception:
        fate = (f"It could not be cancelled either: it runs at {client.provider_name} and will be billed. "
                f"Cancel it in {client.provider_name}'s console.")
    try:
        client.ledger.settle(row, status="error", cost=None,
                             error=f"batch {remote.id} created but not recorded: {why}")
    except Exception:
        pass  # the ledger is failing: the reservation row keeps the job's worst case either way
    return errors.LedgerError(f"Batch job {remote.id} was created at {client.provider_name} but could not be "
                              f"recorded in the ledger ({why}). {fate}",
                              hint=f"Fix the ledger; job id: {remote.id}.", provider=client.provider_name)
