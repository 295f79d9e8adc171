"""Reserve + settle on the ledger from 1, 8 and 32 processes at once, SQLite and PostgreSQL:
latency p50/p99 of one reserve+settle pair, calls per second, and the overshoot count.

Every process books as one of four users against a class cap and a per-user cap that refuse
about one attempt in ten, settling each admitted call at its full reservation, so the caps
decide. Overshoot = calls admitted beyond what a cap allows (must be 0). PostgreSQL is a
throw-away cluster this script starts with `.ci/postgres start` and the server's default
(durable) settings, over its Unix socket; SQLite is one WAL file. Processes are forked once
promptpaint is imported, and released together, so start-up is not timed.

Then one process against a ledger already holding PREFILL rows (300 users x 200 calls): a
reservation reads the class's running total and sums only the user's and the day's rows (through
indexes), so a term's worth of calls should cost it little.

    python bench/ledger.py            # BENCH_ROUNDS=N: attempts per run (default 480)
"""

from __future__ import annotations

import glob
import math
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from _setup import ROOT, isolate  # noqa: E402

isolate()

import promptpaint as pp  # noqa: E402
from promptpaint.ledger import Attempt  # noqa: E402

AMOUNT = Decimal("0.01")
ATTEMPTS = int(os.environ.get("BENCH_ROUNDS", "480"))
USERS = 4
PREFILL = 60_000


def worker(where, index, per_process, go, results):
    os.environ["PROMPTPAINT_USER"] = f"u{index % USERS}"
    led = pp.ledger(where)
    led.entries(1)  # connect before the clock starts
    times, admitted = [], 0
    go.wait()
    for _ in range(per_process):
        t = time.perf_counter()
        try:
            row = led.reserve(Attempt("gemini", "m", "generate", "p", {}, None), AMOUNT, [])
        except pp.BudgetExceeded:
            pass
        else:
            led.settle(row, status="ok", cost=AMOUNT)
            admitted += 1
        times.append(time.perf_counter() - t)
    results.put((times, admitted))


def run(where: str, procs: int) -> dict:
    per_process = max(4, ATTEMPTS // procs)
    total = per_process * procs
    # The caps bind near the end only (about one attempt in ten is refused), so the figures are
    # mostly those of admitted calls; users and the class both reach their caps.
    # Caps sit above what the ledger already holds (the prefilled run): every user starts equal.
    led = unshared(where)  # closed before forking: a child must not inherit an open connection
    base_class, base_user = led.spent(), led.spent(user="u0")
    class_room = AMOUNT * int(total * 0.9)
    user_room = AMOUNT * int(total * 0.9 * 1.05 / min(procs, USERS))
    led.set_budget("class", base_class + class_room)
    led.set_budget("user:*", base_user + user_room)
    led.close()
    ctx = mp.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    children = [ctx.Process(target=worker, args=(where, i, per_process, go, results)) for i in range(procs)]
    for c in children:
        c.start()
    time.sleep(1.0)  # let every child connect
    start = time.perf_counter()
    go.set()
    got = [results.get(timeout=600) for _ in children]
    wall = time.perf_counter() - start
    for c in children:
        c.join()
    times = sorted(t for ts, _ in got for t in ts)
    admitted = sum(a for _, a in got)
    led = unshared(where)
    users = [led.spent(user=f"u{i}") - base_user for i in range(min(procs, USERS))]
    led.close()
    overshoot = max(0, admitted - int(class_room / AMOUNT))
    overshoot += sum(max(0, math.ceil((spent - user_room) / AMOUNT)) for spent in users)
    return {"p50": statistics.median(times) * 1e3, "p99": times[int(len(times) * 0.99) - 1] * 1e3,
            "rate": len(times) / wall, "attempts": len(times), "admitted": admitted, "overshoot": overshoot}


def prefill(where: str, rows: int) -> None:
    """``rows`` settled calls by 300 users over 60 days, written straight into the table."""
    values = [(f"2026-11-{d % 28 + 1:02d}T12:00:00+00:00", f"2026-11-{d % 28 + 1:02d}", f"u{i % 300}")
              for i, d in zip(range(rows), range(rows))]
    sql = ('INSERT INTO {t}calls (ts, day, session, "user", provider, model, kind, status, cost_nanos,'
           " reserved_nanos) VALUES (?, ?, 's', ?, 'gemini', 'm', 'generate', 'ok', 60000000, 70000000)")
    if where.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(where, autocommit=True) as conn, conn.cursor() as cur:
            cur.executemany(sql.format(t="promptpaint.").replace("?", "%s"), values)
            cur.execute("ANALYZE promptpaint.calls")
    else:
        import sqlite3

        with sqlite3.connect(where) as conn:
            conn.executemany(sql.format(t=""), values)


def unshared(where: str):
    from promptpaint.ledger.postgres import PostgresLedger

    return PostgresLedger(where) if where.startswith("postgresql://") else pp.SQLiteLedger(where)


def start_postgres(folder: str) -> str | None:
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return None
    out = subprocess.run([str(ROOT / ".ci" / "postgres"), "start", folder], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def fresh_database(server: str, name: str) -> str:
    import urllib.parse

    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(server)
    url = urllib.parse.urlunsplit(parts._replace(path="/" + name))
    from promptpaint.ledger.postgres import PostgresLedger

    owner = PostgresLedger(url, check=False)
    owner.init()
    owner.close()
    return url


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="pp-bench-ledger.")
    pg_dir = tempfile.mkdtemp(prefix="pp-pg.")
    server = os.environ.get("PROMPTPAINT_BENCH_PG_URL") or start_postgres(pg_dir)
    print(f"{'backend':10} {'procs':>5} {'attempts':>8} {'admitted':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'calls/s':>8} {'overshoot':>9}")
    try:
        for backend in ("sqlite", "postgres"):
            if backend == "postgres" and server is None:
                print("postgres   skipped: no PostgreSQL (apt-get install -y postgresql)")
                continue
            for procs in (1, 8, 32):
                if backend == "sqlite":
                    where = os.path.join(tmp, f"ledger-{procs}.sqlite3")
                else:
                    where = fresh_database(server, f"bench_{procs}_{os.getpid()}")
                r = run(where, procs)
                print(f"{backend:10} {procs:>5} {r['attempts']:>8} {r['admitted']:>8} {r['p50']:>8.2f} "
                      f"{r['p99']:>8.2f} {r['rate']:>8.0f} {r['overshoot']:>9}", flush=True)
            if backend == "sqlite":
                where = os.path.join(tmp, "ledger-prefilled.sqlite3")
                unshared(where).close()
            else:
                where = fresh_database(server, f"bench_prefill_{os.getpid()}")
            prefill(where, PREFILL)
            r = run(where, 1)
            print(f"{backend:10} {1:>5} {r['attempts']:>8} {r['admitted']:>8} {r['p50']:>8.2f} "
                  f"{r['p99']:>8.2f} {r['rate']:>8.0f} {r['overshoot']:>9}   with {PREFILL} rows already",
                  flush=True)
    finally:
        if not os.environ.get("PROMPTPAINT_BENCH_PG_URL"):
            subprocess.run([str(ROOT / ".ci" / "postgres"), "stop", pg_dir], capture_output=True)
        shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
