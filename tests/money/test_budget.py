"""Budgets: reserve the worst case before a call, settle after, never overshoot."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY
from helpers import client_on


def test_a_call_that_would_pass_the_budget_is_refused_before_sending(fake):
    c = client_on(fake, "gemini", budget=0.05)
    assert c.estimate("a fox") > Decimal("0.05")
    with pytest.raises(pp.BudgetExceeded) as exc:
        c.generate("a fox")
    assert fake.by_provider("gemini") == []
    assert "0.05" in str(exc.value)


def test_eight_concurrent_calls_never_overshoot_the_budget(fake):
    fake.latency = 0.2
    # A true worst case for gemini-3.1-flash-image 1K is ~$0.162 (the 32,768-token output limit:
    # thinking bills at the text rate); the old $0.073 ignored thinking, so $0.25 held three.
    budget = Decimal("0.50")
    c = client_on(fake, "gemini", budget=budget)
    outcomes = []

    def call(i):
        try:
            return c.generate(f"fox {i}")
        except pp.BudgetExceeded as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(call, range(8)))
    ok = [o for o in outcomes if isinstance(o, pp.Result)]
    refused = [o for o in outcomes if isinstance(o, pp.BudgetExceeded)]
    assert len(ok) + len(refused) == 8
    assert len(ok) == 3  # three worst-case reservations fit in $0.25, a fourth does not
    spent = sum(r.cost for r in ok)
    assert spent <= budget
    assert pp.ledger().total() == spent
    assert len(fake.by_provider("gemini")) == len(ok)


def test_daily_cap_from_config_applies_across_clients(fake, monkeypatch):
    # $0.20: one call reserves ~$0.162 and bills ~$0.07; a second reservation no longer fits.
    monkeypatch.setenv("PROMPTPAINT_DAILY_BUDGET", "0.20")
    client_on(fake, "gemini").generate("first fox")
    with pytest.raises(pp.BudgetExceeded, match="today"):
        client_on(fake, "gemini").generate("second fox")
    assert len(fake.by_provider("gemini")) == 1


def test_failed_call_releases_its_reservation(fake):
    c = client_on(fake, "gemini", budget=0.20)  # one worst case (~$0.162) fits, two would not
    fake.fault("gemini", "permission")
    with pytest.raises(pp.AccessError):
        c.generate("a fox")
    assert c.generate("a fox").images  # the reservation did not stay booked


def test_unknown_price_cannot_be_spent_under_a_budget(fake):
    with pytest.warns(pp.UnknownPriceWarning):
        c = pp.Client("openai", model="gpt-image-7",
                      api_key=OPENAI_KEY, base_url=fake.openai_base, budget=1)
    with pytest.raises(pp.BudgetExceeded, match="unknown"):
        c.generate("a fox")


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
    import subprocess
    import sys

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
