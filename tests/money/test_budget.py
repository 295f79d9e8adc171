"""Caps: how one is set (a bad setting is refused naming it), the worst case reserved and a call
refused before it is sent, settling, never overshooting under concurrency, and who shares a cap.

What is booked when a call goes wrong is test_money's; whether a reservation truly bounds the bill
is test_bounds'.
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

import promptpaint as pp
from fakes import OPENAI_KEY
from helpers import client_on
from promptpaint import money


# ----------------------------------------------------------------------------- refused before sending
@pytest.mark.parametrize("provider, budget, params", [("gemini", "0.05", {}), ("openai", "0.1", {"quality": "high"})])
def test_a_call_that_would_pass_the_budget_is_quoted_refused_and_never_sent(fake, provider, budget, params):
    c = client_on(fake, provider, budget=Decimal(budget))
    q = c.quote("a fox", **params)
    assert q.refused and q.left == Decimal(budget) and q.most > Decimal(budget)
    assert c.estimate("a fox", **params) == q.most
    with pytest.raises(pp.BudgetExceeded) as caught:
        c.generate("a fox", **params)
    assert fake.by_provider(provider) == []
    assert budget in str(caught.value)
    assert caught.value.message in q.refusal and money.format(q.most) in caught.value.message
    # the way out of a per-budget cap is to raise it, not to wait for tomorrow
    assert "tomorrow" not in q.refusal and "budget=" in caught.value.hint and "midnight" not in caught.value.hint


# ----------------------------------------------------------------------------- no known worst case
def test_unknown_price_cannot_be_spent_under_a_budget(fake):
    with pytest.warns(pp.UnknownPriceWarning):
        c = pp.Client("openai", model="gpt-image-7",
                      api_key=OPENAI_KEY, base_url=fake.openai_base, budget=1)
    with pytest.raises(pp.BudgetExceeded, match="unknown"):
        c.generate("a fox")
    assert fake.by_provider("openai") == []


def test_a_setting_without_a_known_bound_is_refused_under_a_budget_and_says_why(fake):
    c = client_on(fake, "openai", model="gpt-image-2.5-sunburst", budget=5)
    with pytest.raises(pp.BudgetExceeded) as exc:
        c.generate("a fox", quality="xhigh")
    assert "xhigh" in str(exc.value) and "ceiling=" in str(exc.value)
    assert fake.by_provider("openai") == []


def test_a_ceiling_lets_an_unbounded_setting_run_and_is_what_it_reserves(fake):
    c = client_on(fake, "openai", model="gpt-image-2.5-sunburst", budget=1, ceiling=0.60)
    seen = []
    real = c.ledger.reserve
    c.ledger.reserve = lambda attempt, amount, caps: seen.append(amount) or real(attempt, amount, caps)
    assert c.generate("a fox", quality="xhigh").images
    assert seen == [Decimal("0.6")]


def test_an_unbounded_setting_without_any_cap_runs_and_is_booked_at_its_cost(fake):
    r = client_on(fake, "openai", model="gpt-image-2.5-sunburst").generate("a fox", quality="xhigh")
    assert r.cost is not None and r.cost > 0


# ----------------------------------------------------------------------------- never overshoot
MIXED_FAULTS = ("none", "truncated", "drop_after_read", "odd_usage") * 2
CONCURRENT = {
    # A true worst case for gemini-3.1-flash-image 1K is ~$0.162 (the 32,768-token output limit:
    # thinking bills at the text rate): $0.50 holds three reservations, a fourth does not fit.
    "gemini": dict(provider="gemini", budget="0.50", calls=8, latency=0.2, fits=3),
    # The audit's case: low quality with 2,000 text tokens billed 3.97x its reservation.
    "openai-text-output": dict(provider="openai", budget="0.05", calls=9, knobs={"openai_text_tokens": 2000},
                               params={"quality": "low", "size": "1024x1024"}),
    "openai-faults": dict(provider="openai", budget="0.70", calls=16, latency=0.1, faults=MIXED_FAULTS),
    "gemini-faults": dict(provider="gemini", budget="0.70", calls=16, latency=0.1, faults=MIXED_FAULTS),
}


@pytest.mark.parametrize("case", CONCURRENT.values(), ids=CONCURRENT.keys())
def test_concurrent_calls_never_overshoot_the_budget(fake, books, case):
    provider, budget, faults = case["provider"], Decimal(case["budget"]), case.get("faults", ())
    fake.latency = case.get("latency", 0)
    for name, value in case.get("knobs", {}).items():
        setattr(fake, name, value)
    for k in faults:
        if k != "none":
            fake.fault(provider, k)
    c = client_on(fake, provider, budget=budget)

    def call(i):
        try:
            return c.generate(f"fox {i}", **case.get("params", {}))
        except pp.PromptpaintError as exc:
            return exc

    with ThreadPoolExecutor(8 if faults else case["calls"]) as pool:
        outcomes = list(pool.map(call, range(case["calls"])))
    books.check(caps=(budget,))
    ok = [o for o in outcomes if isinstance(o, pp.Result)]
    assert pp.ledger().spent() <= budget
    if not faults:  # every call answered or refused by the cap, and booked at the bill
        assert ok and all(isinstance(o, (pp.Result, pp.BudgetExceeded)) for o in outcomes)
        assert pp.ledger().total() == sum(r.cost for r in ok) == fake.bill_total() <= budget
        assert len(fake.by_provider(provider)) == len(ok)
    if "fits" in case:
        assert len(ok) == case["fits"]


# ----------------------------------------------------------------------------- who shares a cap
def test_daily_cap_from_config_applies_across_clients(fake, monkeypatch):
    # $0.20: one call reserves ~$0.162 and bills ~$0.07; a second reservation no longer fits.
    monkeypatch.setenv("PROMPTPAINT_DAILY_BUDGET", "0.20")
    client_on(fake, "gemini").generate("first fox")
    with pytest.raises(pp.BudgetExceeded, match="today") as per_day:
        client_on(fake, "gemini").generate("second fox")
    assert "today's budget" in per_day.value.message and "midnight UTC" in per_day.value.hint  # the way out
    assert len(fake.by_provider("gemini")) == 1


def test_clients_with_one_budget_id_share_one_cap(fake):
    a = client_on(fake, "gemini", budget=0.5, budget_id="studio-1")
    b = client_on(fake, "gemini", model="gemini-3-pro-image", budget=0.5, budget_id="studio-1")
    a.generate("a fox")
    with pytest.raises(pp.BudgetExceeded, match="this budget"):
        b.generate("a fox")  # pro reserves ~$0.51; the first call's cost already counts
    assert pp.ledger().spent(budget="studio-1") == pp.ledger().total()


SHARED_CAP_CHILD = """
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
def test_two_processes_share_one_cap(fake, books, spawn, provider):
    fake.latency = 0.05
    procs = [spawn(SHARED_CAP_CHILD, provider, "shared", n) for n in range(2)]
    assert all(p.wait(120) == 0 for p in procs)
    books.check(caps=(Decimal("0.9"),))
    assert pp.ledger().spent(budget="shared") <= Decimal("0.9")


# ----------------------------------------------------------------------------- how a cap is set
@pytest.mark.parametrize("value", ["$5", "nan", "inf", "-1", "five"])
def test_a_bad_daily_budget_is_an_error_at_client_creation_naming_the_setting(monkeypatch, value):
    monkeypatch.setenv("PROMPTPAINT_DAILY_BUDGET", value)
    with pytest.raises(pp.InvalidRequest, match="PROMPTPAINT_DAILY_BUDGET"):
        pp.Client("offline")


def test_a_bad_daily_budget_in_config_json_names_the_file(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "config.json").write_text('{"daily_budget": -3}')
    with pytest.raises(pp.InvalidRequest, match="daily_budget in .*config.json"):
        pp.Client("offline")


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), "$5", True])
def test_a_bad_budget_is_an_error_naming_it(value):
    with pytest.raises(pp.InvalidRequest, match="budget"):
        pp.Client("offline", budget=value)


def test_cli_budget_minus_one_is_a_clear_error(isolated_home):
    out = subprocess.run([sys.executable, "-m", "promptpaint", "generate", "a fox", "--provider",
                          "offline", "--budget", "-1"], capture_output=True, text=True)
    assert out.returncode == 2 and "--budget must be" in out.stderr and "Traceback" not in out.stderr


def test_a_teachers_cap_is_parsed_the_same_way(isolated_home):
    led = pp.ledger()
    led.set_budget("class", "2.50")
    assert led.budgets()[0]["limit"] == Decimal("2.5")
    for bad in ("$2", "nan", "-1"):
        with pytest.raises(pp.InvalidRequest, match="must be an amount of US dollars"):
            led.set_budget("class", bad)
