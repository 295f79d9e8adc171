"""PostgreSQL connections that heal: a pooled connection the server ended while it sat idle
(``idle_session_timeout``, a restart's AdminShutdown) is replaced and the work run again once
where that is safe, on a real server."""

from __future__ import annotations

import subprocess
import time
import warnings
from decimal import Decimal as D
from pathlib import Path

import pytest

import promptpaint as pp
from helpers import client_on
from ledgerkit import attempt
from pgserver import SCRIPT, admin, cluster, init_ledger, pg_ctl
from promptpaint.cli import main
from promptpaint.ledger.postgres import PostgresLedger


def server_ended_idle(led: PostgresLedger, url: str) -> None:
    """End every idle session of ``led``'s pool from the server side, as a timeout would."""
    with admin(url) as conn:
        # With a timeout, pg_terminate_backend waits until each session has ended (PostgreSQL 14+).
        conn.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = "
                     "'promptpaint' AND datname = current_database() AND pid <> pg_backend_pid()")


def test_after_an_idle_session_timeout_reads_reserves_and_settles_go_on(pg_ledger):
    url, name = pg_ledger
    led = PostgresLedger(url)
    row = led.reserve(attempt("alice"), D("0.16"), [])
    with admin(url) as conn:  # new sessions of this database end after 200 ms idle
        conn.execute(f"ALTER DATABASE \"{name}\" SET idle_session_timeout = '200ms'")
    led.close()
    led.reserve(attempt("alice"), D("0.16"), [])  # a session that has the setting
    assert led._idle
    time.sleep(0.5)  # the server ends the pooled session (not a timed assertion: it only lets it expire)
    assert led.summary().in_flight_calls == 2  # a read on a dead pooled connection: replaced, run again
    time.sleep(0.5)
    led.settle(row, status="ok", cost=D("0.07"))  # a settle: idempotent on the row id, run again
    time.sleep(0.5)
    third = led.reserve(attempt("alice"), D("0.16"), [])  # dead on BEGIN: nothing of ours ran, so run again
    assert led.total() == D("0.07") and third > row
    assert [r["state"] for r in led.entries(5)] == ["in flight", "in flight", "ok"]


def test_a_terminated_pool_is_replaced_for_every_kind_of_statement(pg_ledger):
    url, _ = pg_ledger
    led = PostgresLedger(url)
    row = led.reserve(attempt("alice"), D("0.16"), [])
    for step in (lambda: led.spent(), lambda: led.settle(row, status="ok", cost=D("0.05")),
                 lambda: led.reserve(attempt("alice"), D("0.16"), []), lambda: led.entries(3),
                 lambda: led.set_budget("class", 5), lambda: led.budgets()):
        assert led._idle
        server_ended_idle(led, url)
        step()
    assert led.total() == D("0.05") and led.spent() == D("0.21")


@pytest.fixture
def own_cluster():
    """A cluster of this test's own holding an empty ledger, to restart or stop: (URL, folder)."""
    with cluster("fsync=off") as (url, folder):
        init_ledger(url)
        yield url, folder


def restart(folder: str) -> None:
    """A fast shutdown and start again: every session gets AdminShutdown."""
    pg_ctl(folder, "-m", "fast", "-w", "restart")


def test_the_first_call_after_a_server_restart_is_booked(own_cluster, fake, monkeypatch):
    url, folder = own_cluster
    monkeypatch.setenv("PROMPTPAINT_LEDGER", url)
    c = client_on(fake, "gemini", budget=1)
    c.generate("before")
    restart(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pp.LedgerWarning)
        r = c.generate("after the restart")  # reserve on a dead pooled connection, then settle
    assert r.cost == fake.bill_total() - pp.ledger().entries(2)[1]["cost"]
    restart(folder)
    assert pp.ledger().total() == fake.bill_total()  # a read after a restart


def test_a_settle_that_cannot_land_warns_each_time_and_is_booked_by_reconcile(own_cluster, fake, monkeypatch,
                                                                               capsys):
    url, folder = own_cluster
    monkeypatch.setenv("PROMPTPAINT_LEDGER", url)
    c = client_on(fake, "gemini", budget=1)
    led = c.ledger
    held = [led.reserve(attempt("alice"), D("0.16"), []) for _ in range(2)]
    subprocess.run([str(SCRIPT), "stop", folder], check=True)  # the server is gone
    from promptpaint.plan import Reservation

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for row in held:
            Reservation(led, row, D("0.16"), None, provider="gemini").settle(
                status="ok", cost=D("0.07"), images=["ab" * 32])
    said = [str(w.message) for w in seen if issubclass(w.category, pp.LedgerWarning)]
    assert len(said) == 2 and f"row {held[0]}" in said[0] and f"row {held[1]}" in said[1]
    assert all("reconcile --interrupted" in s for s in said)
    restart_from_stopped(folder)
    assert main(["ledger", "reconcile", "--interrupted"]) == 0
    assert "2 calls booked" in capsys.readouterr().out
    rows = {r["id"]: r for r in led.entries(5)}
    assert [rows[r]["cost"] for r in held] == [D("0.07"), D("0.07")] and rows[held[0]]["images"] == ["ab" * 32]
    assert [rows[r]["status"] for r in held] == ["ok", "ok"] and led.total() == D("0.14")
    assert main(["ledger", "reconcile", "--interrupted"]) == 0  # nothing left: nothing changes
    assert led.total() == D("0.14")


def restart_from_stopped(folder: str) -> None:
    opts = Path(folder, "data", "postmaster.opts").read_text().split(None, 1)[1].strip()
    pg_ctl(folder, "-w", "start", "-o", _options(opts))


def _options(opts: str) -> str:
    """postmaster.opts holds the command line: ``/path/postgres "-D" "dir" "-p" "5432" ...``; the
    options after the data folder."""
    import shlex

    words = shlex.split(opts)
    out, skip = [], False
    for i, w in enumerate(words):
        if skip:
            skip = False
            continue
        if w == "-D":
            skip = True
            continue
        out.append(w)
    return shlex.join(out)
