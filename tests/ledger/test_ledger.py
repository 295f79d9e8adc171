"""The ledger package: versioned migrations, what counts against a cap, and SQLite failures as
promptpaint errors that name the file."""

import sqlite3
import time
from decimal import Decimal

import pytest

import promptpaint as pp
from ledgerkit import attempt
from promptpaint.ledger import Cap, LedgerError, SQLiteLedger, migrations, utc_now

# The schema promptpaint 0.1.0 shipped, verbatim: files written by it exist in the field.
SCHEMA_0_1_0 = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,              -- UTC ISO time the attempt started
    day TEXT NOT NULL,             -- UTC date, for daily totals and caps
    session TEXT NOT NULL,         -- one per Python process
    budget TEXT,                   -- the Client budget this call counts against
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,            -- generate | edit | chat
    prompt TEXT,
    params TEXT,                   -- JSON; never a key
    usage TEXT,                    -- JSON, normalised Usage
    cost_nanos INTEGER,            -- USD * 1e9; NULL when the price is unknown
    reserved_nanos INTEGER,
    reserved_until REAL,           -- epoch seconds; a reservation counts until settled or then
    price_version TEXT,
    status TEXT NOT NULL,          -- reserved | ok | refused | error | cached
    request_id TEXT,
    images TEXT,                   -- JSON list of sha256 of the stored images
    duration REAL,
    error TEXT,
    cache_key TEXT
);
CREATE INDEX IF NOT EXISTS calls_day ON calls(day);
CREATE INDEX IF NOT EXISTS calls_session ON calls(session);
CREATE INDEX IF NOT EXISTS calls_budget ON calls(budget);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, ts TEXT NOT NULL);
"""


def old_ledger(path, rows):
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_1_0)
    for status, cost, reserved, until in rows:
        db.execute("INSERT INTO calls (ts, day, session, budget, provider, model, kind, prompt, params,"
                   " cost_nanos, reserved_nanos, reserved_until, status) VALUES"
                   " (datetime('now'), date('now'), 'old', 'b1', 'openai', 'gpt-image-2', 'generate',"
                   " 'p', '{}', ?, ?, ?, ?)", (cost, reserved, until, status))
    db.commit()
    db.close()


def test_a_ledger_written_by_0_1_0_migrates_and_keeps_its_money(tmp_path):
    path = tmp_path / "old.sqlite3"
    old_ledger(path, [
        ("ok", 211_000_000, 211_000_000, None),              # $0.211 paid
        ("reserved", None, 125_000_000, time.time() - 7200),  # a crash two hours ago: TTL expired in 0.1.0
        ("ok", -5_000_000, 100_000_000, None),                # a negative cost 0.1.0 booked from bad usage
    ])
    led = SQLiteLedger(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    # The expired reservation counts again (it may have been billed), the negative cost becomes
    # unknown and counts at its reservation: 0.211 + 0.125 + 0.100.
    assert led.spent(budget="b1") == Decimal("0.436")
    assert led.total() == Decimal("0.211")
    row = led.reserve(attempt(budget="b1"), Decimal("0.05"), [Cap("b1", Decimal("0.50"))])
    led.settle(row, status="ok", cost=Decimal("0.04"))
    assert led.spent(budget="b1") == Decimal("0.476")
    with pytest.raises(pp.BudgetExceeded):
        led.reserve(attempt(budget="b1"), Decimal("0.05"), [Cap("b1", Decimal("0.50"))])


def test_opening_twice_does_not_migrate_twice(tmp_path):
    path = tmp_path / "l.sqlite3"
    SQLiteLedger(path).close()
    led = SQLiteLedger(path)
    led.settle(led.reserve(attempt(), Decimal("0.01"), []), status="ok", cost=Decimal("0.01"))
    assert led.total() == Decimal("0.01")


def test_a_pre_release_ledger_missing_a_column_is_repaired(tmp_path):
    path = tmp_path / "pre.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_1_0.replace("    cache_key TEXT\n", "    error_x TEXT\n"))
    db.close()
    led = SQLiteLedger(path)
    row = led.reserve(attempt(cache_key="k"), Decimal("0.01"), [])
    led.settle(row, status="ok", cost=Decimal("0.01"))
    assert led.entries(1)[0]["cache_key"] == "k"


def test_a_ledger_from_a_newer_promptpaint_is_refused_with_advice(tmp_path):
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    db.close()
    with pytest.raises(LedgerError) as exc:
        SQLiteLedger(path)
    assert str(path) in str(exc.value) and "newer" in str(exc.value)


def test_migrations_are_ordered_and_name_both_backends():
    versions = [m.version for m in migrations.MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1)) and migrations.LATEST == versions[-1]
    assert all(m.summary and m.sqlite for m in migrations.MIGRATIONS)


def test_spent_by_day(tmp_path):
    led = SQLiteLedger(tmp_path / "l.sqlite3")
    led.settle(led.reserve(attempt(), Decimal("0.2"), []), status="ok", cost=Decimal("0.15"))
    assert led.spent(day=utc_now().date()) == Decimal("0.15")
    assert led.spent(day="1999-01-01") == 0


def test_a_corrupt_file_is_a_promptpaint_error_naming_it(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(LedgerError) as exc:
        SQLiteLedger(path).total()
    msg = str(exc.value)
    assert str(path) in msg and "move it aside" in msg.lower()
    assert isinstance(exc.value, pp.PromptpaintError)


def test_a_full_disk_is_a_promptpaint_error_naming_the_file(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    led = SQLiteLedger(path)
    led._conn().execute("PRAGMA max_page_count = 1")  # what SQLite reports when the disk is full
    with pytest.raises(LedgerError) as exc:
        for _ in range(200):
            led.reserve(attempt(prompt="x" * 3000), Decimal(0), [])
    assert str(path) in str(exc.value) and "space" in str(exc.value)


def test_a_read_only_ledger_is_a_promptpaint_error(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    led = SQLiteLedger(path)
    led._conn().execute("PRAGMA query_only = 1")  # as a read-only file or mount answers writes
    with pytest.raises(LedgerError) as exc:
        led.reserve(attempt(), Decimal("0.01"), [])
    assert str(path) in str(exc.value) and "PROMPTPAINT_HOME" in str(exc.value)


def test_the_split_ledger_keeps_every_name_callers_import_from_the_package():
    import sys

    from promptpaint import ledger as factory  # the function pp.ledger, as before

    led = sys.modules["promptpaint.ledger"]
    for name in ("Ledger", "SQLiteLedger", "Cap", "Attempt", "Totals", "LedgerError", "ledger", "utc_now",
                 "SESSION_ID", "COUNTED", "AWAITING", "Dollars", "dollars", "current_user", "nanos", "usd",
                 "NANO", "entry", "summarise", "reservation_state", "_ledgers"):
        assert hasattr(led, name), name
    assert factory() is led.ledger() and isinstance(factory(), led.SQLiteLedger)
    assert issubclass(led.SQLiteLedger, led.Ledger)
    assert led.dollars(Decimal("0.3")) == "$0.30" and repr(led.usd(300_000_000)) == "$0.30"
