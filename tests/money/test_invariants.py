"""The fake provider's bill against the ledger under every fault (``books.check``, in conftest.py):

1. What the provider bills never exceeds a cap that applies.
2. Every request that reached the provider has a row: its exact cost (equal to the bill) or
   unknown, counted at a reservation at least as large as the bill.

Concurrent calls under a cap (with and without faults) and two processes sharing one are
test_budget's; that a reservation bounds the bill for every model and setting is test_bounds'.
"""

import os
import signal
from decimal import Decimal

import pytest

import promptpaint as pp
from fakes import ODD_USAGE
from helpers import client_on

FAULTS = [
    ("none", {}), ("truncated", {}), ("truncated", {"mode": "cut_json"}), ("drop_after_read", {}),
    *[("odd_usage", {"kind": k}) for k in ODD_USAGE], ("non_json", {}), ("server_error", {}),
    ("rate_limit", {}), ("slow", {"seconds": 0.6}), ("refusal", {}),
]
REFUSAL = {"openai": "moderation", "gemini": "image_safety"}  # no image; Gemini still bills the prompt


@pytest.mark.parametrize("provider", ["openai", "gemini"])
@pytest.mark.parametrize("fault, kw", FAULTS, ids=lambda v: str(v))
def test_under_every_fault_the_bill_matches_the_books_and_stays_under_the_cap(fake, books, provider, fault, kw,
                                                                               monkeypatch):
    fake.worst_case = True  # the provider bills all it may: a reservation has no slack to hide in
    budget = Decimal("0.45") if provider == "openai" else Decimal("0.35")
    monkeypatch.setenv("PROMPTPAINT_DAILY_BUDGET", "0.40")
    c = client_on(fake, provider, budget=budget, timeout=0.3, max_retries=1)
    fault = REFUSAL[provider] if fault == "refusal" else fault
    for i in range(5):
        if fault != "none":
            fake.fault(provider, fault, **({"retry_after_ms": 1} if fault == "rate_limit" and provider == "openai"
                                            else {"retry_delay": "0.01s"} if fault == "rate_limit" else kw))
        try:
            c.generate(f"fox {i}", **({"quality": "high"} if provider == "openai" else {}))
        except pp.PromptpaintError:
            pass
    fake.wait_idle()  # a slow answer the client gave up on is billed when the server finishes it
    books.check(caps=(budget, Decimal("0.40")))
    assert fake.server_errors == []


KILLED = """
import sys, promptpaint as pp
provider, base, key = sys.argv[1:4]
pp.Client(provider, api_key=key, base_url=base, budget=1, budget_id="k").generate("a fox")
"""


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_kill_9_mid_call_leaves_a_reservation_that_keeps_counting(fake, books, spawn, provider):
    fake.fault(provider, "slow", seconds=0.5)
    proc = spawn(KILLED, provider)
    fake.wait_for_requests(1, provider, timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    fake.wait_idle()  # the provider finishes the work and bills it
    assert len(fake.billed) == 1
    row = books.last_row()
    assert row["state"] == "interrupted" and row["reserved"] >= fake.bill_total()
    books.check(caps=(Decimal(1),))
    # a later call in the same budget sees it: the cap still holds
    assert pp.ledger().spent(budget="k") == row["reserved"]
    assert "1 call interrupted" in str(pp.ledger().summary())
