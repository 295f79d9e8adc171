"""What a call is booked as before it is sent (``Attempt``) and the caps it must fit under (``Cap``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from ..clock import current_user

SESSION_ID = uuid.uuid4().hex[:12]  # one per Python process: a kernel session


@dataclass(frozen=True)
class Cap:
    """A spending limit: ``scope`` is ``"day"`` (UTC calendar day, all calls) or a budget id."""

    scope: str
    limit: Decimal


@dataclass
class Attempt:
    """What is known about a call before it is sent."""

    provider: str
    model: str
    kind: str
    prompt: str
    params: dict
    price_version: str | None
    session: str = SESSION_ID
    budget: str | None = None
    cache_key: str | None = None
    user: str = field(default_factory=lambda: current_user())
