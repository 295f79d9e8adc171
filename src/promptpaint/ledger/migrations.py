"""The ledger's schema, as ordered, numbered migrations shared by every backend.

A version number means the same tables and columns, with the same meaning, in SQLite (where it
is stored as ``PRAGMA user_version``) and in PostgreSQL (where the backend keeps it in its own
table). Add a change as the next ``Migration`` with both dialects; never edit one that shipped.

Column meanings (``calls``): ``cost_nanos`` is USD x 1e9, NULL when the cost is unknown (then
``reserved_nanos`` counts against caps); ``status`` is ``reserved`` while the call runs or after
its process died, else ``ok | refused | error | cached``; ``host``/``pid`` name the process that
holds a reservation (v2), so a dead one can be listed as interrupted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable

# Version 1: the schema promptpaint's first release shipped (SQLite only), verbatim.
V1_SQLITE = """
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

V1_COLUMNS = {  # name -> type, to repair a pre-release file that lacks one (CREATE IF NOT EXISTS skips it)
    "ts": "TEXT", "day": "TEXT", "session": "TEXT", "budget": "TEXT", "provider": "TEXT",
    "model": "TEXT", "kind": "TEXT", "prompt": "TEXT", "params": "TEXT", "usage": "TEXT",
    "cost_nanos": "INTEGER", "reserved_nanos": "INTEGER", "reserved_until": "REAL",
    "price_version": "TEXT", "status": "TEXT", "request_id": "TEXT", "images": "TEXT",
    "duration": "REAL", "error": "TEXT", "cache_key": "TEXT",
}

# The same tables in PostgreSQL (no PostgreSQL ledger shipped before v2, so its v1 is this).
V1_POSTGRES = """
CREATE TABLE IF NOT EXISTS calls (
    id BIGSERIAL PRIMARY KEY,
    ts TEXT NOT NULL,
    day TEXT NOT NULL,
    session TEXT NOT NULL,
    budget TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    prompt TEXT,
    params TEXT,
    usage TEXT,
    cost_nanos BIGINT,
    reserved_nanos BIGINT,
    reserved_until DOUBLE PRECISION,
    price_version TEXT,
    status TEXT NOT NULL,
    request_id TEXT,
    images TEXT,
    duration DOUBLE PRECISION,
    error TEXT,
    cache_key TEXT
);
CREATE INDEX IF NOT EXISTS calls_day ON calls(day);
CREATE INDEX IF NOT EXISTS calls_session ON calls(session);
CREATE INDEX IF NOT EXISTS calls_budget ON calls(budget);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, ts TEXT NOT NULL);
"""


def _v1_sqlite(db: sqlite3.Connection) -> None:
    run_script(db, V1_SQLITE)
    have = {row[1] for row in db.execute("PRAGMA table_info(calls)")}
    for name, kind in V1_COLUMNS.items():
        if name not in have:
            db.execute(f"ALTER TABLE calls ADD COLUMN {name} {kind}")


# Version 2: reservations no longer expire (``reserved_until`` is not read any more: a call that
# may have been billed keeps counting until settled or reconciled); the process holding a
# reservation is recorded; a negative cost (the first release booked one from bad usage) becomes unknown.
V2_SQLITE = """
ALTER TABLE calls ADD COLUMN host TEXT;
ALTER TABLE calls ADD COLUMN pid INTEGER;
UPDATE calls SET cost_nanos = NULL WHERE cost_nanos < 0;
UPDATE calls SET reserved_until = NULL;
CREATE INDEX IF NOT EXISTS calls_status ON calls(status);
"""

V2_POSTGRES = """
ALTER TABLE calls ADD COLUMN IF NOT EXISTS host TEXT;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS pid INTEGER;
UPDATE calls SET cost_nanos = NULL WHERE cost_nanos < 0;
UPDATE calls SET reserved_until = NULL;
ALTER TABLE calls ADD CONSTRAINT calls_cost_not_negative CHECK (cost_nanos IS NULL OR cost_nanos >= 0);
CREATE INDEX IF NOT EXISTS calls_status ON calls(status);
"""


# Version 3: a class on one ledger. Every row names its user (PROMPTPAINT_USER, JUPYTERHUB_USER or
# the OS user); caps a teacher sets once for everyone live in ``budgets``: ``scope`` is ``class``,
# ``user:*`` (each user without a cap of their own) or ``user:NAME``, ``per`` is ``total`` (all
# time) or ``day`` (UTC day), ``limit_nanos`` USD x 1e9.
V3_BUDGETS = """
CREATE TABLE IF NOT EXISTS budgets (
    scope TEXT NOT NULL,
    per TEXT NOT NULL CHECK (per IN ('total', 'day')),
    limit_nanos BIGINT NOT NULL CHECK (limit_nanos >= 0),
    set_at TEXT NOT NULL,
    PRIMARY KEY (scope, per)
);
"""


def _v3_sqlite(db: sqlite3.Connection) -> None:
    from ..clock import current_user

    db.execute("ALTER TABLE calls ADD COLUMN \"user\" TEXT NOT NULL DEFAULT ''")
    # A SQLite ledger so far belonged to one person: its rows are theirs.
    db.execute("UPDATE calls SET \"user\" = ?", (current_user(),))
    run_script(db, V3_BUDGETS + 'CREATE INDEX IF NOT EXISTS calls_user ON calls("user");')


V3_POSTGRES = """
ALTER TABLE calls ADD COLUMN IF NOT EXISTS "user" TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS calls_user ON calls("user");
""" + V3_BUDGETS


# Version 4: what counts against the class's all-time cap, kept as a running total (one row in
# ``counted``) so a reservation need not sum every row of a term: each insert, settle or delete of
# a call moves it by the change in that row's COALESCE(cost_nanos, reserved_nanos, 0) (COUNTED in
# __init__.py). SQLite keeps it with triggers here; PostgreSQL with a trigger postgres.py installs
# (its body does not split into statements the way this file's scripts do).
V4_COUNTED = """
CREATE TABLE IF NOT EXISTS counted (id INTEGER PRIMARY KEY CHECK (id = 1), nanos BIGINT NOT NULL);
INSERT INTO counted (id, nanos) SELECT 1, COALESCE(SUM(COALESCE(cost_nanos, reserved_nanos, 0)), 0) FROM calls;
"""
V4_SQLITE = V4_COUNTED + """
CREATE TRIGGER calls_counted_insert AFTER INSERT ON calls BEGIN
    UPDATE counted SET nanos = nanos + COALESCE(NEW.cost_nanos, NEW.reserved_nanos, 0);
END;
CREATE TRIGGER calls_counted_update AFTER UPDATE OF cost_nanos, reserved_nanos ON calls BEGIN
    UPDATE counted SET nanos = nanos - COALESCE(OLD.cost_nanos, OLD.reserved_nanos, 0)
                                     + COALESCE(NEW.cost_nanos, NEW.reserved_nanos, 0);
END;
CREATE TRIGGER calls_counted_delete AFTER DELETE ON calls BEGIN
    UPDATE counted SET nanos = nanos - COALESCE(OLD.cost_nanos, OLD.reserved_nanos, 0);
END;
"""


# Version 5: batch jobs (batch.py) and their lines, beside the calls they are booked on, so
# ``pp.batches()`` finds a job from any process on either backend. A job's worst case sits on one
# ``calls`` row (``reserve_row``, kind ``batch``) until collected; each line gets its own row when
# collected. ``batch_lines`` has one row per line once a collection claims it (``status``
# ``booking``, named by ``claim``) and the (job, idx) key makes that claim exclusive, so two
# sessions collecting at once book each line once; ``claimed_at`` (epoch seconds) lets a later
# collection take over a claim a dead one left. Money columns are USD as text (exact decimals).
# ``IF NOT EXISTS``: a pre-release SQLite file already has these tables (made on first use).
V5_BATCHES = """
CREATE TABLE IF NOT EXISTS batch_jobs (
    id TEXT PRIMARY KEY,          -- the provider's own job id, as it names it
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    base_url TEXT NOT NULL,       -- without any user:password part
    name TEXT,
    created TEXT NOT NULL,        -- UTC ISO time
    state TEXT NOT NULL,          -- last seen: pending, running, completed, failed, cancelling, cancelled, expired
    kind TEXT NOT NULL,           -- generate | edit
    params TEXT NOT NULL,         -- JSON, the same for every line
    prompts TEXT NOT NULL,        -- JSON list, line i is prompt i
    inputs TEXT NOT NULL,         -- JSON list: number of input images per line
    price TEXT,                   -- JSON price row the lines are booked at; NULL when unknown
    worst TEXT NOT NULL,          -- JSON list: each line's worst case (USD text, or null when unbounded)
    price_version TEXT,
    budget TEXT,                  -- the Client budget the lines count against
    reserve_row BIGINT,           -- the calls row holding the job's worst case until collected
    collected INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batch_lines (
    job TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,         -- booking | ok | refused | error | not run
    claim TEXT,                   -- which collection is booking it (while status is booking)
    claimed_at {epoch},
    ledger_row BIGINT,            -- the calls row this line is booked on
    images TEXT,                  -- JSON list of store ids
    usage TEXT,
    cost TEXT,                    -- USD as text; NULL when unknown
    text TEXT,
    request_id TEXT,
    error_type TEXT,
    error TEXT,
    PRIMARY KEY (job, idx)
);
"""
# The user whose caps the lines count against (the submitter, whoever collects); added apart
# because a pre-release SQLite file has batch_jobs without it.
V5_JOB_USER = """ALTER TABLE batch_jobs ADD COLUMN {exists}"user" TEXT NOT NULL DEFAULT '';"""


def _v5_sqlite(db: sqlite3.Connection) -> None:
    run_script(db, V5_BATCHES.format(epoch="REAL"))
    if "user" not in {row[1] for row in db.execute("PRAGMA table_info(batch_jobs)")}:
        from ..clock import current_user

        run_script(db, V5_JOB_USER.format(exists=""))
        db.execute('UPDATE batch_jobs SET "user" = ?', (current_user(),))  # a file was one person's


V5_POSTGRES = V5_BATCHES.format(epoch="DOUBLE PRECISION") + V5_JOB_USER.format(exists="IF NOT EXISTS ")


# Version 6: the class gateway (promptpaint/gateway). ``gateway_tokens`` holds only a SHA-256 of
# each student's token (``ppg_...``, shown once when made) and whose it is; ``revoked`` is the UTC
# time it stopped working. ``rates`` caps requests per minute for ``user:*`` or ``user:NAME``.
# PostgreSQL also records which login role reserved each row (``role``), so a kernel role may
# settle only its own rows; and an index serves the gateway's per-user rate count.
V6_GATEWAY = """
CREATE TABLE IF NOT EXISTS gateway_tokens (
    hash TEXT PRIMARY KEY,
    "user" TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked TEXT
);
CREATE INDEX IF NOT EXISTS gateway_tokens_user ON gateway_tokens("user");
CREATE TABLE IF NOT EXISTS rates (
    scope TEXT PRIMARY KEY,
    per_minute INTEGER NOT NULL CHECK (per_minute >= 0),
    set_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_user_ts ON calls("user", ts);
"""
V6_POSTGRES = V6_GATEWAY + """
ALTER TABLE calls ADD COLUMN IF NOT EXISTS role TEXT NOT NULL DEFAULT session_user;
ALTER TABLE batch_jobs ADD COLUMN IF NOT EXISTS role TEXT NOT NULL DEFAULT session_user;
ALTER TABLE batch_lines ADD COLUMN IF NOT EXISTS role TEXT NOT NULL DEFAULT session_user;
"""


# Version 7: a cost priced above the call's reservation (or a batch line's worst case) is kept as
# reported in ``reported_nanos`` and booked as unknown (``cost_nanos`` NULL), so it counts at its
# reservation until someone reconciles it (``promptpaint ledger reconcile ID --cost X``).
def _v7_sqlite(db: sqlite3.Connection) -> None:
    # SQLite has no ADD COLUMN IF NOT EXISTS; a file relabelled to an older version may have it.
    if "reported_nanos" not in {row[1] for row in db.execute("PRAGMA table_info(calls)")}:
        db.execute("ALTER TABLE calls ADD COLUMN reported_nanos INTEGER")



V7_POSTGRES = "ALTER TABLE calls ADD COLUMN IF NOT EXISTS reported_nanos BIGINT;"


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    sqlite: str | Callable[[sqlite3.Connection], None]
    postgres: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "calls and cache tables as promptpaint's first release shipped them", _v1_sqlite, V1_POSTGRES),
    Migration(2, "reservations never expire; host/pid of the reserving process; no negative cost",
              V2_SQLITE, V2_POSTGRES),
    Migration(3, "a user on every row; caps stored in the ledger (budgets)", _v3_sqlite, V3_POSTGRES),
    Migration(4, "a running total of what counts against the class cap", V4_SQLITE, V4_COUNTED),
    Migration(5, "batch jobs and their lines, found again from any process", _v5_sqlite, V5_POSTGRES),
    Migration(6, "gateway tokens (hashes only) and request rates; who reserved each row (PostgreSQL)",
              V6_GATEWAY, V6_POSTGRES),
    Migration(7, "a cost above the reservation kept as reported, counted at the reservation until reconciled",
              _v7_sqlite, V7_POSTGRES),
)
LATEST = MIGRATIONS[-1].version


def statements(script: str) -> list[str]:
    """``script`` split into statements (SQLite's own parser decides where one ends, so a ``;``
    inside a comment or a string does not split)."""
    out, buf = [], ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out


def run_script(db, script: str) -> None:
    # Not executescript(): it commits first, and a migration must stay inside our transaction.
    for stmt in statements(script):
        db.execute(stmt)


def migrate_sqlite(db: sqlite3.Connection, newer: Callable[[int], Exception]) -> int:
    """Bring ``db`` to ``LATEST`` in one transaction; return the version it had.

    ``BEGIN IMMEDIATE`` takes the write lock first, so two processes opening the same old file at
    once migrate it once. ``newer(version)`` builds the error for a file from a newer promptpaint.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > LATEST:
            raise newer(found)
        for m in MIGRATIONS:
            if m.version > found:
                m.sqlite(db) if callable(m.sqlite) else run_script(db, m.sqlite)
        if found != LATEST:
            db.execute(f"PRAGMA user_version = {LATEST}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return found
