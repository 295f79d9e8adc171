"""Rehearsing a class's caps before a cent is spent: the offline stand-in with ``bill_like=MODEL``
books each call at that model's prices (its worst case for the same settings), marked as
practice, so the caps in the ledger refuse exactly where they would with the real model."""

from decimal import Decimal as D

import pytest

import promptpaint as pp
from promptpaint import pricing, registry
from promptpaint.clock import today
from promptpaint.providers import provider_class
from promptpaint.ledger import SQLiteLedger


def test_practice_calls_are_booked_at_the_models_prices_and_the_caps_bite(tmp_path, monkeypatch):
    led = SQLiteLedger(tmp_path / "class.sqlite3")
    led.set_budget("user:*", "0.50")
    monkeypatch.setenv("PROMPTPAINT_USER", "alice")
    client = pp.Client("offline", bill_like="gpt-image-2", ledger=led)
    model = registry.get("gpt-image-2")
    price = model.price_on(today())
    each = pricing.most(pricing.worst_usage(model, "a fox", {}, 0, provider=provider_class("openai")), price)
    results = [client.generate("a fox") for _ in range(2)]
    assert [r.cost for r in results] == [each, each] and each > D("0.2")
    with pytest.raises(pp.BudgetExceeded, match="alice's class allowance"):
        client.generate("a fox")
    rows = led.entries(10)
    assert len(rows) == 2 and all(r["price_version"].startswith("practice as gpt-image-2") for r in rows)
    assert all("practice" in r["error"] and r["provider"] == "offline" for r in rows)
    assert led.spent(user="alice") == 2 * each


def test_bill_like_is_checked_and_only_for_the_stand_in(monkeypatch):
    with pytest.raises(pp.InvalidRequest, match="model promptpaint has a price"):
        pp.Client("offline", bill_like="gpt-image-9")
    with pytest.raises(pp.InvalidRequest, match="offline stand-in"):
        pp.Client("openai", api_key="sk-test-0123456789abcdef", bill_like="gpt-image-2")
    monkeypatch.setenv("PROMPTPAINT_BILL_LIKE", "gemini-3.1-flash-image")
    assert pp.Client("offline").bill_like.id == "gemini-3.1-flash-image"
