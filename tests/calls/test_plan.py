"""The call pipeline as a seam (``promptpaint.plan``): what a gateway or a Sweep does with it,
checked against what the fake provider billed and what the ledger booked."""

from decimal import Decimal

import pytest

import promptpaint as pp
from fakes import OPENAI_KEY
from promptpaint.ledger import Cap
from promptpaint.plan import Budget, CallPlan, Request, reserve


def openai(fake, **kw):
    return pp.Client("openai", api_key=OPENAI_KEY, base_url=fake.openai_base, backoff=0.01, **kw)


def test_the_steps_one_by_one_book_what_the_provider_billed(fake):
    client = openai(fake, budget=1)
    plan = client.plan(Request("generate", "a fox", params={"quality": "low"}))
    assert plan.worst == client.estimate("a fox", quality="low") > 0
    assert fake.by_provider("openai") == []  # prepared: nothing sent, nothing held
    held = plan.reserve()
    assert pp.ledger().spent(budget=client.budget_id) == plan.worst
    answer = plan.send()
    result = plan.book(held, answer, plan.store(held, answer))
    assert result.image.size and result.cost == fake.bill_total("openai") > 0
    assert fake.by_provider("openai")[0].json["quality"] == "low"
    assert pp.ledger().spent(budget=client.budget_id) == result.cost  # the worst case gave way to the cost


def test_a_gateway_holds_the_worst_case_and_books_from_the_usage_it_read(fake):
    client = openai(fake, budget=1)
    plan = client.plan(Request("generate", "a heron"))
    held = plan.reserve()
    usage = pp.Usage(input_text_tokens=20, output_image_tokens=4160)  # as a gateway read it off the answer
    cost = held.settle_usage(usage, request_id="req-gw-1")
    row = pp.ledger().entries(1)[0]
    assert cost == pp.pricing.cost(usage, client.price_today()) > 0
    assert (row["cost"], row["request_id"], row["state"]) == (cost, "req-gw-1", "ok")
    assert pp.ledger().spent(budget=client.budget_id) == cost


def test_a_failure_that_may_have_been_billed_keeps_its_reservation(fake):
    client = openai(fake, budget=1)
    plan = client.plan(Request("generate", "a cat"))
    held = plan.reserve()
    held.fail(pp.ProviderError("cut off", maybe_billed=True))
    assert pp.ledger().spent(budget=client.budget_id) == plan.worst
    held2 = plan.reserve()
    held2.fail(pp.ProviderError("connection refused"))  # certainly never arrived: released to $0
    assert pp.ledger().spent(budget=client.budget_id) == plan.worst


def test_a_shared_budget_refuses_before_anything_is_sent(fake):
    client = openai(fake)
    worst = client.estimate("a fox")
    plan = client.plan(Request("generate", "a fox"), budget=Budget("shared-1", worst * 2))
    plan.reserve()
    plan.reserve()
    with pytest.raises(pp.BudgetExceeded):
        client.plan(Request("generate", "a fox"), budget=Budget("shared-1", worst * 2)).run()
    assert fake.by_provider("openai") == [] and pp.ledger().spent(budget="shared-1") == worst * 2


def test_reserve_holds_any_amount_for_any_attempt(fake):
    client = openai(fake)
    plan = CallPlan(client, Request("generate", "a fox"))
    day = [Cap("day", Decimal("0.3"))]
    held = reserve(client.ledger, plan.attempt, Decimal("0.25"), day, plan.price)
    assert pp.ledger().spent() == Decimal("0.25")
    with pytest.raises(pp.BudgetExceeded):
        reserve(client.ledger, plan.attempt, Decimal("0.25"), day, plan.price)
    held.release("not sent")
    assert pp.ledger().spent() == 0
    reserve(client.ledger, plan.attempt, Decimal("0.25"), day, plan.price)  # room again
    assert fake.by_provider("openai") == []


def test_a_bad_request_fails_before_any_reservation(fake):
    client = openai(fake, budget=1)
    with pytest.raises(pp.InvalidRequest, match="empty"):
        client.plan(Request("generate", "  "))
    with pytest.raises(pp.InvalidRequest):
        client.plan(Request("generate", "a fox", params={"quality": "ultra"}))
    assert pp.ledger().entries(5) == []
