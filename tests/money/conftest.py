"""What the money tests share: the provider's bill read beside the ledger, and a fake that bills the
most a provider may.

    books          ``Books`` on the ``fake``: ``last_row()``, ``bill_of(row)``, ``check(caps)``
    worst          a module-wide fake that bills the worst case (thinking fills the output cap,
                   2,000 text tokens an OpenAI image, Gemini makes as many images as fit)
    worst_books    ``Books`` on ``worst``
    spawn          ``spawn(script, provider, *args)``: a second kernel on the fake and this ledger
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest

import promptpaint as pp
from fakes import FakeProviders
from helpers import KEYS


class Books:
    """The provider's bill (the fake's own record of what it charged) beside the ledger's rows."""

    def __init__(self, fake):
        self.fake = fake

    @staticmethod
    def last_row() -> dict:
        return pp.ledger().entries(1)[0]

    def bill_of(self, row) -> Decimal:
        """What the provider charged for the request this row booked (exactly one bill)."""
        (bill,) = [b for b in self.fake.billed if b.request_id == row["request_id"]]
        return bill.cost

    def check(self, caps=()) -> None:
        """The money invariants: every answered call is booked at its bill, every bill the ledger
        could not price is covered by an open reservation, no cap that applies was passed, and no
        row credits a cap."""
        led = pp.ledger()
        rows = led.entries(10_000)
        bills = {b.request_id: b for b in self.fake.billed}
        for row in rows:
            if row["cost"] is not None and row["cost"] > 0:
                assert row["request_id"] in bills, f"booked {row['cost']} for a call the provider never billed"
                assert row["cost"] == bills[row["request_id"]].cost, row
        booked = {r["request_id"] for r in rows if r["cost"] is not None}
        unbooked = sum((b.cost for rid, b in bills.items() if rid not in booked), Decimal(0))
        open_ = sum((r["reserved"] or 0 for r in rows if r["cost"] is None), Decimal(0))
        assert unbooked <= open_, f"billed {unbooked} for calls the ledger holds only {open_} for"
        for limit in caps:
            assert self.fake.bill_total() <= limit
        assert led.spent() >= self.fake.bill_total()
        assert all(r["cost"] is None or r["cost"] >= 0 for r in rows)


@pytest.fixture
def books(fake):
    return Books(fake)


@pytest.fixture(scope="module")
def worst():
    with FakeProviders() as fake:
        fake.worst_case = True  # thinking fills the cap, 2,000 text tokens an OpenAI image
        fake.gemini_images = 10  # and Gemini makes as many images as fit
        yield fake


@pytest.fixture
def worst_books(worst):
    return Books(worst)


@pytest.fixture
def spawn(fake, isolated_home):
    """``spawn(script, provider, *args)``: a fresh interpreter running ``script`` with argv
    ``[provider, base_url, key, *args]`` on the fake, sharing this test's ledger (a second kernel)."""
    env = {**os.environ, "PROMPTPAINT_HOME": str(isolated_home)}

    def start(script, provider, *args):
        base = fake.openai_base if provider == "openai" else fake.gemini_base
        return subprocess.Popen([sys.executable, "-c", script, provider, base, KEYS[provider], *map(str, args)],
                                env=env)

    return start
