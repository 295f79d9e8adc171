"""A class's caps held against the fake provider: a Client's calls and quotes, and many student
kernels at once (one process each), one killed mid-call. Every test runs on SQLite and on
PostgreSQL (``backend``); the fake's bill is the judge of what the ledger booked."""

from __future__ import annotations

import multiprocessing
import os
import signal
from decimal import Decimal

import pytest

import classkernel
import promptpaint as pp
from fakes import GEMINI_KEY
from ledgerkit import attempt

D = Decimal


def answered(fake) -> list:
    return [r for r in fake.by_provider("gemini") if r.status == 200 and r.response_json]


def bills_by_user(fake) -> dict:
    """What the fake provider billed (its own record), by the user named first in each prompt."""
    user = {r.response_json["responseId"]: user_of(r) for r in answered(fake)}
    out: dict[str, Decimal] = {}
    for bill in fake.billed:
        out[user[bill.request_id]] = out.get(user[bill.request_id], Decimal(0)) + bill.cost
    return out


def user_of(req) -> str:
    return req.json["contents"][-1]["parts"][0]["text"].split()[0]



# -- through a Client, against the fake provider -----------------------------------------------------

def test_a_client_is_held_to_the_ledgers_caps(backend, fake):
    led = pp.ledger()
    client = pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base, backoff=0.01)
    cap = client.estimate("alice fox 10") * D("1.5")
    led.set_budget("user:alice", cap)
    with pytest.raises(pp.BudgetExceeded, match="alice's class allowance"):
        for i in range(10, 40):
            client.generate(f"alice fox {i}")
    assert 1 <= len(answered(fake)) < 30
    assert fake.bill_total() <= cap
    assert led.totals(by="user")[0]["cost"] == fake.bill_total() == led.total()


def test_a_quote_says_what_the_ledgers_caps_would_say_booking_nothing(backend, fake):
    led = pp.ledger()
    client = pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base, backoff=0.01)
    most = client.estimate("alice fox")
    led.set_budget("user:alice", most * D("1.5"))
    q = client.quote("alice fox")
    assert q.most == most and q.left == most * D("1.5") and not q.refused
    client.generate("alice fox")
    q = client.quote("alice fox")
    assert q.left == most * D("1.5") - led.total() and q.refused and "alice's class allowance" in q.refusal
    with pytest.raises(pp.BudgetExceeded) as caught:
        client.generate("alice fox")
    assert caught.value.message in q.refusal and len(led.entries(10)) == 1  # refused: no row


# -- a real class: many kernels, many users, one server -------------------------------------------

def kernels(backend, fake, users, *, threads=1, calls=1):
    """Student kernels, one process per user named, each making ``calls`` calls on ``threads``
    threads; their outcomes ("refused" or the cost) arrive on the returned queue."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["classkernel", "promptpaint", "psycopg"])
    results = ctx.Queue()
    home = os.environ["PROMPTPAINT_HOME"]
    procs = [ctx.Process(target=classkernel.run, args=(backend, home, user, fake.gemini_base, GEMINI_KEY,
                                                       threads, calls, results)) for user in users]
    for p in procs:
        p.start()
    return procs, results


def test_sixteen_kernels_of_four_users_never_pass_a_cap_and_book_what_was_billed(backend, fake):
    led = pp.ledger()
    worst = pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base).estimate("alice fox 0-0-0")
    user_cap, class_cap = worst * D("3.5"), worst * D("8.5")
    users = ["ann", "ben", "cai", "dee"]
    for u in users:
        led.set_budget(f"user:{u}", user_cap)
    led.set_budget("class", class_cap)
    fake.latency = 0.4  # long enough that many reservations are open at once
    procs, results = kernels(backend, fake, [users[i % 4] for i in range(16)], threads=4, calls=2)
    outcomes = [o for _ in procs for o in results.get(timeout=300)]
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)

    bills = {u: bills_by_user(fake).get(u, D(0)) for u in users}
    assert sum(bills.values()) <= class_cap
    assert all(bill <= user_cap for bill in bills.values()), bills
    # Every answered call is booked at what the fake billed, under the user who made it.
    assert abs(led.total() - sum(bills.values())) < D("1e-6")
    report = {r["user"]: r for r in led.totals(by="user")}
    assert {u: report[u]["cost"] for u in users} == {u: bills[u] for u in users}
    assert all(report[u]["reserved"] == 0 for u in users)  # nothing left open
    assert len(answered(fake)) == sum(o != "refused" for o in outcomes) >= 8
    assert outcomes.count("refused") >= 64  # the caps did bind
    # The fake was slow enough that calls overlapped: at least two ran at the same time.
    spans = sorted((dt_ts(r["ts"]), dt_ts(r["ts"]) + r["duration"]) for r in led.entries(500)
                   if r["status"] == "ok")
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


def dt_ts(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()


def test_a_kernel_killed_mid_call_keeps_its_reservation_counting(backend, fake):
    led = pp.ledger()
    worst = pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base).estimate("amy fox 0-0-0")
    led.set_budget("user:amy", worst * D("1.5"))
    led.set_budget("class", worst * D("1.5"))
    fake.latency = 60
    (proc,), _ = kernels(backend, fake, ["amy"])
    fake.wait_for_requests(1, "gemini", timeout=60)  # the kernel reached the provider
    assert led.entries(1)[0]["state"] == "in flight"  # its kernel is alive: not yet interrupted
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    fake.latency = 0

    row = led.entries(1)[0]
    assert row["state"] == "interrupted" and row["reserved"] > worst * D("0.9")
    amy = led.totals(by="user")[0]
    assert (amy["user"], amy["reserved"], amy["cost"]) == ("amy", row["reserved"], 0)
    assert led.spent(user="amy") == row["reserved"]  # no expiry: it may have been billed
    s = led.summary()
    assert (s.interrupted_calls, s.interrupted_reserved) == (1, row["reserved"]) and "interrupted" in str(s)
    for who, cap in (("amy", "amy's class allowance"), ("bo", "the class's budget")):
        _, results = kernels(backend, fake, [who])
        assert results.get(timeout=60) == ["refused"], cap
    with pytest.raises(pp.BudgetExceeded, match="the class's budget"):
        led.reserve(attempt("bo"), row["reserved"], [])
    assert len(fake.by_provider("gemini")) == 1
    led.reconcile(row["id"], cost=D("0.02"))  # the teacher checked the provider's dashboard
    assert led.spent(user="amy") == D("0.02") and led.summary().interrupted_calls == 0
