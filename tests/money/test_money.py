"""What the client books when a call goes wrong: usage it cannot trust or never gets, a failure
before or after the provider did the work, a ledger that fails, a process that restarts or shares
the file; and what a cached answer books (nothing, and only for the same gateway and key).

Caps are test_budget's; the fake provider's bill against the ledger under each wire fault is
test_invariants'.
"""

import base64
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY
from helpers import client_on, png_bytes
from promptpaint.client import LedgerWarning
from promptpaint.ledger import LedgerError


# ----------------------------------------------------------------------------- usage we cannot trust
@pytest.mark.parametrize("bad", [None, -7033, 10**13, "lots", [1]])
def test_untrustworthy_usage_keeps_the_image_and_books_unknown_at_the_reservation(fake, books, bad):
    body = {"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes((9, 7))).decode()}],
            "usage": {"input_tokens": 20, "output_tokens": bad,
                      "input_tokens_details": {"text_tokens": 20, "image_tokens": 0}}}
    fake.fault("openai", "status", code=200, body=body)
    c = client_on(fake, "openai", budget=1)
    with pytest.warns(pp.UnknownPriceWarning, match="unknown"):
        r = c.generate("a fox")
    assert r.image.size == (9, 7) and r.cost is None
    row = books.last_row()
    assert row["cost"] is None and row["state"] == "unknown cost"
    assert r.reserved == row["reserved"] >= Decimal("0.211")
    assert pp.ledger().spent(budget=row["budget"]) == row["reserved"]
    # shown as unknown, with what it holds against the caps
    assert "cost unknown (up to $0.231335 counted against budgets)" in repr(r)


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_stream_that_ends_without_usage_is_booked_unknown_at_its_reservation(fake, books, provider):
    if provider == "openai":
        fake.openai_final_usage = False  # the completed event carries no usage
        extra = {"quality": "low", "partial_images": 1}
    else:
        fake.gemini_final_usage = False  # the last chunk has no usageMetadata; interim ones did
        extra = {}
    c = client_on(fake, provider, budget=1)
    with pytest.warns(pp.UnknownPriceWarning, match="no usage"):
        r = c.generate("a lighthouse", on_partial=lambda im, i: None, **extra)
    row = books.last_row()
    assert r.images and r.cost is None and row["cost"] is None and r.reserved == row["reserved"] > 0
    assert books.bill_of(row) <= row["reserved"]  # a prompt-only interim usage is not the bill
    assert pp.ledger().spent(budget=c.budget_id) == row["reserved"]


def test_a_negative_usage_never_credits_a_cap(fake):
    body = {"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes((8, 8))).decode()}],
            "usage": {"input_tokens": -10**6, "output_tokens": -10**6}}
    c = client_on(fake, "openai", budget=0.5)
    for _ in range(2):
        fake.fault("openai", "status", code=200, body=body)
        with pytest.warns(pp.UnknownPriceWarning):
            c.generate("a fox")
    with pytest.raises(pp.BudgetExceeded):  # 2 x $0.211 held in $0.50: no third call
        c.generate("a fox")
    assert pp.ledger().spent() > 0 and pp.ledger().total() == 0


# ----------------------------------------------------------------------------- a call that fails
def test_a_call_the_provider_refused_releases_its_reservation(fake, books):
    c = client_on(fake, "gemini", budget=0.20)  # one worst case (~$0.162) fits, two would not
    fake.fault("gemini", "permission")
    with pytest.raises(pp.AccessError):
        c.generate("a fox")
    row = books.last_row()
    assert row["cost"] == 0 and pp.ledger().spent() == 0 and fake.bill_total() == 0
    assert c.generate("a fox").images  # the reservation did not stay booked


class Boom(pp.ProviderError):
    pass


@pytest.mark.parametrize("maybe_billed", [True, False])
def test_a_failure_is_released_only_when_nothing_reached_the_provider(fake, books, monkeypatch, maybe_billed):
    c = client_on(fake, "gemini", budget=1)

    def send(*a, **k):
        exc = Boom("the answer was cut off")
        exc.maybe_billed = maybe_billed
        raise exc

    monkeypatch.setattr(c._provider, "send", send)
    with pytest.raises(Boom):
        c.generate("a fox")
    row = books.last_row()
    if maybe_billed:
        assert row["cost"] is None and "may have been billed" in row["error"]
        assert pp.ledger().spent(budget=row["budget"]) == row["reserved"] > 0
    else:
        assert row["cost"] == 0 and pp.ledger().spent() == 0


def test_an_unexpected_exception_mid_call_counts_as_maybe_billed(fake, books, monkeypatch):
    c = client_on(fake, "gemini")
    monkeypatch.setattr(c._provider, "send", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        c.generate("a fox")
    assert books.last_row()["cost"] is None and pp.ledger().spent() > 0


def test_a_ledger_that_fails_after_the_answer_keeps_the_reservation_and_the_image(fake, books):
    c = client_on(fake, "gemini", budget=1)

    def full(*a, **k):
        raise LedgerError("disk full")

    c.ledger.settle = full
    try:
        with pytest.warns(LedgerWarning, match="disk full"):
            r = c.generate("a fox")
    finally:
        del c.ledger.settle
    assert r.paths[0].exists()
    row = books.last_row()
    assert row["status"] == "reserved" and pp.ledger().spent() == row["reserved"] > 0


# ----------------------------------------------------------------------------- the books outlast a kernel
def test_ledger_survives_a_restart_and_totals_by_session_and_day(fake, isolated_home):
    r = client_on(fake, "gemini").generate("a fox")
    led = pp.SQLiteLedger(isolated_home / "ledger.sqlite3")  # a new connection, as a new kernel would
    assert led.total() == r.cost
    assert led.today() == r.cost
    assert led.total(session="another-session") == 0
    row = led.entries(1)[0]
    assert row["provider"] == "gemini" and row["usage"]["output_image_tokens"] == 1120
    assert GEMINI_KEY not in repr(row)


def test_two_processes_writing_at_once(tmp_path):
    script = (
        "import sys, promptpaint as pp\n"
        "from decimal import Decimal\n"
        "from promptpaint.ledger import Attempt\n"
        "led = pp.SQLiteLedger(sys.argv[1])\n"
        "for i in range(50):\n"
        "    row = led.reserve(Attempt('openai', 'gpt-image-2', 'generate', 'p', {}, None), Decimal('0.01'), [])\n"
        "    led.settle(row, status='ok', cost=Decimal('0.001'))\n"
    )
    path = tmp_path / "shared.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(2)]
    assert all(p.wait(60) == 0 for p in procs)
    assert pp.SQLiteLedger(path).total() == Decimal("0.1")


# ----------------------------------------------------------------------------- the cache
def test_the_cache_never_answers_another_gateway_or_key(fake):
    client_on(fake, "openai", cache=True).generate("a fox")
    other_gateway = pp.Client("openai", api_key=OPENAI_KEY, cache=True,
                              base_url=fake.openai_base.replace("127.0.0.1", "localhost"))
    assert not other_gateway.generate("a fox").cached
    fake.keys.add("sk-test-other-account-000000")
    other_key = pp.Client("openai", api_key="sk-test-other-account-000000", cache=True,
                          base_url=fake.openai_base)
    assert not other_key.generate("a fox").cached
    assert client_on(fake, "openai", cache=True).generate("a fox").cached
    assert len(fake.by_provider("openai")) == 3


def test_identical_cached_calls_in_flight_make_one_request(fake):
    fake.latency = 0.3
    c = client_on(fake, "openai", cache=True)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: c.generate("a fox"), range(4)))
    assert len(fake.by_provider("openai")) == 1
    assert sum(not r.cached for r in results) == 1 and len({r.ids[0] for r in results}) == 1
