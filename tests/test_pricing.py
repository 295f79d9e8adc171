from decimal import Decimal

from promptpaint import registry
from promptpaint.pricing import Usage, cost


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
