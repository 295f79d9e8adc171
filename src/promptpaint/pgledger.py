"""The ledger on PostgreSQL: one ledger a whole class shares, with the same rows, rules and schema
versions as the SQLite ledger.

Every table lives in the schema ``promptpaint``, named in full in every statement, so a connection
needs no ``search_path`` or any other session state: each method is one transaction on an
autocommit connection, server-side prepared statements are off, and locks are transaction-level,
so it works behind PgBouncer in transaction mode.

A reservation takes one transaction-level advisory lock before it reads what counts against the
caps and inserts its row; every reservation takes the same lock, so two kernels on two machines
cannot both see room for one call. Settling never needs it: it only replaces a reservation by a
cost.

The URL's password (or PGPASSWORD's, or .pgpass's) never appears in a message: errors from the
driver are rewritten with the password removed and raised without their cause.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import urllib.parse
from contextlib import contextmanager
from decimal import Decimal

from . import ledger_budgets as rules
from .errors import PromptpaintError
from .ledger import Attempt, Ledger, utc_now

SCHEMA = "promptpaint"
T = SCHEMA + "."
RESERVE_LOCK = 0x70705F6C6564  # "pp_led": the one lock every reservation takes, per database

# (version, statements). The versions and column meanings are the SQLite ledger's; types are
# PostgreSQL's own (bigint nanodollars, timestamptz, date).
MIGRATIONS: list[tuple[int, str]] = [
    (1, f"""
CREATE TABLE {T}calls (
    id BIGSERIAL PRIMARY KEY,
    ts TIMESTAMPTZ NOT NULL,
    day DATE NOT NULL,
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
CREATE INDEX calls_day ON {T}calls(day);
CREATE INDEX calls_session ON {T}calls(session);
CREATE INDEX calls_budget ON {T}calls(budget);
CREATE TABLE {T}cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, ts TIMESTAMPTZ NOT NULL);
"""),
    (2, f"""
ALTER TABLE {T}calls ADD COLUMN "user" TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_user ON {T}calls("user");
CREATE TABLE {T}budgets (
    scope TEXT NOT NULL,
    per TEXT NOT NULL,
    limit_nanos BIGINT NOT NULL,
    set_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, per)
);
"""),
]
VERSION = MIGRATIONS[-1][0]


class LedgerUnavailable(PromptpaintError):
    hint = ("Check PROMPTPAINT_LEDGER (a postgresql:// URL), that the server is up, and the role's "
            "password (PGPASSWORD or ~/.pgpass).")


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise LedgerUnavailable(
            "PROMPTPAINT_LEDGER is a postgresql:// URL, but the PostgreSQL driver is not installed.",
            hint="pip install 'promptpaint[postgres]' (psycopg 3), then restart the kernel.") from None
    return psycopg


def describe(url: str) -> str:
    """``url`` without its password: safe for any message."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = urllib.parse.quote(parts.username or "", safe="") + ":***"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc[1]}"))


class PostgresLedger(Ledger):
    """``PostgresLedger("postgresql://kernel@db.example/course")``: libpq reads the rest
    (PGPASSWORD, ~/.pgpass, PGSSLMODE...). Run ``init()`` once as the database owner
    (``promptpaint ledger init URL``); kernels then only read and book."""

    def __init__(self, url: str, *, check: bool = True):
        self._psycopg = _psycopg()
        self._url = url
        self.where = describe(url)
        self._secrets = tuple(s for s in (urllib.parse.urlsplit(url).password,
                                          urllib.parse.unquote(urllib.parse.urlsplit(url).password or ""),
                                          os.environ.get("PGPASSWORD")) if s)
        self._local = threading.local()
        if check:
            self._check_version()

    def __repr__(self) -> str:
        return f"PostgresLedger({self.where!r})"

    # -- connections and errors ------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or self._local.pid != os.getpid():
            # prepare_threshold=None: no server-side prepared statements, which PgBouncer's
            # transaction mode would hand to another client's connection.
            conn = self._psycopg.connect(self._url, autocommit=True, prepare_threshold=None,
                                         connect_timeout=10, application_name="promptpaint")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _tx(self):
        """One transaction; any driver error becomes a LedgerUnavailable without the password."""
        error = None
        try:
            conn = self._conn()
            with conn.transaction():
                yield conn.cursor()
        except self._psycopg.Error as exc:
            if getattr(self._local, "conn", None) is not None and self._local.conn.closed:
                self._local.conn = None
            error = f"{type(exc).__name__}: {exc}".strip()
        if error is not None:
            raise LedgerUnavailable(f"The ledger at {self.where} failed: {self._scrub(error)}")

    def _fetch(self, sql: str, args=()) -> list:
        with self._tx() as cur:
            cur.execute(sql.replace("?", "%s"), args)
            return cur.fetchall()

    # -- schema ----------------------------------------------------------------------------------
    def version(self) -> int:
        rows = self._fetch("SELECT to_regclass(%s) IS NOT NULL", (T + "schema_version",))
        if not rows[0][0]:
            return 0
        return self._fetch(f"SELECT version FROM {T}schema_version")[0][0]

    def _check_version(self) -> None:
        have = self.version()
        if have < VERSION:
            raise LedgerUnavailable(
                f"The ledger at {self.where} has schema version {have}; this promptpaint needs {VERSION}.",
                hint="The database owner (the teacher) runs: promptpaint ledger init URL")
        if have > VERSION:
            raise LedgerUnavailable(
                f"The ledger at {self.where} was written by a newer promptpaint (schema {have}, "
                f"this one knows {VERSION}).", hint="pip install -U promptpaint")

    def init(self) -> int:
        """Create or migrate the schema (as the database owner); returns the version reached."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (RESERVE_LOCK,))  # one migrator at a time
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {T}schema_version (version INTEGER NOT NULL)")
            cur.execute(f"SELECT version FROM {T}schema_version")
            row = cur.fetchone()
            have = row[0] if row else 0
            if row is None:
                cur.execute(f"INSERT INTO {T}schema_version VALUES (0)")
            for version, sql in MIGRATIONS:
                if version > have:
                    cur.execute(sql)
                    cur.execute(f"UPDATE {T}schema_version SET version = %s", (version,))
        return VERSION

    def grant(self, role: str) -> None:
        """What a kernel logged in as ``role`` may do: read the ledger, book and settle its calls,
        use the cache. It cannot change a budget, delete a row or rewrite a settled one."""
        sql = self._psycopg.sql
        r = sql.Identifier(role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA {s} TO {r}"),
            sql.SQL("GRANT SELECT ON {s}.calls, {s}.budgets, {s}.schema_version TO {r}"),
            sql.SQL("GRANT INSERT ON {s}.calls TO {r}"),
            sql.SQL("GRANT UPDATE (status, cost_nanos, usage, request_id, images, duration, error,"
                    " reserved_until) ON {s}.calls TO {r}"),
            sql.SQL("GRANT USAGE ON SEQUENCE {s}.calls_id_seq TO {r}"),
            sql.SQL("GRANT SELECT, INSERT, UPDATE ON {s}.cache TO {r}"),
            # Row security: a kernel inserts only reservations and settles only rows still reserved.
            sql.SQL("ALTER TABLE {s}.calls ENABLE ROW LEVEL SECURITY"),
            sql.SQL("DROP POLICY IF EXISTS kernel_read ON {s}.calls"),
            sql.SQL("DROP POLICY IF EXISTS kernel_book ON {s}.calls"),
            sql.SQL("DROP POLICY IF EXISTS kernel_settle ON {s}.calls"),
            sql.SQL("CREATE POLICY kernel_read ON {s}.calls FOR SELECT USING (true)"),
            sql.SQL("CREATE POLICY kernel_book ON {s}.calls FOR INSERT WITH CHECK (status = 'reserved')"),
            sql.SQL("CREATE POLICY kernel_settle ON {s}.calls FOR UPDATE USING (status = 'reserved')"
                    " WITH CHECK (status <> 'reserved')"),
        ]
        with self._tx() as cur:
            for stmt in statements:
                cur.execute(stmt.format(s=sql.Identifier(SCHEMA), r=r))

    # -- the Ledger interface --------------------------------------------------------------------
    def reserve(self, attempt: Attempt, amount: Decimal | None, caps) -> int:
        now = utc_now()
        need = rules.nanos(amount) or 0
        user = getattr(attempt, "user", None) or rules.current_user()
        refused = None
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (RESERVE_LOCK,))

            def fetch(q, args):
                cur.execute(q.replace("?", "%s"), args)
                return cur.fetchall()

            try:
                rules.admit(fetch, T, user=user, day=now.date(), budget=attempt.budget, need=need,
                            client_caps=caps)
            except PromptpaintError as exc:
                refused = exc  # leave the transaction normally; nothing was written
            else:
                cur.execute(
                    f'INSERT INTO {T}calls (ts, day, session, budget, "user", provider, model, kind,'
                    " prompt, params, reserved_nanos, price_version, status, cache_key)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'reserved',%s) RETURNING id",
                    (now, now.date(), attempt.session, attempt.budget, user, attempt.provider,
                     attempt.model, attempt.kind, attempt.prompt,
                     json.dumps(attempt.params, sort_keys=True, default=str), need,
                     attempt.price_version, attempt.cache_key))
                row = cur.fetchone()[0]
        if refused is not None:
            raise refused
        return row

    def settle(self, row, *, status, cost, usage=None, request_id=None, images=None,
               duration=None, error=None):
        with self._tx() as cur:
            cur.execute(
                f"UPDATE {T}calls SET status=%s, cost_nanos=%s, usage=%s, request_id=%s, images=%s,"
                " duration=%s, error=%s WHERE id=%s AND status = 'reserved'",
                (status, rules.nanos(cost), json.dumps(usage) if usage is not None else None,
                 request_id, json.dumps(images or []), duration, error, row))

    def total(self, *, session=None, day=None, budget=None, user=None) -> Decimal:
        where, args = ["status <> 'reserved'"], []
        for column, value in (("session", session), ("day", day), ("budget", budget), ('"user"', user)):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        return rules.usd(self._fetch(
            f"SELECT COALESCE(SUM(cost_nanos), 0) FROM {T}calls WHERE " + " AND ".join(where), args)[0][0])

    def spent(self, *, budget=None, day=None, user=None) -> Decimal:
        """What counts against a cap: known costs, and reservations of running, interrupted and
        unknown-cost calls."""
        where, args = ["TRUE"], []
        for column, value in (("budget", budget), ("day", day), ('"user"', user)):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        return rules.usd(self._fetch(f"SELECT COALESCE(SUM({rules.COUNTED}), 0) FROM {T}calls WHERE "
                                     + " AND ".join(where), args)[0][0])

    def unknown_cost_calls(self) -> int:
        return self._fetch(f"SELECT COUNT(*) FROM {T}calls WHERE status <> 'reserved'"
                           " AND cost_nanos IS NULL")[0][0]

    def entries(self, limit=50) -> list[dict]:
        with self._tx() as cur:
            cur.execute(f"SELECT * FROM {T}calls ORDER BY id DESC LIMIT %s", (limit,))
            names = [c.name for c in cur.description]
            rows = cur.fetchall()
        out = []
        for values in rows:
            row = dict(zip(names, values))
            for k in ("params", "usage", "images"):
                row[k] = json.loads(row[k]) if row[k] else None
            row["ts"] = row["ts"].isoformat()
            row["day"] = row["day"].isoformat()
            row["cost"] = rules.usd(row.pop("cost_nanos"))
            row.pop("reserved_until")
            row["reserved"] = rules.usd(row.pop("reserved_nanos"))
            out.append(row)
        return out

    def cache_get(self, key):
        got = self._fetch(f"SELECT value FROM {T}cache WHERE key = %s", (key,))
        return json.loads(got[0][0]) if got else None

    def cache_put(self, key, value):
        self._fetch(f"INSERT INTO {T}cache (key, value, ts) VALUES (%s, %s, %s) ON CONFLICT (key)"
                    " DO UPDATE SET value = excluded.value, ts = excluded.ts RETURNING key",
                    (key, json.dumps(value), utc_now()))

    # -- caps stored in the ledger and the teacher's report --------------------------------------
    def set_budget(self, scope: str, limit, per: str | None = None) -> None:
        """Cap ``scope`` ('class', 'user:*', 'user:NAME') at ``limit`` dollars, for all time or
        ``per='day'``; ``limit=None`` removes the cap."""
        scope, period = rules.check_scope(scope), rules.check_per(per)
        with self._tx() as cur:
            if limit is None:
                cur.execute(rules.UNSET.format(t=T).replace("?", "%s"), (scope, period))
            else:
                cur.execute(rules.SET.format(t=T).replace("?", "%s"),
                            (scope, period, rules.nanos(rules.check_limit(limit)), utc_now()))

    def budgets(self) -> list[dict]:
        return rules.budget_rows(self._fetch(rules.LIST.format(t=T)))

    def totals(self, by: str = "user", day: dt.date | str | None = None) -> list[dict]:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        return rules.totals(self._fetch, T, by=by, day=day)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
