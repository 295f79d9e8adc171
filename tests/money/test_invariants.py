"""The money invariants, checked against the fake provider's own bill.

1. What the provider bills never exceeds a cap that applies.
2. Every request that reached the provider has a row: its exact cost (equal to the bill) or
   unknown, counted at a reservation at least as large as the bill.
3. A reservation is a true upper bound for every model and parameter combination.
"""

import io
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, ODD_USAGE, OPENAI_KEY
from helpers import client_on
from promptpaint import registry


def check_books(fake, caps=()):
    """The provider's bill against the ledger: equal for answered calls, covered for the rest."""
    led = pp.ledger()
    rows = led.entries(10_000)
    bills = {b.request_id: b for b in fake.billed}
    for row in rows:
        if row["cost"] is not None and row["cost"] > 0:
            assert row["request_id"] in bills, f"booked {row['cost']} for a call the provider never billed"
            assert row["cost"] == bills[row["request_id"]].cost, row
    booked = {r["request_id"] for r in rows if r["cost"] is not None}
    unbooked = sum((b.cost for rid, b in bills.items() if rid not in booked), Decimal(0))
    open_ = sum((r["reserved"] or 0 for r in rows if r["cost"] is None), Decimal(0))
    assert unbooked <= open_, f"billed {unbooked} for calls the ledger holds only {open_} for"
    for limit in caps:
        assert fake.bill_total() <= limit
    assert led.spent() >= fake.bill_total()
    assert all(r["cost"] is None or r["cost"] >= 0 for r in rows)


# ----------------------------------------------------------------------------- 3. true bounds
def _png(w, h):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (5, 6, 7)).save(buf, "PNG")
    return buf.getvalue()


def _combinations():
    for m in registry.all_models():
        if m.is_retired() or m.provider == "offline":
            continue
        if m.provider == "openai":
            sizes = list(m.params["size"]["choices"])
            if m.capabilities.get("custom_sizes"):
                sizes += ["2048x1152"]
            for quality, size in itertools.product(m.params["quality"]["choices"], sizes):
                yield m.id, {"quality": quality, "size": size}
        else:
            for image_size in m.params["image_size"]["choices"]:
                yield m.id, {"image_size": image_size}


@pytest.fixture(scope="module")
def worst_fake():
    from fakes import FakeProviders
    with FakeProviders() as fake:
        fake.worst_case = True
        yield fake


@pytest.mark.parametrize("model, params", list(_combinations()), ids=lambda v: str(v))
def test_the_reservation_covers_the_largest_bill_the_provider_can_send(worst_fake, model, params):
    provider = registry.get(model).provider
    c = client_on(worst_fake, provider, model=model)
    prompt = "a lighthouse at dusk, 灯台と夕暮れ"
    est = c.estimate(prompt, **params)
    if params.get("quality") in ("xhigh", "max"):
        assert est is None  # nothing published bounds it: refused under a budget (test_money)
        return
    n = 2 if provider == "openai" else 1
    before = worst_fake.bill_total()
    r = c.generate(prompt, **params, **({"n": n} if provider == "openai" else {}))
    billed = worst_fake.bill_total() - before
    assert r.cost == billed
    assert c.estimate(prompt, **params, **({"n": n} if provider == "openai" else {})) >= billed
    # an edit with two input images, at the input's size for OpenAI's size="auto"
    src = _png(1536, 1024)
    before = worst_fake.bill_total()
    r = c.edit(prompt, image=src, images=[_png(640, 480)], **params)
    billed = worst_fake.bill_total() - before
    row = pp.ledger().entries(1)[0]
    assert row["reserved"] >= billed == r.cost


def test_a_gemini_conversation_reserves_for_its_whole_history(worst_fake):
    chat = client_on(worst_fake, "gemini").chat()
    for prompt in ("a lighthouse", "now at night", "add a ship", "make it stormy 嵐"):
        before = worst_fake.bill_total()
        chat.send(prompt)
        row = pp.ledger().entries(1)[0]
        assert row["reserved"] >= worst_fake.bill_total() - before == row["cost"]


# ----------------------------------------------------------------------------- 1 & 2 under faults
FAULTS = [
    ("none", {}), ("truncated", {}), ("truncated", {"mode": "cut_json"}), ("drop_after_read", {}),
    *[("odd_usage", {"kind": k}) for k in ODD_USAGE], ("non_json", {}), ("server_error", {}),
    ("rate_limit", {}), ("slow", {"seconds": 0.6}), ("refusal", {}),
]
REFUSAL = {"openai": "moderation", "gemini": "image_safety"}  # no image; Gemini still bills the prompt


@pytest.mark.parametrize("provider", ["openai", "gemini"])
@pytest.mark.parametrize("fault, kw", FAULTS, ids=lambda v: str(v))
def test_under_every_fault_the_bill_matches_the_books_and_stays_under_the_cap(fake, provider, fault, kw,
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
    check_books(fake, caps=(budget, Decimal("0.40")))
    assert fake.server_errors == []


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_eight_concurrent_calls_with_faults_never_overshoot(fake, provider):
    fake.latency = 0.1
    budget = Decimal("0.70")
    c = client_on(fake, provider, budget=budget)
    for k in ("none", "truncated", "drop_after_read", "odd_usage") * 2:
        if k != "none":
            fake.fault(provider, k)

    def call(i):
        try:
            return c.generate(f"fox {i}")
        except pp.PromptpaintError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(call, range(16)))
    check_books(fake, caps=(budget,))


CHILD = """
import sys, promptpaint as pp
provider, base, key, budget_id = sys.argv[1:5]
c = pp.Client(provider, api_key=key, base_url=base, budget=0.9, budget_id=budget_id, backoff=0.01)
for i in range(6):
    try:
        c.generate(f"fox {i} from {sys.argv[5]}")
    except pp.BudgetExceeded:
        pass
"""


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_two_processes_share_one_cap(fake, provider, isolated_home):
    fake.latency = 0.05
    base, key = (fake.openai_base, OPENAI_KEY) if provider == "openai" else (fake.gemini_base, GEMINI_KEY)
    env = {**os.environ, "PROMPTPAINT_HOME": str(isolated_home)}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, provider, base, key, "shared", str(n)], env=env)
             for n in range(2)]
    assert all(p.wait(120) == 0 for p in procs)
    check_books(fake, caps=(Decimal("0.9"),))
    assert pp.ledger().spent(budget="shared") <= Decimal("0.9")


KILLED = """
import sys, promptpaint as pp
provider, base, key = sys.argv[1:4]
pp.Client(provider, api_key=key, base_url=base, budget=1, budget_id="k").generate("a fox")
"""


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_kill_9_mid_call_leaves_a_reservation_that_keeps_counting(fake, provider, isolated_home):
    fake.fault(provider, "slow", seconds=0.5)
    base, key = (fake.openai_base, OPENAI_KEY) if provider == "openai" else (fake.gemini_base, GEMINI_KEY)
    env = {**os.environ, "PROMPTPAINT_HOME": str(isolated_home)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED, provider, base, key], env=env)
    fake.wait_for_requests(1, provider, timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    fake.wait_idle()  # the provider finishes the work and bills it
    assert len(fake.billed) == 1
    row = pp.ledger().entries(1)[0]
    assert row["state"] == "interrupted" and row["reserved"] >= fake.bill_total()
    check_books(fake, caps=(Decimal(1),))
    # a later call in the same budget sees it: the cap still holds
    assert pp.ledger().spent(budget="k") == row["reserved"]
    assert "1 call interrupted" in str(pp.ledger().summary())
