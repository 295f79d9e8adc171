"""Every ledger test file gets the PostgreSQL fixtures of tests/pgserver.py from here (no file
imports them itself), and ``backend``: one test on SQLite and on PostgreSQL, as alice."""

import pytest

from pgserver import ledger_at, pg_db, pg_ledger, pg_role, pg_server, pgbouncer  # noqa: F401  (fixtures)


@pytest.fixture
def backend(ledger_at, monkeypatch):
    """What PROMPTPAINT_LEDGER names for this test (a SQLite file, then a fresh PostgreSQL ledger),
    with alice at the keyboard."""
    monkeypatch.setenv("PROMPTPAINT_USER", "alice")
    return ledger_at
