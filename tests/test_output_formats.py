"""gpt-image-2.6 on the fake: complexity's planning tokens, GIF and SVG output, each booked exactly
at the fake's bill and never above what was reserved."""

from decimal import Decimal

import pytest

import promptpaint as pp
from fakes.openai import OPENAI_PLANNING_TOKENS

M = 1_000_000


def booked(fake):
    row = pp.ledger().entries(1)[0]
    return row, fake.billed[-1]


@pytest.mark.parametrize("complexity", [None, "low", "medium", "high"])
def test_complexity_is_billed_as_planning_tokens_and_booked_exactly(complexity, fake, openai_client, day):
    day("2026-12-03")
    c = openai_client(model="gpt-image-2.6-sunburst", budget=2)
    r = c.generate("a fox", complexity=complexity, quality="low", size="1024x1024", n=2)
    planning = OPENAI_PLANNING_TOKENS[complexity or "high"] * 2  # unset: the documented default, high
    row, bill = booked(fake)
    assert bill.usage["output_tokens_details"] == {"image_tokens": 2 * 200, "text_tokens": planning}
    assert r.usage.output_text_tokens == planning
    assert r.cost == row["cost"] == bill.cost <= row["reserved"]
    text_in = bill.usage["input_tokens"]
    assert bill.cost == (Decimal(text_in) * 5 + Decimal(planning) * 10 + Decimal(400) * 30) / M


def test_complexity_at_its_worst_stays_under_the_reservation(fake, openai_client, day):
    day("2026-12-03")
    fake.worst_case = True
    fake.planning_tokens = {"high": 8192}  # the registry's ceiling, billed in full
    c = openai_client(model="gpt-image-2.6-flare", budget=2)
    r = c.generate("a fox", quality="high", size="1536x1024")
    row, bill = booked(fake)
    assert r.cost == bill.cost == row["cost"] <= row["reserved"]


def test_models_before_2_6_are_refused_complexity_by_the_fake_too(fake):
    import requests
    from fakes.openai import OPENAI_KEY

    resp = requests.post(f"{fake.openai_base}/images/generations", headers={"Authorization": f"Bearer {OPENAI_KEY}"},
                         json={"model": "gpt-image-2", "prompt": "a fox", "complexity": "low"}, timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "complexity"
