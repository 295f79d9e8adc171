"""Client money paths: what is reserved, what is booked when things go wrong, who shares a cap."""

import base64
import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from fakes import OPENAI_KEY
from helpers import client_on
from promptpaint.client import LedgerWarning
from promptpaint.ledger import LedgerError


def png(w=8, h=8):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


# ----------------------------------------------------------------------------- no known bound
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


# ----------------------------------------------------------------------------- usage we cannot trust
@pytest.mark.parametrize("bad", [None, -7033, 10**13, "lots", [1]])
def test_untrustworthy_usage_keeps_the_image_and_books_unknown_at_the_reservation(fake, bad):
    body = {"created": 1, "data": [{"b64_json": base64.b64encode(png(9, 7)).decode()}],
            "usage": {"input_tokens": 20, "output_tokens": bad,
                      "input_tokens_details": {"text_tokens": 20, "image_tokens": 0}}}
    fake.fault("openai", "status", code=200, body=body)
    c = client_on(fake, "openai", budget=1)
    with pytest.warns(pp.UnknownPriceWarning, match="unknown"):
        r = c.generate("a fox")
    assert r.image.size == (9, 7) and r.cost is None
    row = pp.ledger().entries(1)[0]
    assert row["cost"] is None and row["state"] == "unknown cost"
    assert pp.ledger().spent(budget=row["budget"]) == row["reserved"] >= Decimal("0.211")


def test_a_negative_usage_never_credits_a_cap(fake):
    body = {"created": 1, "data": [{"b64_json": base64.b64encode(png()).decode()}],
            "usage": {"input_tokens": -10**6, "output_tokens": -10**6}}
    c = client_on(fake, "openai", budget=0.5)
    for _ in range(2):
        fake.fault("openai", "status", code=200, body=body)
        with pytest.warns(pp.UnknownPriceWarning):
            c.generate("a fox")
    with pytest.raises(pp.BudgetExceeded):  # 2 x $0.211 held in $0.50: no third call
        c.generate("a fox")
    assert pp.ledger().spent() > 0 and pp.ledger().total() == 0


# ----------------------------------------------------------------------------- maybe billed
class Boom(pp.ProviderError):
    pass


@pytest.mark.parametrize("maybe_billed", [True, False])
def test_a_failure_is_released_only_when_nothing_reached_the_provider(fake, monkeypatch, maybe_billed):
    c = client_on(fake, "gemini", budget=1)

    def send(*a, **k):
        exc = Boom("the answer was cut off")
        exc.maybe_billed = maybe_billed
        raise exc

    monkeypatch.setattr(c._provider, "send", send)
    with pytest.raises(Boom):
        c.generate("a fox")
    row = pp.ledger().entries(1)[0]
    if maybe_billed:
        assert row["cost"] is None and "may have been billed" in row["error"]
        assert pp.ledger().spent(budget=row["budget"]) == row["reserved"] > 0
    else:
        assert row["cost"] == 0 and pp.ledger().spent() == 0


def test_an_unexpected_exception_mid_call_counts_as_maybe_billed(fake, monkeypatch):
    c = client_on(fake, "gemini")
    monkeypatch.setattr(c._provider, "send", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        c.generate("a fox")
    assert pp.ledger().entries(1)[0]["cost"] is None and pp.ledger().spent() > 0


def test_a_ledger_that_fails_after_the_answer_keeps_the_reservation_and_the_image(fake):
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
    row = pp.ledger().entries(1)[0]
    assert row["status"] == "reserved" and pp.ledger().spent() == row["reserved"] > 0


# ----------------------------------------------------------------------------- one cap, many clients
def test_clients_with_one_budget_id_share_one_cap(fake):
    a = client_on(fake, "gemini", budget=0.5, budget_id="studio-1")
    b = client_on(fake, "gemini", model="gemini-3-pro-image", budget=0.5, budget_id="studio-1")
    a.generate("a fox")
    with pytest.raises(pp.BudgetExceeded, match="this budget"):
        b.generate("a fox")  # pro reserves ~$0.51; the first call's cost already counts
    assert pp.ledger().spent(budget="studio-1") == pp.ledger().total()


# ----------------------------------------------------------------------------- bad settings
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


# ----------------------------------------------------------------------------- shown as dollars
def test_unknown_cost_is_shown_as_unknown_with_what_it_holds(fake):
    fake.fault("openai", "odd_usage", kind="null")
    with pytest.warns(pp.UnknownPriceWarning):
        r = client_on(fake, "openai", budget=1).generate("a fox")
    assert r.cost is None and r.reserved >= Decimal("0.211")
    assert "cost unknown (up to $0.231335 counted against budgets)" in repr(r)


def test_amounts_print_as_dollars_not_decimal_reprs(fake):
    r = client_on(fake, "gemini").generate("a fox")
    led = pp.ledger()
    for shown in (repr(led.total()), repr(led.spent()), repr(led.entries(1)), repr(r.cost), repr(led.summary())):
        assert "Decimal(" not in shown and "$0.0" in shown
    assert led.total() == r.cost == fake.bill_total()  # still Decimals for arithmetic


def test_cached_tokens_tool_use_and_unitemised_output_are_booked_as_billed(fake):
    fake.openai_cached_tokens = 8
    r = client_on(fake, "openai").generate("a red fox in snow, with cached prompt tokens")
    assert r.usage.cached_input_text_tokens == 8 and r.cost == fake.bill_total()
    fake.reset()
    fake.gemini_tool_use_tokens, fake.gemini_unitemised_tokens = 50, 30
    r = client_on(fake, "gemini").generate("a fox")
    assert r.usage.tool_use_tokens == 50 and r.usage.output_text_tokens == 9 + 30
    assert r.cost == fake.bill_total()


# ----------------------------------------------------------------------------- one text, one parse
@pytest.mark.parametrize("amount, shown", [
    (None, "unknown"),
    (Decimal("0.0678"), "$0.0678"),
    (Decimal("0.3"), "$0.30"),
    (Decimal("3"), "$3.00"),
    (0, "$0.00"),
    (Decimal("0E-9"), "$0.00"),
    (Decimal("0.00606000"), "$0.00606"),
    (Decimal("0.0672325"), "$0.067233"),      # half-up at the micro-dollar
    (Decimal("0.0672324999"), "$0.067232"),
    (Decimal("0.0000005"), "$0.000001"),
    (Decimal("0.000000499"), "$0.00"),
    (Decimal("1234.5"), "$1234.50"),
    (0.1, "$0.10"),                           # a float reads as it prints, not as its binary value
    (Decimal("-0.25"), "-$0.25"),
])
def test_every_dollar_figure_reads_one_way(amount, shown):
    from promptpaint import money

    assert money.format(amount) == shown


def test_dollars_from_the_ledger_show_themselves_in_the_same_words():
    from promptpaint import money
    from promptpaint.ledger import dollars

    assert repr(money.usd(67_801_000)) == "$0.067801" == dollars(money.usd(67_801_000))
    assert money.usd(None) is None and money.nanos(None) is None
    assert money.nanos(Decimal("0.211")) == 211_000_000 and money.usd(211_000_000) == Decimal("0.211")
    from promptpaint.ledger import NANO as ledger_nano
    from promptpaint.pricing import NANO as pricing_nano

    assert ledger_nano is pricing_nano is money.NANO  # written once


@pytest.mark.parametrize("value, amount", [(5, Decimal(5)), ("0.50", Decimal("0.50")), (" 2 ", Decimal(2)),
                                           (0.1, Decimal("0.1")), (Decimal("0"), Decimal(0))])
def test_one_parse_reads_the_amounts_people_write(value, amount):
    from promptpaint import money

    assert money.parse(value, "budget=") == amount


@pytest.mark.parametrize("value", ["$5", "nan", "inf", "-1", "five", "", None, True, [1]])
def test_one_parse_refuses_the_rest_naming_the_setting(value):
    from promptpaint import money

    with pytest.raises(pp.InvalidRequest, match="^daily_budget must be an amount") as exc:
        money.parse(value, "daily_budget")
    assert exc.value.param == "daily_budget" and isinstance(exc.value, ValueError)
    if value == "$5":
        assert "Write the number alone: 5." in str(exc.value)


def test_a_teachers_cap_is_parsed_the_same_way(isolated_home):
    led = pp.ledger()
    led.set_budget("class", "2.50")
    assert led.budgets()[0]["limit"] == Decimal("2.5")
    for bad in ("$2", "nan", "-1"):
        with pytest.raises(pp.InvalidRequest, match="must be an amount of US dollars"):
            led.set_budget("class", bad)
