"""A class behind two gateway processes on one real PostgreSQL ledger, in front of the fake
providers: caps hold across both with 0 overshoot against the provider's own bill, tokens are
revoked at once, a student sees only their own calls, the keys appear nowhere, and a gateway
killed mid-call leaves a reservation that keeps counting."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import requests

from fakes import GEMINI_KEY, OPENAI_KEY
from gatewayproc import Gateway, new_token, promptpaint, teacher_env
from pgserver import pg_db, pg_ledger, pg_server  # noqa: F401  (fixtures)


@pytest.fixture
def klass(pg_ledger, fake, tmp_path):
    url, _ = pg_ledger
    env = teacher_env(fake, tmp_path / "teacher-home")
    gws = [Gateway(url, env, tmp_path / f"gateway-{i}.log") for i in range(2)]
    yield {"url": url, "env": env, "gws": gws}
    for gw in gws:
        gw.stop()


def owner(url):
    from promptpaint.ledger.postgres import PostgresLedger

    return PostgresLedger(url)


def settled_rows(url) -> list[dict]:
    led = owner(url)
    try:
        for _ in range(200):
            got = led.entries(10_000)
            if all(r["status"] != "reserved" for r in got):
                return got
            time.sleep(0.05)
        return got
    finally:
        led.close()


def generate(gw, token, prompt, **extra):
    return requests.post(f"{gw.url}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                         json={"model": "gpt-image-2", "prompt": prompt, "quality": "low", **extra}, timeout=60)


def test_sixteen_students_on_two_gateways_never_overshoot_their_caps_or_the_class(klass, fake):
    from promptpaint.gateway import tokens

    led = owner(klass["url"])
    led.set_budget("user:*", "0.05")
    led.set_budget("class", "0.30")  # less than the students' caps together: both kinds of cap bind
    students = [f"s{i:02d}" for i in range(16)]
    issued = {s: tokens.add(led, s) for s in students}
    led.close()
    outcomes: dict[str, list[int]] = {s: [] for s in students}
    refusals: list[str] = []

    def student(i, name):
        gw = klass["gws"][i % 2]  # half the class on each gateway
        for _ in range(40):
            r = generate(gw, issued[name], f"{name} draws a cat")
            outcomes[name].append(r.status_code)
            if r.status_code != 200:
                refusals.append(r.json()["error"]["message"])
                return

    threads = [threading.Thread(target=student, args=(i, s)) for i, s in enumerate(students)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(codes[-1] == 402 for codes in outcomes.values()), outcomes  # each stopped by a cap
    assert {c for codes in outcomes.values() for c in codes} == {200, 402}
    who = {q._request_id: q.json["prompt"].split()[0] for q in fake.by_provider("openai") if q.status == 200}
    billed: dict[str, Decimal] = {}
    for bill in fake.billed:
        billed[who[bill.request_id]] = billed.get(who[bill.request_id], Decimal(0)) + bill.cost
    assert max(billed.values()) <= Decimal("0.05")          # no student over user:*
    assert sum(billed.values()) <= Decimal("0.30")          # the class cap, across both gateways
    assert any("class's budget" in m for m in refusals)     # ... which stopped some students
    assert any("class allowance" in m for m in refusals) or len(billed) == 16
    rows = settled_rows(klass["url"])
    assert all(r["status"] == "ok" for r in rows)
    assert abs(sum(r["cost"] for r in rows) - fake.bill_total()) < Decimal("1e-6")


def test_a_revoked_token_is_refused_at_once_by_every_gateway(klass, fake):
    token = new_token(klass["url"], "alice", klass["env"], cli=True)
    assert generate(klass["gws"][0], token, "alice before").status_code == 200
    done = promptpaint("gateway", "token", "revoke", "alice", "--ledger", klass["url"], env=klass["env"])
    assert done.returncode == 0 and "1 token revoked" in done.stdout
    for gw in klass["gws"]:
        r = generate(gw, token, "alice after")
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
        r = requests.post(f"{gw.url}/gemini/v1beta/models/gemini-3.1-flash-image:generateContent",
                          headers={"x-goog-api-key": token}, json={"contents": [{"parts": [{"text": "x"}]}]})
        assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    listed = promptpaint("gateway", "token", "list", "--ledger", klass["url"], env=klass["env"]).stdout
    assert "alice" in listed and "revoked" in listed and token not in listed
    assert len(fake.requests) == 1


def test_a_student_sees_only_their_own_calls_and_allowance(klass, fake):
    led = owner(klass["url"])
    led.set_budget("user:*", "1.00")
    led.close()
    alice, bob = (new_token(klass["url"], u, klass["env"]) for u in ("alice", "bob"))
    assert generate(klass["gws"][0], alice, "alice's secret garden").status_code == 200
    assert generate(klass["gws"][1], bob, "bob's hidden castle").status_code == 200
    settled_rows(klass["url"])
    me = requests.get(f"{klass['gws'][1].url}/promptpaint/v1/me", headers={"Authorization": f"Bearer {alice}"}).json()
    assert me["user"] == "alice" and [c["prompt"] for c in me["calls"]] == ["alice's secret garden"]
    assert "castle" not in str(me)
    assert Decimal(me["allowance"]) == Decimal("1.00") - Decimal(me["spent"]) and Decimal(me["spent"]) > 0
    assert me["caps"] == [{"scope": "user:*", "per": None, "limit": "1"}]
    r = requests.get(f"{klass['gws'][0].url}/promptpaint/v1/me", headers={"X-PromptPaint-User": "bob"})
    assert r.status_code == 401  # the user comes from the credential only


def test_the_provider_keys_appear_in_no_answer_log_row_or_error(klass, fake):
    import psycopg

    token = new_token(klass["url"], "mallory", klass["env"])
    gw = klass["gws"][0]
    answers = [generate(gw, token, "one")]
    fake.fault("openai", "auth")  # the provider refuses the gateway's key, echoing part of it
    answers.append(generate(gw, token, "two"))
    assert answers[-1].status_code == 502 and answers[-1].json()["error"]["code"] == "upstream_key_refused"
    fake.fault("gemini", "auth")
    answers.append(requests.post(f"{gw.url}/gemini/v1beta/models/gemini-3.1-flash-image:generateContent",
                                 headers={"x-goog-api-key": token}, json={"contents": [{"parts": [{"text": "x"}]}]}))
    fake.fault("openai", "server_error")
    answers.append(generate(gw, token, "three"))
    answers.append(requests.get(f"{gw.url}/promptpaint/v1/me", headers={"Authorization": f"Bearer {token}"}))
    settled_rows(klass["url"])
    with psycopg.connect(klass["url"]) as conn:
        dump = "\n".join(str(row) for table in ("calls", "gateway_tokens", "budgets", "rates", "cache")
                         for row in conn.execute(f"SELECT * FROM promptpaint.{table}").fetchall())
    texts = [a.text + str(a.headers) for a in answers] + [g.log() for g in klass["gws"]] + [dump]
    for secret in (OPENAI_KEY, GEMINI_KEY, OPENAI_KEY[-8:], GEMINI_KEY[-8:]):
        assert not [t for t in texts if secret in t]
    assert token not in dump  # only its hash is kept
    assert [f.headers["authorization"] for f in fake.by_provider("openai")] == [f"Bearer {OPENAI_KEY}"] * 3


def test_a_gateway_killed_mid_call_leaves_a_reservation_that_keeps_counting(klass, fake):
    led = owner(klass["url"])
    a, b = klass["gws"]
    assert generate(b, new_token(klass["url"], "probe", klass["env"]), "zoe slow").status_code == 200
    worst = settled_rows(klass["url"])[0]["reserved"]  # what one such call reserves
    led.set_budget("user:zoe", worst * Decimal("1.5"))  # room for one call's worst case, not two
    token = new_token(klass["url"], "zoe", klass["env"])
    fake.reset()
    fake.fault("openai", "slow", seconds=5)
    threading.Thread(target=lambda: _quietly(generate, a, token, "zoe slow"), daemon=True).start()
    for _ in range(200):
        if fake.requests:
            break
        time.sleep(0.05)
    assert fake.requests, "the call never reached the provider"
    a.kill()  # kill -9, mid-call
    [row] = [r for r in led.entries(10) if r["user"] == "zoe"]
    assert row["status"] == "reserved" and row["state"] == "interrupted" and row["reserved"] == worst
    assert led.spent(user="zoe") == row["reserved"]  # it keeps counting...
    r = generate(b, token, "zoe again")
    assert r.status_code == 402 and r.json()["error"]["code"] == "budget_exceeded"  # ... on every gateway
    led.close()


def _quietly(fn, *args):
    try:
        fn(*args)
    except requests.RequestException:
        pass
