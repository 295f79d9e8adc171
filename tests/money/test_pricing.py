"""Prices and amounts: the price table, cost arithmetic from usage counts, the worst case a
setting can bill computed from the table, and the one way a dollar amount is written and read.

Whether the fake provider's bills stay under those worst cases is test_budget's and test_bounds'.
"""

import datetime as dt
import inspect
from decimal import Decimal

import pytest

import promptpaint as pp
from helpers import client_on
from promptpaint import money, pricing, registry
from promptpaint.ledger import NANO as ledger_nano, dollars
from promptpaint.pricing import NANO as pricing_nano, Usage, cost
from promptpaint.providers import gemini as gemini_provider, openai as openai_provider
from promptpaint.providers import provider_class
from promptpaint.providers.gemini.provider import GeminiProvider


def test_openai_cost_by_modality_to_the_microdollar():
    price = registry.get("gpt-image-2").prices[0]
    u = Usage(input_text_tokens=17, input_image_tokens=323, output_image_tokens=1056)
    # 17*5 + 323*8 + 1056*30 = 85 + 2584 + 31680 = 34349 per 1M
    assert cost(u, price) == Decimal("0.034349")


def test_gemini_cost_counts_image_output_and_thinking():
    price = registry.get("gemini-3.1-flash-image").prices[0]
    u = Usage(input_text_tokens=11, input_image_tokens=560, output_text_tokens=9,
              output_image_tokens=1120, thinking_tokens=100)
    # 11*0.5 + 560*0.5 + (9+100)*3 + 1120*60 = 5.5 + 280 + 327 + 67200 = 67812.5 per 1M
    assert cost(u, price) == Decimal("0.0678125")


def test_unknown_price_is_none_not_zero():
    assert cost(Usage(output_image_tokens=10), None) is None


# ----------------------------------------------------------------------------- today's prices


@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare"])
def test_gpt_image_2_text_out_is_ten_dollars_not_thirty(model):
    price = registry.get(model).price_on(dt.date(2026, 11, 25))
    assert cost(Usage(output_text_tokens=1_000_000), price) == Decimal("10")


@pytest.mark.parametrize("model", ["gpt-image-2.6-sunburst", "gpt-image-2.6-flare"])
def test_gpt_image_2_6_is_priced_from_its_release(model):
    m = registry.get(model)
    assert m.price_on(dt.date(2026, 11, 3)) is None
    p = m.price_on(dt.date(2026, 11, 4))
    assert (p.input_text, p.cached_input_text, p.input_image, p.cached_input_image, p.output_image) == (
        5, Decimal("1.25"), 8, 2, 30)
    assert "treat" in p.source.lower() or "until" in p.source.lower()  # text out 10 is our assumption, said so


def test_openai_cached_tokens_bill_at_the_cached_rate():
    u = openai_provider.parse_usage({
        "input_tokens": 1100, "output_tokens": 7033,
        "input_tokens_details": {"text_tokens": 100, "image_tokens": 1000, "cached_tokens": 600,
                                 "cached_tokens_details": {"text_tokens": 60, "image_tokens": 540}},
    }, 1)
    price = registry.get("gpt-image-2").prices[0]
    # 40*5 + 60*1.25 + 460*8 + 540*2 + 7033*30 = 200 + 75 + 3680 + 1080 + 210990 per 1M
    assert cost(u, price) == Decimal("0.216025")


def test_openai_cached_tokens_without_a_split_take_the_smaller_discount():
    u = openai_provider.parse_usage({"input_tokens": 1100, "output_tokens": 0, "input_tokens_details": {
        "text_tokens": 100, "image_tokens": 1000, "cached_tokens": 300}}, 1)
    assert (u.cached_input_text_tokens, u.cached_input_image_tokens) == (100, 200)


def test_gemini_unitemised_candidates_and_tool_use_are_billed():
    u = gemini_provider.parse_usage({
        "promptTokenCount": 20, "candidatesTokenCount": 1200, "thoughtsTokenCount": 900,
        "toolUsePromptTokenCount": 50,
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1120}],
    }, True, 0)
    assert (u.output_text_tokens, u.output_image_tokens, u.tool_use_tokens) == (80, 1120, 50)
    price = registry.get("gemini-3.1-flash-image").prices[0]
    # (20+50)*0.5 + (80+900)*3 + 1120*60 = 35 + 2940 + 67200
    assert cost(u, price) == Decimal("0.070175")


@pytest.mark.parametrize("value, expected", [(7033, 7033), (7032.2, Decimal("7032.2")), ("7033", 7033),
                                             ("7032.5", Decimal("7032.5")), (7033.0, 7033)])
def test_usage_counts_keep_fractions_as_reported_and_strings_are_read(value, expected):
    assert pricing.tokens({"n": value}, "n") == expected


@pytest.mark.parametrize("value", [None, -1, -0.5, "-3", "lots", 10**12, float("nan"), float("inf"), True, [1]])
def test_usage_that_cannot_be_a_count_is_untrusted(value):
    with pytest.raises(pricing.UntrustedUsage):
        pricing.tokens({"n": value}, "n")


# ----------------------------------------------------------------------------- worst cases
def est(model, prompt="a fox", **params):
    m = registry.get(model)
    return pricing.estimate(m, m.price_on(dt.date(2026, 11, 25)), prompt, params,
                            provider=provider_class(m.provider))


@pytest.mark.parametrize("model, params, billed", [
    ("gpt-image-2", {"quality": "high", "size": "1024x1024"}, "0.211"),
    ("gpt-image-2", {"quality": "auto", "size": "1024x1024"}, "0.211"),   # auto may pick high
    ("gpt-image-2", {}, "0.211"),                                          # size and quality auto
    ("gpt-image-2", {"quality": "high", "size": "1536x1024"}, "0.165"),
    ("gpt-image-1-mini", {"quality": "low", "size": "1024x1024"}, "0.005"),
    ("gpt-image-1-mini", {"quality": "high", "size": "1024x1536"}, "0.052"),
    ("gpt-image-1.5", {"quality": "high", "size": "1024x1024"}, "0.133"),
])
def test_openai_reservations_cover_the_published_per_image_price(model, params, billed):
    assert est(model, **params) >= Decimal(billed)


def test_custom_sizes_scale_by_pixels_rounded_up():
    assert est("gpt-image-2", quality="high", size="2048x2048") >= 4 * Decimal("0.211")


def test_gemini_reservation_covers_every_image_its_output_cap_allows():
    # The call carries maxOutputTokens = 1120 (a 1K image) + 2048 (thinking headroom) = 3168: at
    # most two whole images at $60, the rest thinking/text at $3.
    m = registry.get("gemini-3.1-flash-image")
    assert GeminiProvider.bound_params(m, {})["max_output_tokens"] == 3168
    assert est("gemini-3.1-flash-image", max_output_tokens=3168) >= Decimal(2 * 1120 * 60 + (3168 - 2240) * 3) / 1_000_000
    # a request sent without a cap (a gateway forwarding a body as is) is bounded by the model's own
    assert est("gemini-3.1-flash-image") >= Decimal(29 * 1120 * 60 + (32768 - 29 * 1120) * 3) / 1_000_000


def test_a_users_max_output_tokens_is_the_bound_the_provider_enforces():
    assert est("gemini-3.1-flash-image", max_output_tokens=1000) < Decimal(1000 * 3 + 200) / 1_000_000
    assert est("gemini-3.1-flash-image", max_output_tokens=11200) >= Decimal(10 * 1120 * 60) / 1_000_000


def test_openai_reservations_cover_text_output_at_its_ceiling_from_the_registry():
    m = registry.get("gpt-image-2")
    bound = m.worst_case["text_output_tokens_per_image"]
    assert bound > 0 and "text_output_source" in m.worst_case
    one, two = est("gpt-image-2", quality="low", size="1024x1024"), est("gpt-image-2", quality="low",
                                                                         size="1024x1024", n=2)
    assert one >= Decimal(200 * 30 + bound * 10) / 1_000_000
    assert two - one >= Decimal(200 * 30 + bound * 10) / 1_000_000


def test_worst_usage_asks_the_provider_it_is_given_and_never_imports_one():
    m = registry.get("gpt-image-2")
    with pytest.raises(TypeError, match="provider="):
        pricing.worst_usage(m, "x", {"quality": "low"})
    assert "providers" not in inspect.getsource(pricing).split("def worst_usage")[0]


def test_prompt_tokens_count_utf8_bytes_not_characters():
    latin, cjk = est("gemini-3-pro-image", "a" * 3000), est("gemini-3-pro-image", "猫" * 3000)
    assert cjk - latin == Decimal(6000 * 2) / 1_000_000  # 2 more bytes a character, $2 per 1M


@pytest.mark.parametrize("quality", ["xhigh", "max"])
def test_settings_without_a_published_bound_have_no_estimate(quality):
    assert est("gpt-image-2.5-sunburst", quality=quality) is None
    with pytest.raises(pricing.Unbounded, match=quality):
        pricing.worst_usage(registry.get("gpt-image-2.5-sunburst"), "x", {"quality": quality},
                            provider=provider_class("openai"))


def test_gpt_image_2_high_reserves_at_most_ten_percent_above_its_published_price():
    # The text-output ceiling is ours (no published cap): it must not make the dearest common call
    # hold back more than 10 % over its bill ($0.211 per 1024x1024 high image).
    assert est("gpt-image-2", "a fox in snow", quality="high", size="1024x1024") <= Decimal("0.211") * Decimal("1.1")


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
    assert money.format(amount) == shown


def test_dollars_from_the_ledger_show_themselves_in_the_same_words():
    assert repr(money.usd(67_801_000)) == "$0.067801" == dollars(money.usd(67_801_000))
    assert money.usd(None) is None and money.nanos(None) is None
    assert money.nanos(Decimal("0.211")) == 211_000_000 and money.usd(211_000_000) == Decimal("0.211")
    assert ledger_nano is pricing_nano is money.NANO  # written once


def test_amounts_print_as_dollars_not_decimal_reprs(fake):
    r = client_on(fake, "gemini").generate("a fox")
    led = pp.ledger()
    for shown in (repr(led.total()), repr(led.spent()), repr(led.entries(1)), repr(r.cost), repr(led.summary())):
        assert "Decimal(" not in shown and "$0.0" in shown
    assert led.total() == r.cost == fake.bill_total()  # still Decimals for arithmetic


@pytest.mark.parametrize("value, amount", [(5, Decimal(5)), ("0.50", Decimal("0.50")), (" 2 ", Decimal(2)),
                                           (0.1, Decimal("0.1")), (Decimal("0"), Decimal(0))])
def test_one_parse_reads_the_amounts_people_write(value, amount):
    assert money.parse(value, "budget=") == amount


@pytest.mark.parametrize("value", ["$5", "nan", "inf", "-1", "five", "", None, True, [1]])
def test_one_parse_refuses_the_rest_naming_the_setting(value):
    with pytest.raises(pp.InvalidRequest, match="^daily_budget must be an amount") as exc:
        money.parse(value, "daily_budget")
    assert exc.value.param == "daily_budget" and isinstance(exc.value, ValueError)
    if value == "$5":
        assert "Write the number alone: 5." in str(exc.value)
