"""PostgreSQL connections that heal: a pooled connection the server ended while it sat idle
(``idle_session_timeout``, a restart's AdminShutdown) is replaced and the work run again once
where that is safe, on a real server."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from decimal import Decimal as D
from pathlib import Path

import pytest

import promptpaint as pp
from helpers import client_on
from pgserver import SCRIPT, _unavailable, admin, pg_db, pg_server  # noqa: F401  (fixtures)
from promptpaint.cli import main
from promptpaint.ledger import Attempt
from promptpaint.ledger.postgres import PostgresLedger


def attempt() -> Attempt:
    return Attempt("gemini", "gemini-3.1-flash-image", "generate", "a fox", {}, None, user="alice")


def fresh(url: str) -> PostgresLedger:
    owner = PostgresLedger(url, check=False)
    owner.init()
    owner.close()
    return PostgresLedger(url)


def server_ended_idle(led: PostgresLedger, url: str) -> None:
    """End every idle session of ``led``'s pool from the server side, as a timeout would."""
    with admin(url) as conn:
        # With a timeout, pg_terminate_backend waits until each session has ended (PostgreSQL 14+).
        conn.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = "
                     "'promptpaint' AND datname = current_database() AND pid <> pg_backend_pid()")


def test_after_an_idle_session_timeout_reads_reserves_and_settles_go_on(pg_db):
    url, name = pg_db
    led = fresh(url)
    row = led.reserve(attempt(), D("0.16"), [])
    with admin(url) as conn:  # new sessions of this database end after 200 ms idle
        conn.execute(f"ALTER DATABASE \"{name}\" SET idle_session_timeout = '200ms'")
    led.close()
    led.reserve(attempt(), D("0.16"), [])  # a session that has the setting
    assert led._idle
    time.sleep(0.5)  # the server ends the pooled session (not a timed assertion: it only lets it expire)
    assert led.summary().in_flight_calls == 2  # a read on a dead pooled connection: replaced, run again
    time.sleep(0.5)
    led.settle(row, status="ok", cost=D("0.07"))  # a settle: idempotent on the row id, run again
    time.sleep(0.5)
    third = led.reserve(attempt(), D("0.16"), [])  # dead on BEGIN: nothing of ours ran, so run again
    assert led.total() == D("0.07") and third > row
    assert [r["state"] for r in led.entries(5)] == ["in flight", "in flight", "ok"]


def test_a_terminated_pool_is_replaced_for_every_kind_of_statement(pg_db):
    url, _ = pg_db
    led = fresh(url)
    row = led.reserve(attempt(), D("0.16"), [])
    for step in (lambda: led.spent(), lambda: led.settle(row, status="ok", cost=D("0.05")),
                 lambda: led.reserve(attempt(), D("0.16"), []), lambda: led.entries(3),
                 lambda: led.set_budget("class", 5), lambda: led.budgets()):
        assert led._idle
        server_ended_idle(led, url)
        step()
    assert led.total() == D("0.05") and led.spent() == D("0.21")


@pytest.fixture
def own_cluster():
    """A cluster of this test's own, to restart: (URL, restart())."""
    if not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        _unavailable("Debian's postgresql is not installed")
    folder = tempfile.mkdtemp(prefix="pp-pg-heal.")
    started = subprocess.run([str(SCRIPT), "start", folder, "-c", "fsync=off"], capture_output=True, text=True)
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(started.stderr[-300:])
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def restart():  # a fast shutdown: every session gets AdminShutdown
        subprocess.run([*owner, pg_ctl, "-D", str(Path(folder, "data")), "-m", "fast", "-w", "restart",
                        "-l", str(Path(folder, "log"))], check=True, capture_output=True)

    try:
        yield started.stdout.strip(), restart
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_first_call_after_a_server_restart_is_booked(own_cluster, fake, monkeypatch):
    url, restart = own_cluster
    fresh(url).close()
    monkeypatch.setenv("PROMPTPAINT_LEDGER", url)
    c = client_on(fake, "gemini", budget=1)
    c.generate("before")
    restart()
    with warnings.catch_warnings():
        warnings.simplefilter("error", pp.LedgerWarning)
        r = c.generate("after the restart")  # reserve on a dead pooled connection, then settle
    assert r.cost == fake.bill_total() - pp.ledger().entries(2)[1]["cost"]
    restart()
    assert pp.ledger().total() == fake.bill_total()  # a read after a restart


def test_a_settle_that_cannot_land_warns_each_time_and_is_booked_by_reconcile(own_cluster, fake, monkeypatch,
                                                                               capsys):
    url, restart = own_cluster
    fresh(url).close()
    monkeypatch.setenv("PROMPTPAINT_LEDGER", url)
    c = client_on(fake, "gemini", budget=1)
    led = c.ledger
    held = [led.reserve(attempt(), D("0.16"), []) for _ in range(2)]
    folder = url.split("host=")[1].split("&")[0]
    subprocess.run([str(SCRIPT), "stop", folder], check=True)  # the server is gone
    from promptpaint.plan import Reservation

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for row in held:
            Reservation(led, row, D("0.16"), None, provider="gemini").settle(
                status="ok", cost=D("0.07"), images=["ab" * 32])
    said = [str(w.message) for w in seen if issubclass(w.category, pp.LedgerWarning)]
    assert len(said) == 2 and f"row {held[0]}" in said[0] and f"row {held[1]}" in said[1]
    restart_from_stopped(folder)
    assert main(["ledger", "reconcile", "--interrupted"]) == 0
    assert "2 calls booked" in capsys.readouterr().out
    rows = {r["id"]: r for r in led.entries(5)}
    assert [rows[r]["cost"] for r in held] == [D("0.07"), D("0.07")] and rows[held[0]]["images"] == ["ab" * 32]


def restart_from_stopped(folder: str) -> None:
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    opts = Path(folder, "data", "postmaster.opts").read_text().split(None, 1)[1].strip()
    subprocess.run([*owner, pg_ctl, "-D", str(Path(folder, "data")), "-w", "start", "-l", str(Path(folder, "log")),
                    "-o", _options(opts)],
                   check=True, capture_output=True)


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
