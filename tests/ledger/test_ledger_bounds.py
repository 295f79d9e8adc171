"""The reservation bounds what is counted: a usage priced above what the call could cost is kept
as reported, flagged for review, counted at the reservation, and shown until reconciled."""

from __future__ import annotations

import warnings
from decimal import Decimal as D

import pytest

import promptpaint as pp
from helpers import client_on
from ledgerkit import attempt
from pgserver import tcp_url
from promptpaint.cli import main


def test_a_bogus_usage_counts_at_the_reservation_and_leaves_the_budget(fake):
    # A usage no request can make (thinking is capped by maxOutputTokens): 100M prompt tokens.
    fake.usage["gemini"]["text_tokens"] = 100_000_000
    c = client_on(fake, "gemini", budget=1.00)
    with pytest.warns(pp.UnknownPriceWarning, match="above the"):
        r = c.generate("a fox")
    assert fake.bill_total() > 10  # the provider says so...
    assert r.cost is None and r.reserved is not None and r.reserved < D("0.20")  # ...we count what it could cost
    row = pp.ledger().entries(1)[0]
    assert row["state"] == "over its reservation" and row["reported"] == pytest.approx(fake.bill_total(), abs=D("1e-6"))
    assert pp.ledger().spent(budget=c.budget_id) == row["reserved"]
    # The budget is not exhausted: more calls fit (each ~$0.07, reserving ~$0.16).
    fake.usage["gemini"].pop("text_tokens")
    c.generate("a second fox")
    c.generate("a third fox")
    assert pp.ledger().spent(budget=c.budget_id) <= D("1.00")


def test_over_reservation_rows_show_until_reconciled(backend, capsys):
    led = pp.ledger()
    row = led.reserve(attempt(), D("0.16"), [])
    led.settle(row, status="ok", cost=D("3000"), usage={"output_image_tokens": 100_000_000})
    fine = led.reserve(attempt("bob"), D("0.16"), [])
    led.settle(fine, status="ok", cost=D("0.07"))
    assert led.spent() == D("0.23") and led.total() == D("0.07")
    totals = led.summary()
    assert (totals.over_calls, totals.over_reported, totals.over_reserved) == (1, D("3000"), D("0.16"))
    assert totals.counted == D("0.23") and "over its reservation" in str(totals)
    assert [r["id"] for r in led.over_reservation()] == [row]
    table = led._repr_mimebundle_()["text/plain"]
    assert "Over reservation: 1 call, reported $3000.00, $0.16 counted" in table
    # Both the plain report and the teacher's list it, with the id to reconcile.
    assert main(["cost"]) == 0
    out = capsys.readouterr().out
    assert f"#{row}" in out and "$3,000" not in out and "$3000.00" in out and "reconcile" in out
    assert main(["cost", "--last", "2"]) == 0
    assert "reported $3000.00, counted $0.16 (review)" in capsys.readouterr().out
    assert main(["cost", "--by", "user"]) == 0
    out = capsys.readouterr().out
    assert f"#{row}" in out and "alice" in out and "$3000.00" in out
    # The teacher checks the provider's bill and books what it says.
    assert main(["ledger", "reconcile", str(row), "--cost", "0.12"]) == 0
    assert "reconciled" in capsys.readouterr().out
    assert led.spent() == D("0.19") and led.total() == D("0.19") and led.over_reservation() == []
    assert main(["ledger", "reconcile", str(row), "--cost", "0.50"]) == 2  # a known cost stays
    assert "known cost" in capsys.readouterr().err
    assert main(["ledger", "reconcile", str(fine), "--cost", "$5"]) == 2
    assert "Write the number alone: 5" in capsys.readouterr().err


def test_a_batch_line_above_its_worst_case_is_flagged(backend):
    led = pp.ledger()
    line = led.reserve(attempt(), D(0), [])  # a line whose job's row holds its worst case
    led.settle(line, status="ok", cost=D("1500"), bound=D("0.08"))
    other = led.reserve(attempt(), D(0), [])
    led.settle(other, status="ok", cost=D("0.04"), bound=D("0.08"))
    rows = {r["id"]: r for r in led.entries(5)}
    assert rows[line]["state"] == "over its reservation" and rows[line]["reported"] == D("1500")
    assert rows[other]["cost"] == D("0.04")
    assert led.spent() == D("0.04")  # the flagged line counts at its own reservation ($0): the job holds it


def test_a_settle_that_fails_warns_each_time_and_is_kept_for_reconcile(fake, monkeypatch, capsys):
    c = client_on(fake, "gemini")
    led = c.ledger
    real = type(led).settle

    def broken(self, row, **kw):
        raise pp.LedgerError("The ledger is down.")

    monkeypatch.setattr(type(led), "settle", broken)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        c.generate("first fox")
        c.generate("second fox")
    said = [str(w.message) for w in seen if issubclass(w.category, pp.LedgerWarning)]
    assert len(said) == 2 and all("reconcile --interrupted" in s for s in said)
    held = sorted(r["id"] for r in led.entries(5))
    assert all(f"row {row}" in s for row, s in zip(held, said))  # each names its own row
    assert [r["status"] for r in led.entries(5)] == ["reserved", "reserved"]
    monkeypatch.setattr(type(led), "settle", real)
    assert main(["ledger", "reconcile", "--interrupted"]) == 0
    assert "2 call" in capsys.readouterr().out
    rows = led.entries(5)
    assert [r["status"] for r in rows] == ["ok", "ok"] and all(r["images"] for r in rows)
    assert led.total() == fake.bill_total() > 0
    assert main(["ledger", "reconcile", "--interrupted"]) == 0  # nothing left: nothing changes
    assert led.total() == fake.bill_total()


def test_a_kernel_role_flags_its_own_overrun_and_only_the_owner_reconciles(pg_server, pg_ledger, pg_role):
    from promptpaint.ledger.postgres import PostgresLedger

    url, name = pg_ledger
    owner = PostgresLedger(url, check=False)
    role, password = pg_role(grant=True)
    kernel = PostgresLedger(tcp_url(pg_server, name, role, password))
    try:
        row = kernel.reserve(attempt("alice"), D("0.16"), [])
        kernel.settle(row, status="ok", cost=D("3000"))  # row security admits it: the cost booked is unknown
        got = kernel.entries(1)[0]
        assert got["state"] == "over its reservation" and got["reported"] == D("3000")
        assert kernel.spent() == D("0.16")
        with pytest.raises(pp.InvalidRequest, match="not yours to change"):
            kernel.reconcile(row, cost=D("0.01"))
        owner.reconcile(row, cost=D("0.09"))
        assert kernel.spent() == kernel.total() == D("0.09")
    finally:
        kernel.close()
        owner.close()


def test_a_kernel_that_dies_between_storing_and_booking_is_booked_by_reconcile(fake, capsys):
    import subprocess
    import sys

    from helpers import KEYS

    script = ("import os, promptpaint as pp\n"
              "from promptpaint.ledger.sqlite import SQLiteLedger\n"
              "SQLiteLedger.settle = lambda self, row, **kw: os._exit(3)  # killed right before booking\n"
              f"pp.Client('gemini', api_key={KEYS['gemini']!r}, base_url={fake.gemini_base!r}).generate('a fox')\n")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True).returncode == 3
    row, = pp.ledger().entries(5)
    assert row["state"] == "interrupted" and row["cost"] is None and fake.bill_total() > 0
    assert main(["ledger", "reconcile", "--interrupted"]) == 0
    assert f"1 call booked from what this machine kept: rows #{row['id']}" in capsys.readouterr().out
    row, = pp.ledger().entries(5)
    assert row["status"] == "ok" and row["cost"] == fake.bill_total() and row["images"]
    assert pp.ledger().entries(5)[0]["images"][0] in {p.stem for p in (pp.config.home() / "images").rglob("*.*")}


def test_the_journal_keeps_only_what_the_ledger_has_not_confirmed(monkeypatch):
    from promptpaint.ledger import pending

    monkeypatch.setattr(pending, "COMPACT_AT", 2000)
    led = pp.ledger()
    rows = [led.reserve(attempt(), D("0.16"), []) for _ in range(40)]
    for row in rows:
        pending.keep(led, row, {"status": "ok", "cost": D("0.05"), "images": ["ab" * 32]})
        if row != rows[7]:
            led.settle(row, status="ok", cost=D("0.05"), images=["ab" * 32])
            pending.done(led, row)
    assert pending._file().stat().st_size < 2000 + 400  # compacted as it went, not 40 calls long
    assert [x["row"] for x in pending._open_lines(pending._load())] == [rows[7]]
    assert pending.replay(led) == ([rows[7]], [])
    assert led.total() == D("0.05") * 40 and pending._load() == []
