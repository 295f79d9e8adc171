"""A class on one budget: users on every row, caps stored in the ledger, the teacher's report.

One suite, two backends: every test taking ``backend`` runs on SQLite (a file, as one person has
it) and on a real PostgreSQL (as a class shares it), and must see the same behaviour.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from decimal import Decimal

import pytest

import promptpaint as pp
from fakeserver import GEMINI_KEY
from promptpaint.ledger import Attempt, Cap
from pgserver import admin, pg_db, pg_server, tcp_url  # noqa: F401  (fixtures)

# gemini-3.1-flash-image in USD per 1M tokens (shared/reference/providers.md): the fake's bill is
# computed from the usage it answered with, not by promptpaint's own pricing.
GEMINI_31 = {"in": Decimal("0.50"), "out_text": Decimal("3.00"), "out_image": Decimal("60.00")}


def fake_bill(req) -> Decimal:
    u = req.response_json["usageMetadata"]
    image = sum(d["tokenCount"] for d in u.get("candidatesTokensDetails", []) if d["modality"] == "IMAGE")
    text = u.get("candidatesTokenCount", 0) - image + u.get("thoughtsTokenCount", 0)
    return (u["promptTokenCount"] * GEMINI_31["in"] + text * GEMINI_31["out_text"]
            + image * GEMINI_31["out_image"]) / 1_000_000


def answered(fake) -> list:
    return [r for r in fake.by_provider("gemini") if r.status == 200 and r.response_json]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, isolated_home, monkeypatch):
    """What PROMPTPAINT_LEDGER names for this test: a SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        where = str(isolated_home / "class.sqlite3")
    else:
        url, _ = request.getfixturevalue("pg_db")
        from promptpaint.ledger.postgres import PostgresLedger

        PostgresLedger(url, check=False).init()  # the teacher's `promptpaint ledger init URL`
        where = url
    monkeypatch.setenv("PROMPTPAINT_LEDGER", where)
    monkeypatch.setenv("PROMPTPAINT_USER", "alice")
    return where


def attempt(user=None, **kw) -> Attempt:
    a = Attempt("gemini", "gemini-3.1-flash-image", "generate", "a fox", {}, None, **kw)
    if user:
        a.user = user
    return a


D = Decimal


# -- who is calling --------------------------------------------------------------------------------

def test_every_row_records_the_user_from_the_environment(backend, monkeypatch):
    led = pp.ledger()
    led.settle(led.reserve(attempt(), D("0.1"), []), status="ok", cost=D("0.05"))
    monkeypatch.delenv("PROMPTPAINT_USER")
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    led.settle(led.reserve(attempt(), D("0.1"), []), status="ok", cost=D("0.05"))
    monkeypatch.delenv("JUPYTERHUB_USER")
    led.settle(led.reserve(attempt(), D("0.1"), []), status="ok", cost=D("0.05"))
    import getpass

    assert [r["user"] for r in reversed(led.entries(3))] == ["alice", "bob", getpass.getuser()]


# -- caps stored in the ledger ---------------------------------------------------------------------

def test_budgets_are_set_listed_replaced_and_removed(backend):
    led = pp.ledger()
    led.set_budget("user:alice", "2.00")
    led.set_budget("user:*", 1)
    led.set_budget("class", D("200"), per="day")
    led.set_budget("user:alice", "2.50")
    got = [(b["scope"], b["per"], b["limit"]) for b in led.budgets()]
    assert got == [("class", "day", D(200)), ("user:*", None, D(1)), ("user:alice", None, D("2.5"))]
    led.set_budget("user:*", None)
    assert [b["scope"] for b in led.budgets()] == ["class", "user:alice"]


@pytest.mark.parametrize("scope, limit, per, match", [
    ("students", 1, None, "scope"), ("user:", 1, None, "scope"), ("class", -1, None, "0 or more"),
    ("class", "nan", None, "dollars"), ("class", "two", None, "dollars"), ("class", 1, "week", "per='day'"),
])
def test_a_bad_budget_says_what_to_write(backend, scope, limit, per, match):
    with pytest.raises(pp.InvalidRequest, match=match):
        pp.ledger().set_budget(scope, limit, per=per)
    assert pp.ledger().budgets() == []


def test_a_users_cap_holds_and_leaves_others_alone(backend):
    led = pp.ledger()
    led.set_budget("user:alice", "0.25")
    led.settle(led.reserve(attempt(), D("0.10"), []), status="ok", cost=D("0.10"))
    running = led.reserve(attempt(), D("0.10"), [])  # alice: 0.10 spent + 0.10 running
    with pytest.raises(pp.BudgetExceeded, match="alice's class allowance of \\$0.25") as exc:
        led.reserve(attempt(), D("0.10"), [])
    assert exc.value.spent == D("0.2") and exc.value.needed == D("0.1")
    led.reserve(attempt("bob"), D("0.10"), [])  # bob has no cap
    led.settle(running, status="ok", cost=D("0.01"))
    led.reserve(attempt(), D("0.10"), [])  # the settled call freed its unused reservation


def test_the_default_cap_applies_to_each_user_without_one_of_their_own(backend):
    led = pp.ledger()
    led.set_budget("user:*", "0.15")
    led.set_budget("user:carol", "1.00")
    for user in ("alice", "bob"):
        led.reserve(attempt(user), D("0.10"), [])
        with pytest.raises(pp.BudgetExceeded, match=f"{user}'s class allowance"):
            led.reserve(attempt(user), D("0.10"), [])
    for _ in range(5):
        led.reserve(attempt("carol"), D("0.10"), [])


def test_the_class_cap_spans_users_and_day_caps_count_only_today(backend):
    led = pp.ledger()
    led.set_budget("class", "0.35")
    led.set_budget("user:*", "0.25", per="day")
    for user in ("alice", "bob", "carol"):
        led.reserve(attempt(user), D("0.10"), [])
    with pytest.raises(pp.BudgetExceeded, match="the class's budget"):
        led.reserve(attempt("dave"), D("0.10"), [])
    led.set_budget("class", None)
    led.reserve(attempt("alice"), D("0.10"), [])
    with pytest.raises(pp.BudgetExceeded, match="alice's daily class allowance"):
        led.reserve(attempt("alice"), D("0.10"), [])


def test_client_caps_still_apply_with_ledger_caps(backend):
    led = pp.ledger()
    led.set_budget("user:alice", "5")
    led.reserve(attempt(budget="studio-1"), D("0.10"), [Cap("studio-1", D("0.15"))])
    with pytest.raises(pp.BudgetExceeded, match="this budget"):
        led.reserve(attempt(budget="studio-1"), D("0.10"), [Cap("studio-1", D("0.15"))])
    with pytest.raises(pp.BudgetExceeded, match="today's budget"):
        led.reserve(attempt(), D("0.10"), [Cap("day", D("0.15"))])


def test_unknown_cost_and_interrupted_calls_keep_counting(backend):
    led = pp.ledger()
    led.set_budget("class", "0.30")
    led.settle(led.reserve(attempt(), D("0.10"), []), status="ok", cost=None)  # cost unknown
    led.reserve(attempt("bob"), D("0.10"), [])  # never settled: a kernel that died
    led.settle(led.reserve(attempt(), D("0.10"), []), status="error", cost=D(0), error="refused at once")
    led.reserve(attempt("carol"), D("0.10"), [])
    with pytest.raises(pp.BudgetExceeded, match="\\$0.0000 left"):
        led.reserve(attempt("dave"), D("0.01"), [])


def test_a_settled_row_is_not_settled_again(backend):
    led = pp.ledger()
    row = led.reserve(attempt(), D("0.10"), [])
    led.settle(row, status="ok", cost=D("0.04"))
    led.settle(row, status="ok", cost=D("0"))
    assert led.entries(1)[0]["cost"] == D("0.04")


def test_totals_by_user_is_the_teachers_report(backend):
    led = pp.ledger()
    led.set_budget("user:*", "1.00")
    led.set_budget("user:bob", "0.60")
    led.set_budget("user:erin", "3")
    led.settle(led.reserve(attempt(), D("0.10"), []), status="ok", cost=D("0.04"))
    led.settle(led.reserve(attempt(), D("0.10"), []), status="ok", cost=None)
    led.settle(led.reserve(attempt("bob"), D("0.20"), []), status="ok", cost=D("0.15"))
    led.reserve(attempt("bob"), D("0.20"), [])
    led.settle(led.reserve(attempt("bob"), D("0.20"), []), status="error", cost=D(0), error="x")
    rows = {r["user"]: r for r in led.totals(by="user")}
    assert rows["alice"] == {"user": "alice", "calls": 2, "cost": D("0.04"), "unknown_cost_calls": 1,
                             "reserved": D("0.1"), "cap": D(1), "left": D("0.86")}
    assert rows["bob"] == {"user": "bob", "calls": 2, "cost": D("0.15"), "unknown_cost_calls": 0,
                           "reserved": D("0.2"), "cap": D("0.6"), "left": D("0.25")}
    assert rows["erin"]["calls"] == 0 and rows["erin"]["left"] == D(3)
    assert led.totals(by="user", day="2001-01-01") == []  # no calls then, and no daily caps
    import datetime as dt

    today = {r["user"]: r["calls"] for r in led.totals(by="user", day=dt.datetime.now(dt.timezone.utc).date())}
    assert today == {"alice": 2, "bob": 2}  # erin has no daily cap to list her by


# -- through a Client, against the fake provider -----------------------------------------------------

def test_a_client_is_held_to_the_ledgers_caps(backend, fake):
    led = pp.ledger()
    client = pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base, backoff=0.01)
    led.set_budget("user:alice", client.estimate("fox 1") * D("1.5"))
    r = client.generate("fox 1")
    with pytest.raises(pp.BudgetExceeded, match="alice's class allowance"):
        client.generate("fox 2")
    assert len(answered(fake)) == 1
    assert led.totals(by="user")[0]["cost"] == r.cost == fake_bill(answered(fake)[0])
