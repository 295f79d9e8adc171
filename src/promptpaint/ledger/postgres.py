"""The ledger on PostgreSQL: one ledger a whole class shares, with the same rows, rules and schema
versions as the SQLite ledger.

Every table lives in the schema ``promptpaint``, named in full in every statement, so a connection
needs no ``search_path`` or any other session state: each method is one transaction on an
autocommit connection, server-side prepared statements are off, and locks are transaction-level,
so it works behind PgBouncer in transaction mode.

A reservation is one call of the server-side function ``promptpaint.reserve``: it takes one
transaction-level advisory lock, reads what counts against the caps (the class's running total,
the user's and the day's rows through indexes) and inserts the row; every
reservation takes the same lock, so two kernels on two machines cannot both see room for one
call, and the lock is held only while the server works, never across a network round trip.
Settling never needs it: it only replaces a reservation by a cost, in one UPDATE.

The URL's password (or PGPASSWORD's) never appears in a message: errors from the driver are
rewritten with the password removed and raised without their cause, and the URL's repr hides it.
"""

from __future__ import annotations

import datetime as dt

import json
import os
import re
import threading
import urllib.parse
from decimal import Decimal

from .. import redact
from ..clock import HOST, utc_now
from ..errors import LedgerError
from ..money import nanos
from . import budgets
from .attempt import Attempt
from .base import Ledger
from .queries import over_note
from .state import COUNTED, bounded, entry
from .migrations import LATEST, MIGRATIONS, statements
from .pg_pool import DENIED_HINT, HINT, PooledConnections  # noqa: F401  (hints: old import path)

SCHEMA = "promptpaint"
T = SCHEMA + "."
RESERVE_LOCK = 0x70705F6C6564  # "pp_led": the one lock every reservation takes, per database
KEEP_IDLE = 4  # connections kept open between calls; a kernel rarely runs more at once
# The most one reservation may hold ($10,000): more is a forged or broken caller, not a call. A
# kernel role may settle its own row at no more than its reservation (or this, when unknown).
MOST_NANOS = 10_000 * 10**9

# Reserve in one round trip: the lock is held only while the server runs this, never while a busy
# client process waits for the CPU between statements. The checks are budgets._checks, in the
# same order with the same codes (the shared tests hold both to one behaviour). SECURITY DEFINER:
# a kernel's role may run it without any right to insert rows itself.
RESERVE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.reserve(
    p_ts text, p_day text, p_session text, p_budget text, p_user text, p_provider text,
    p_model text, p_kind text, p_prompt text, p_params text, p_need bigint,
    p_price_version text, p_cache_key text, p_host text, p_pid integer,
    p_caps text[], p_limits bigint[])
RETURNS TABLE (row_id bigint, refused_by text, cap_nanos bigint, spent_nanos bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $fn$
DECLARE
    s record;
    lim bigint;
    rid bigint;
    need bigint := COALESCE(p_need, 0);
    -- The time and day are the server's: a caller's clock (or a forged day) cannot move a row
    -- out of today's caps. p_ts and p_day are kept in the signature for older clients, unread.
    v_ts text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00';
    v_day text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD');
BEGIN
    IF p_need IS NOT NULL AND (p_need < 0 OR p_need > {MOST_NANOS}) THEN
        RAISE EXCEPTION 'a reservation of % nanodollars is not one promptpaint makes (0 to %)',
            p_need, {MOST_NANOS} USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock({RESERVE_LOCK});
    -- Each sum through an index; the class's all-time total is the running total (migration 4).
    SELECT (SELECT COALESCE(SUM({COUNTED}), 0) FROM calls WHERE "user" = p_user)::bigint AS user_all,
           (SELECT COALESCE(SUM({COUNTED}), 0) FROM calls WHERE "user" = p_user AND day = v_day)::bigint AS user_day,
           (SELECT nanos FROM counted) AS class_all,
           (SELECT COALESCE(SUM({COUNTED}), 0) FROM calls WHERE day = v_day)::bigint AS class_day,
           (SELECT COALESCE(SUM({COUNTED}), 0) FROM calls WHERE budget = p_budget)::bigint AS by_budget
      INTO s;
    lim := COALESCE((SELECT limit_nanos FROM budgets WHERE scope = 'user:' || p_user AND per = 'total'),
                    (SELECT limit_nanos FROM budgets WHERE scope = 'user:*' AND per = 'total'));
    IF lim IS NOT NULL AND s.user_all + need > lim THEN
        RETURN QUERY SELECT NULL::bigint, 'user'::text, lim, s.user_all; RETURN;
    END IF;
    lim := COALESCE((SELECT limit_nanos FROM budgets WHERE scope = 'user:' || p_user AND per = 'day'),
                    (SELECT limit_nanos FROM budgets WHERE scope = 'user:*' AND per = 'day'));
    IF lim IS NOT NULL AND s.user_day + need > lim THEN
        RETURN QUERY SELECT NULL::bigint, 'user_day'::text, lim, s.user_day; RETURN;
    END IF;
    lim := (SELECT limit_nanos FROM budgets WHERE scope = 'class' AND per = 'total');
    IF lim IS NOT NULL AND s.class_all + need > lim THEN
        RETURN QUERY SELECT NULL::bigint, 'class'::text, lim, s.class_all; RETURN;
    END IF;
    lim := (SELECT limit_nanos FROM budgets WHERE scope = 'class' AND per = 'day');
    IF lim IS NOT NULL AND s.class_day + need > lim THEN
        RETURN QUERY SELECT NULL::bigint, 'class_day'::text, lim, s.class_day; RETURN;
    END IF;
    FOR i IN 1 .. COALESCE(array_length(p_caps, 1), 0) LOOP
        IF p_caps[i] = 'day' AND s.user_day + need > p_limits[i] THEN
            RETURN QUERY SELECT NULL::bigint, 'day'::text, p_limits[i], s.user_day; RETURN;
        ELSIF p_caps[i] <> 'day' AND s.by_budget + need > p_limits[i] THEN
            RETURN QUERY SELECT NULL::bigint, 'budget'::text, p_limits[i], s.by_budget; RETURN;
        END IF;
    END LOOP;
    INSERT INTO calls (ts, day, session, budget, "user", provider, model, kind, prompt, params,
                       reserved_nanos, price_version, status, cache_key, host, pid)
    VALUES (v_ts, v_day, p_session, p_budget, p_user, p_provider, p_model, p_kind, p_prompt,
            p_params, p_need, p_price_version, 'reserved', p_cache_key, p_host, p_pid)
    RETURNING id INTO rid;
    RETURN QUERY SELECT rid, NULL::text, NULL::bigint, NULL::bigint;
END
$fn$;
REVOKE ALL ON FUNCTION {SCHEMA}.reserve FROM PUBLIC;
"""

# Keeps ``counted`` (migration 4) equal to the sum of COUNTED over every row: each change to a row
# moves it by the change in that row's COUNTED. SECURITY DEFINER: a kernel settling its call has
# no right to the table itself.
COUNTED_TRIGGER = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.calls_counted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $fn$
BEGIN
    UPDATE counted SET nanos = nanos
        - CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN COALESCE(OLD.cost_nanos, OLD.reserved_nanos, 0) ELSE 0 END
        + CASE WHEN TG_OP IN ('UPDATE', 'INSERT') THEN COALESCE(NEW.cost_nanos, NEW.reserved_nanos, 0) ELSE 0 END;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION {SCHEMA}.calls_counted FROM PUBLIC;
DROP TRIGGER IF EXISTS calls_counted ON {SCHEMA}.calls;
CREATE TRIGGER calls_counted AFTER INSERT OR DELETE OR UPDATE OF cost_nanos, reserved_nanos
    ON {SCHEMA}.calls FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.calls_counted();
"""



def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise LedgerError(
            "PROMPTPAINT_LEDGER is a postgresql:// URL, but the PostgreSQL driver is not installed.",
            hint="pip install 'promptpaint[postgres]' (psycopg 3), then restart the kernel.") from None
    return psycopg


# libpq takes a password in the query too (``?password=``, ``&sslpassword=``): hidden like userinfo.
_SECRET_PARAM = re.compile(r"(?i)pass|pwd|secret|token")


def _query_secrets(url: str) -> list[str]:
    query = urllib.parse.urlsplit(str(url)).query
    return [v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if _SECRET_PARAM.search(k) and v]


def describe(url: str) -> str:
    """``url`` without its password, in the userinfo (``redact.redact_url``) or the query
    (``?password=``): safe for any message, a repr, the CLI or the widget's error card."""
    shown = redact.redact_url(str(url))
    head, sep, query = shown.partition("?")
    if not sep:
        return shown
    query, hash_, fragment = query.partition("#")
    pieces = []
    for piece in query.split("&"):  # textually, so the rest keeps its own encoding
        name, eq, value = piece.partition("=")
        secret = eq and value and _SECRET_PARAM.search(urllib.parse.unquote_plus(name))
        pieces.append(f"{name}={redact.CREDENTIALS}" if secret and redact.CREDENTIALS not in value else piece)
    return head + sep + "&".join(pieces) + hash_ + fragment


def _secrets(url: str) -> tuple[str, ...]:
    """The passwords a message about ``url`` must not show, registered with ``redact`` so every
    other message promptpaint builds is scrubbed of them too."""
    password = urllib.parse.urlsplit(url).password
    found = tuple(s for s in (password, urllib.parse.unquote(password or ""), os.environ.get("PGPASSWORD"),
                              *_query_secrets(url)) if s)
    for s in found:
        redact.register(s)
    return found


class DatabaseURL(str):
    """A ledger URL that shows itself without its password: in a ``repr``, and so in a traceback
    that prints each frame's locals (IPython's verbose mode). libpq still gets the whole URL."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(describe(self))


class PostgresLedger(PooledConnections, budgets.CapsInLedger, Ledger):
    """``PostgresLedger("postgresql://kernel@db.example/course")``: libpq reads the rest
    (PGPASSWORD, ~/.pgpass, PGSSLMODE...). Run ``init()`` once as the database owner
    (``promptpaint ledger init URL``); kernels then only read and book."""

    def __init__(self, url: str, *, check: bool = True):
        url = DatabaseURL(url)
        self._secrets = _secrets(url)  # a helper: no local here holds a password for a traceback
        self._psycopg = _psycopg()
        self._url = url
        self.where = describe(url)
        self._pool_lock = threading.Lock()
        self._idle: list = []  # connections between transactions, shared by every thread
        self._pid = os.getpid()
        if check:
            self._check_version()

    _tables = T  # for the shared SQL (CapsInLedger, SQLReads)
    keep_idle = KEEP_IDLE  # a server (the gateway) keeps more, one per worker thread
    _placeholder = "%s"

    def __repr__(self) -> str:
        return f"PostgresLedger({self.where!r})"

    def _write(self, sql: str, args=()) -> int:
        """Run one statement in its own transaction; return how many rows it changed."""
        return self._run(lambda cur: cur.execute(sql.replace("?", "%s"), args).rowcount)

    def _read(self, sql: str, args=(), *, retry: bool = True) -> list:
        """Rows of one statement; a read is run again once on a fresh connection if a pooled one
        had died (``retry=False`` for a statement that writes, such as ``reserve()``)."""
        return self._run(lambda cur: cur.execute(sql.replace("?", "%s"), args).fetchall(), retry=retry)

    def day(self) -> dt.date:
        # reserve() books the server's UTC date; "today" in reports and cap checks is the same one.
        return dt.date.fromisoformat(self._read("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')")[0][0])

    # -- schema ----------------------------------------------------------------------------------
    def version(self) -> int:
        if not self._read("SELECT to_regclass(%s) IS NOT NULL", (T + "schema_version",))[0][0]:
            return 0
        return self._read(f"SELECT version FROM {T}schema_version")[0][0]

    def _check_version(self) -> None:
        have = self.version()
        if have < LATEST:
            raise LedgerError(
                f"The ledger at {self.where} has schema version {have}; this promptpaint needs {LATEST}.",
                hint="The database owner (the teacher) runs `promptpaint ledger init URL`, and "
                     "`promptpaint ledger grant URL ROLE` for the role kernels connect as.", path=self.where)
        if have > LATEST:
            raise LedgerError(
                f"The ledger at {self.where} was written by a newer promptpaint (schema {have}, "
                f"this one knows {LATEST}).", hint="pip install -U promptpaint", path=self.where)

    def init(self) -> int:
        """Create or migrate the schema (as the database owner); return the version it had."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (RESERVE_LOCK,))  # one migrator at a time
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            if cur.execute("SELECT to_regclass(%s)", (T + "calls",)).fetchone()[0]:
                # No settle may land between the running total's backfill and its trigger.
                cur.execute(f"LOCK TABLE {T}calls IN SHARE ROW EXCLUSIVE MODE")
            # The shared migrations name tables unqualified; SET LOCAL ends with this transaction.
            cur.execute(f"SET LOCAL search_path = {SCHEMA}")
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            cur.execute("SELECT version FROM schema_version")
            row = cur.fetchone()
            found = row[0] if row else 0
            if row is None:
                cur.execute("INSERT INTO schema_version VALUES (0)")
            if found > LATEST:
                raise LedgerError(f"The ledger at {self.where} was written by a newer promptpaint "
                                  f"(schema {found}).", hint="pip install -U promptpaint", path=self.where)
            for m in MIGRATIONS:
                if m.version > found:
                    for stmt in statements(m.postgres):
                        cur.execute(stmt)
            cur.execute("UPDATE schema_version SET version = %s", (LATEST,))
            cur.execute(RESERVE_FUNCTION)
            cur.execute(COUNTED_TRIGGER)
        return found

    def grant(self, role: str) -> None:
        """What a kernel logged in as ``role`` may do (``pg_grant.py``): for one person or a
        trusted team; a class goes through the gateway."""
        from .pg_grant import statements as grants

        with self._tx() as cur:
            for stmt in grants(self._psycopg.sql, SCHEMA, role, MOST_NANOS):
                cur.execute(stmt)

    # -- the Ledger interface --------------------------------------------------------------------
    def reserve(self, attempt: Attempt, amount: Decimal | None, caps) -> int:
        now = utc_now()
        need = nanos(amount)
        rid, code, limit, spent = self._read(
            f"SELECT * FROM {T}reserve(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (now.isoformat(), now.date().isoformat(), attempt.session, attempt.budget, attempt.user,
             attempt.provider, attempt.model, attempt.kind, attempt.prompt,
             json.dumps(attempt.params, sort_keys=True, default=str), need,
             attempt.price_version, attempt.cache_key, HOST, os.getpid(),
             [c.scope for c in caps], [nanos(c.limit) for c in caps]), retry=False)[0]
        if rid is None:
            raise budgets.refusal(code, attempt.user, limit, spent, need or 0)
        return rid

    def settle(self, row, *, status, cost, usage=None, request_id=None, images=None,
               duration=None, error=None, bound=None):
        if cost is not None and cost < 0:
            error = "; ".join(filter(None, [error, f"a negative cost ({cost}) was booked as unknown"]))
            cost = None
        # Idempotent on the row id (only a row still reserved changes): safe to retry on a new connection.
        def work(cur):
            got = cur.execute(f"SELECT reserved_nanos FROM {T}calls WHERE id=%s AND status = 'reserved'",
                              (row,)).fetchone()
            if got is None:
                return  # settled rows stay as booked
            booked, reported = bounded(nanos(cost), got[0], nanos(bound))
            note = error
            if reported is not None:
                note = "; ".join(filter(None, [error, over_note(reported, nanos(bound) or got[0])]))
            cur.execute(
                f"UPDATE {T}calls SET status=%s, cost_nanos=%s, reported_nanos=%s, usage=%s, request_id=%s,"
                " images=%s, duration=%s, error=%s WHERE id=%s AND status = 'reserved'",
                (status, booked, reported, json.dumps(usage) if usage is not None else None,
                 request_id, json.dumps(images or []), duration, note, row))

        self._run(work, retry=True)

    def entries(self, limit=50, *, user=None) -> list[dict]:
        where, args = self._where(user=user)
        def work(cur):
            cur.execute(f"SELECT * FROM {T}calls WHERE {where} ORDER BY id DESC LIMIT %s", (*args, limit))
            return [c.name for c in cur.description], cur.fetchall()

        names, rows = self._run(work, retry=True)  # a read: safe to run again on a fresh connection
        return [entry(dict(zip(names, values))) for values in rows]

    def cache_get(self, key):
        got = self._read(f"SELECT value FROM {T}cache WHERE key = %s", (key,))
        return json.loads(got[0][0]) if got else None

    def cache_put(self, key, value):
        # An upsert of the same value: as safe to run twice as a read.
        self._run(lambda cur: cur.execute(f"INSERT INTO {T}cache (key, value, ts) VALUES (%s, %s, %s) ON CONFLICT"
                                          " (key) DO UPDATE SET value = excluded.value, ts = excluded.ts",
                                          (key, json.dumps(value), utc_now().isoformat())), retry=True)

    def close(self) -> None:
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
