"""A class on one budget: users on every row, caps stored in the ledger, the teacher's report.
(Kernels and Clients against the fake provider: test_class_kernels.py; batch jobs:
test_class_batches.py.)

One suite, two backends: every test taking ``backend`` runs on SQLite (a file, as one person has
it) and on a real PostgreSQL (as a class shares it), and must see the same behaviour.
"""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest

import promptpaint as pp
from helpers import loaded_by
from ledgerkit import attempt
from pgserver import tcp_url
from promptpaint.ledger import Cap, LedgerError


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
    assert [r["user"] for r in led.entries(10, user="bob")] == ["bob"]  # e.g. a student's Past images


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
    # A daily budget in one's own config counts one's own calls, not a classmate's.
    led.reserve(attempt("bob"), D("0.10"), [Cap("day", D("0.15"))])
    assert led.spent(user="bob") == D("0.1") and led.spent(user="alice") == D("0.1")


def test_unknown_cost_and_interrupted_calls_keep_counting_and_a_cost_is_never_negative(backend):
    led = pp.ledger()
    # A Client's budget: an unknown cost counts at its reservation, a negative one is never a credit.
    a = led.reserve(attempt(budget="b"), D("0.20"), [])
    led.settle(a, status="error", cost=None, error="read timeout: may have been billed")
    b = led.reserve(attempt(budget="b"), D("0.10"), [])
    led.settle(b, status="ok", cost=D("-0.30"))  # never a credit
    c = led.reserve(attempt(budget="b"), D("0.10"), [])
    led.release(c, error="connection refused")  # nothing reached the server
    assert led.spent(budget="b") == D("0.30") and led.total() == 0
    s = led.summary(budget="b")
    assert (s.unknown_calls, s.unknown_reserved) == (2, D("0.30"))
    assert "2 calls of unknown cost, up to $0.30 reserved" in str(s) and "Decimal" not in str(s)
    with pytest.raises(pp.BudgetExceeded):
        led.reserve(attempt(budget="b"), D("0.01"), [Cap("b", D("0.30"))])
    # The class's cap ($0.30 above, $0.30 below): the same, and a call whose kernel never settled.
    led.set_budget("class", "0.60")
    led.settle(led.reserve(attempt(), D("0.10"), []), status="ok", cost=None)  # cost unknown
    led.reserve(attempt("bob"), D("0.10"), [])  # never settled: a kernel that died
    led.settle(led.reserve(attempt(), D("0.10"), []), status="error", cost=D(0), error="refused at once")
    led.reserve(attempt("carol"), D("0.10"), [])
    with pytest.raises(pp.BudgetExceeded, match="\\$0.00 left"):
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
    booked_on = led.entries(1)[0]["day"]  # the ledger's day (PostgreSQL: the server's clock, not the kernel's)
    today = {r["user"]: r["calls"] for r in led.totals(by="user", day=booked_on)}
    assert today == {"alice": 2, "bob": 2}  # erin has no daily cap to list her by


# -- PostgreSQL only: roles, passwords, the driver ------------------------------------------------

def test_the_kernel_role_books_calls_but_cannot_raise_a_cap(pg_server, pg_db, pg_role, monkeypatch, capsys):
    import psycopg

    from promptpaint.cli import main
    from promptpaint.ledger.postgres import PostgresLedger

    url, name = pg_db
    role, password = pg_role()
    assert main(["ledger", "init", url]) == 0
    assert main(["ledger", "grant", url, role]) == 0
    assert main(["budget", "set", "user:alice", "0.25", "--ledger", url]) == 0
    monkeypatch.setenv("PGPASSWORD", password)  # libpq reads it; the URL carries no password
    kernel_url = tcp_url(pg_server, name, role, None)
    monkeypatch.setenv("PROMPTPAINT_LEDGER", kernel_url)
    kernel = pp.ledger()
    assert isinstance(kernel, PostgresLedger)

    row = kernel.reserve(attempt("alice"), D("0.10"), [])
    kernel.settle(row, status="ok", cost=D("0.04"))
    assert kernel.totals(by="user")[0]["left"] == D("0.21")
    with pytest.raises(LedgerError, match="permission denied"):
        kernel.set_budget("user:alice", "100")
    assert main(["budget", "set", "user:*", "100"]) == 1  # the CLI as a student would run it
    err = capsys.readouterr().err
    assert "permission denied" in err and "the ledger's owner (the teacher)" in err
    kernel.settle(row, status="ok", cost=D(0))  # a settled row is not settled again
    with psycopg.connect(kernel_url, autocommit=True) as conn:  # and not by hand either
        assert conn.execute("UPDATE promptpaint.calls SET cost_nanos = 0").rowcount == 0
        for sql in ("DELETE FROM promptpaint.calls", "UPDATE promptpaint.budgets SET limit_nanos = 1e12",
                    "INSERT INTO promptpaint.budgets VALUES ('user:*', 'total', 1, 'now')",
                    "UPDATE promptpaint.calls SET \"user\" = 'bob'",
                    "INSERT INTO promptpaint.calls (ts, day, session, provider, model, kind, status,"
                    " cost_nanos) VALUES ('', '', '', '', '', '', 'ok', 0)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    teacher = PostgresLedger(url)
    assert [(b["scope"], b["limit"]) for b in teacher.budgets()] == [("user:alice", D("0.25"))]
    assert teacher.entries(1)[0]["cost"] == D("0.04")
    teacher.close()
    with pytest.raises(pp.BudgetExceeded, match="alice's class allowance"):
        kernel.reserve(attempt("alice"), D("0.22"), [])


def test_import_promptpaint_loads_no_driver_and_a_missing_one_says_what_to_install(monkeypatch):
    monkeypatch.delenv("PROMPTPAINT_LEDGER", raising=False)
    assert loaded_by("import promptpaint as pp; pp.Client('offline')", ["psycopg"]) == []
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    monkeypatch.setenv("PROMPTPAINT_LEDGER", "postgresql://kernel:hunter2@127.0.0.1:1/course")
    with pytest.raises(LedgerError, match=r"pip install 'promptpaint\[postgres\]'") as exc:
        pp.ledger()
    assert "hunter2" not in str(exc.value)


def test_the_teacher_sets_caps_and_reads_the_report_from_the_shell(backend, capsys):
    from promptpaint.cli import main

    assert main(["budget", "set", "user:*", "2.00"]) == 0
    assert main(["budget", "set", "class", "200", "--per", "day"]) == 0
    assert main(["budget", "set", "user:bob", "0.50"]) == 0
    assert main(["budget", "remove", "user:bob"]) == 0
    assert main(["budget", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in out[-2:]] == [["class", "$200.00", "per"], ["user:*", "$2.00", "all"]]
    led = pp.ledger()
    led.settle(led.reserve(attempt(), D("0.10"), []), status="ok", cost=D("0.0672325"))
    led.settle(led.reserve(attempt("bob"), D("0.10"), []), status="ok", cost=None)
    assert main(["cost", "--by", "user"]) == 0
    table = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert table[0] == ["user", "calls", "cost", "unknown", "reserved", "cap", "left", "per", "day", "left", "today"]
    # Each student's effective cap names where it comes from (user:* here); the class's comes last.
    assert table[1:3] == [["alice", "1", "$0.067233", "0", "$0.00", "$2.00", "user:*", "$1.932768", "-", "-"],
                          ["bob", "1", "$0.00", "1", "$0.10", "$2.00", "user:*", "$1.90", "-", "-"]]
    assert " ".join(table[3]).startswith("class: $0.167233 counted against caps; no class cap; today")
    assert main(["cost", "--by", "user", "--day", "2001-01-01"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no calls on 2001-01-01"
    assert main(["budget", "set", "user:*", "-1"]) == 2
    assert "0 or more" in capsys.readouterr().err


def test_the_widget_shows_the_students_own_allowance(backend, fake, monkeypatch):
    from helpers import openai_studio

    pp.ledger().set_budget("user:alice", "0.30")
    pp.ledger().set_budget("user:bob", "5")
    studio, front = openai_studio(fake, monkeypatch)
    front.run("generate", "fox one")
    assert Decimal(studio.costs["budget_left"]) == D("0.30") - fake.bill_total() == pp.ledger().allowance()


def test_behind_pgbouncer_in_transaction_mode_the_caps_still_hold(pg_db, pgbouncer, monkeypatch, capsys):
    from concurrent.futures import ThreadPoolExecutor

    from promptpaint.cli import main
    from promptpaint.ledger.postgres import PostgresLedger

    url, name = pg_db
    assert main(["ledger", "init", url]) == 0
    monkeypatch.setenv("PROMPTPAINT_LEDGER", pgbouncer(name))
    led = pp.ledger()
    led.set_budget("class", "0.50")
    led.set_budget("user:*", "0.20")

    def student(i):
        mine = PostgresLedger(pgbouncer(name))  # a kernel of its own: its own client connections
        booked = 0
        for _ in range(12):  # past psycopg's prepare threshold (5), had it not been turned off
            try:
                row = mine.reserve(attempt(f"s{i}"), D("0.01"), [])
            except pp.BudgetExceeded:
                continue
            mine.settle(row, status="ok", cost=D("0.01"))
            booked += 1
        mine.close()
        return booked

    with ThreadPoolExecutor(8) as pool:
        booked = list(pool.map(student, range(8)))
    assert sum(booked) == 50 and max(booked) <= 12  # the class cap, exactly
    assert led.total() == D("0.50")
    capsys.readouterr()
    assert main(["cost", "--by", "user"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 10  # a header, 8 users, the class


def test_a_ledger_from_before_users_migrates_and_its_rows_are_its_owners(isolated_home, monkeypatch):
    import sqlite3

    from promptpaint.ledger.migrations import MIGRATIONS, run_script

    isolated_home.mkdir(parents=True, exist_ok=True)
    path = isolated_home / "v2.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for m in MIGRATIONS[:2]:
        m.sqlite(db) if callable(m.sqlite) else run_script(db, m.sqlite)
    db.execute("INSERT INTO calls (ts, day, session, provider, model, kind, status, cost_nanos)"
               " VALUES ('2026-11-01T10:00:00+00:00', '2026-11-01', 's', 'openai', 'gpt-image-2',"
               " 'generate', 'ok', 40000000)")
    db.execute("PRAGMA user_version = 2")
    db.close()
    monkeypatch.setenv("PROMPTPAINT_USER", "owner")
    led = pp.SQLiteLedger(path)
    assert led.entries(1)[0]["user"] == "owner"
    assert led.totals(by="user") == [{"user": "owner", "calls": 1, "cost": D("0.04"), "unknown_cost_calls": 0,
                                      "reserved": D(0), "cap": None, "left": None}]
    led.set_budget("user:owner", "0.05")
    with pytest.raises(pp.BudgetExceeded, match="owner's class allowance"):
        led.reserve(attempt("owner"), D("0.02"), [])
    led.set_budget("class", "0.05")  # the old row is in the class's running total too
    with pytest.raises(pp.BudgetExceeded, match="the class's budget"):
        led.reserve(attempt("newcomer"), D("0.02"), [])


def test_the_running_class_total_stays_the_sum_of_its_rows(backend):
    from concurrent.futures import ThreadPoolExecutor

    led = pp.ledger()
    led.set_budget("class", "1000")

    def student(i):
        for j in range(6):
            row = led.reserve(attempt(f"s{i}"), D("0.05") if j % 3 else None, [])
            [lambda: led.settle(row, status="ok", cost=D("0.031")),
             lambda: led.settle(row, status="ok", cost=None),
             lambda: led.release(row, error="never sent"),
             lambda: led.settle(row, status="ok", cost=D("-1")),
             lambda: None,  # left open, as by a kernel that died
             lambda: led.settle(row, status="refused", cost=D(0))][(i + j) % 6]()

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(student, range(6)))
    for row in led.entries(100):
        if row["state"] == "interrupted" or row["status"] == "reserved":
            led.reconcile(row["id"], cost=D("0.02"))
    rows_sum = led._read("SELECT COALESCE(SUM(COALESCE(cost_nanos, reserved_nanos, 0)), 0) FROM "
                         + ("promptpaint." if backend.startswith("postgresql") else "") + "calls")[0][0]
    running = led._read("SELECT nanos FROM " + ("promptpaint." if backend.startswith("postgresql") else "")
                        + "counted")[0][0]
    assert running == rows_sum > 0
    assert led.spent() * 10**9 == running
    # and it is what the class cap is checked against
    led.set_budget("class", led.spent() + D("0.01"))
    led.reserve(attempt(), D("0.01"), [])
    with pytest.raises(pp.BudgetExceeded, match="the class's budget"):
        led.reserve(attempt(), D("0.000000001"), [])
