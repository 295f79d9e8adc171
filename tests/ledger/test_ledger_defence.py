"""Defence in depth on a PostgreSQL ledger that kernels reach directly (one person or a trusted
team: a class goes through the gateway). As a kernel role, with plain SQL as a red team would:
reserve() refuses forged amounts and ignores a forged day; a role settles only its own rows and
never above their reservation; batch tables and rows are each role's own; and ``grant`` covers
everything a Studio and a batch job need."""

from __future__ import annotations

import json

import psycopg
import pytest

import promptpaint as pp
from pgserver import tcp_url


@pytest.fixture
def roles(pg_server, pg_ledger, pg_role):
    """Two kernel roles with passwords, granted as `promptpaint ledger grant` does: {name: url}."""
    _, name = pg_ledger
    return {who: tcp_url(pg_server, name, *pg_role(who, grant=True)) for who in ("alice", "bob")}


def reserve_sql(conn, user, need, day="2000-01-01"):
    return conn.execute(
        "SELECT * FROM promptpaint.reserve(%s,%s,'s',NULL,%s,'openai','gpt-image-2','generate','p','{}',%s,"
        "NULL,NULL,'h',1,'{}'::text[],'{}'::bigint[])", ("2000-01-01T00:00:00+00:00", day, user, need)).fetchone()


def test_reserve_refuses_forged_amounts_and_takes_the_day_from_the_server(roles):
    with psycopg.connect(roles["alice"], autocommit=True) as conn:
        for forged in (-4_660_000_000, 9 * 10**18):
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                reserve_sql(conn, "alice", forged)
        rid = reserve_sql(conn, "alice", 10_000_000)[0]
        day, ts = conn.execute("SELECT day, ts FROM promptpaint.calls WHERE id = %s", (rid,)).fetchone()
        server_day = conn.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')").fetchone()[0]
        assert day == server_day != "2000-01-01" and ts.startswith(server_day)


def test_a_role_settles_only_its_own_rows_never_above_their_reservation_and_sees_only_its_own(roles):
    with psycopg.connect(roles["alice"], autocommit=True) as a, psycopg.connect(roles["bob"], autocommit=True) as b:
        mine = reserve_sql(a, "alice", 50_000_000)[0]
        theirs = reserve_sql(b, "bob", 50_000_000)[0]
        # A classmate's running call cannot be settled at $0, nor set to 9e18 to lock the class out.
        assert a.execute("UPDATE promptpaint.calls SET status='ok', cost_nanos=0 WHERE id=%s", (theirs,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            a.execute("UPDATE promptpaint.calls SET status='ok', cost_nanos=9000000000000000000 WHERE id=%s", (mine,))
        assert a.execute("UPDATE promptpaint.calls SET status='ok', cost_nanos=40000000 WHERE id=%s", (mine,)).rowcount == 1
        assert [r[0] for r in a.execute("SELECT id FROM promptpaint.calls").fetchall()] == [mine]
        assert "bob" not in str(a.execute("SELECT * FROM promptpaint.calls").fetchall())


def test_batch_tables_are_each_roles_own(roles):
    job = ("batch_x", "openai", "gpt-image-2", "https://api.openai.com/v1", None, "2026-01-01", "running",
           "generate", "{}", json.dumps(["p"]), json.dumps([0]), None, json.dumps(["0.2"]), None, None, None, 0, "bob")
    with psycopg.connect(roles["alice"], autocommit=True) as a, psycopg.connect(roles["bob"], autocommit=True) as b:
        b.execute("INSERT INTO promptpaint.batch_jobs (id, provider, model, base_url, name, created, state, kind,"
                  " params, prompts, inputs, price, worst, price_version, budget, reserve_row, collected, \"user\")"
                  " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", job)
        assert a.execute("SELECT * FROM promptpaint.batch_jobs").fetchall() == []
        assert a.execute("UPDATE promptpaint.batch_jobs SET base_url='https://evil.example', price='{}'").rowcount == 0
        assert a.execute("UPDATE promptpaint.batch_jobs SET collected=1").rowcount == 0
        assert b.execute("SELECT base_url, collected FROM promptpaint.batch_jobs").fetchall() == [
            ("https://api.openai.com/v1", 0)]


def test_grant_covers_everything_a_studio_and_a_batch_need_as_the_kernel_role(roles, monkeypatch, fake):
    from fakes import GEMINI_KEY

    monkeypatch.setenv("PROMPTPAINT_LEDGER", roles["alice"])
    monkeypatch.setenv("PROMPTPAINT_USER", "alice")
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.gemini_base)
    studio = pp.Studio("gemini")
    studio.generate("a lighthouse")  # books through reserve(), settles its own row
    assert pp.ledger().allowance("alice") is None
    assert pp.ledger().entries(5)[0]["user"] == "alice"
    assert pp.ledger().summary().known > 0
    # A batch job: submitted, then found again and collected (the collector's own base URL, not the row's).
    fake.batches.step = 0.05
    client = pp.Client("gemini", model="gemini-3.1-flash-image", api_key=GEMINI_KEY, base_url=fake.gemini_base,
                       budget=1)
    client.batch(["alice fox", "alice heron"]).wait(poll=0.05, progress=False)
    results = pp.batches(api_key=GEMINI_KEY)[0].results()
    assert [type(r) for r in results] == [pp.Result] * 2
    assert pp.ledger().total() == pp.ledger().spent() == fake.bill_total() > 0
