"""The class gateway's cost: what it adds to a call and to the first streamed preview, against
calling the (local fake) provider directly; and reserve+settle on PostgreSQL with 64 students at
once, with the overshoot against the caps and against the fake's own bill (must be 0).

1. One student, one gateway (`promptpaint gateway serve`, a subprocess, ledger on PostgreSQL),
   the fake provider in its own process: median and p90 of N plain calls and of the time to the
   first preview of a streamed call, direct vs through the gateway (and the ratio).
2. 64 students at once across two gateway processes on one PostgreSQL ledger under `user:*` and
   `class` caps, each calling until refused: per-call p50/p99 through the gateway, calls/s, and
   the overshoot of each user's and the class's bill (the fake's own record) over its cap.
3. The ledger path alone, as the gateways run it (reserve() then settle(), one pair per call),
   64 threads in 2 processes: p50/p99 and overshoot.

    python bench/gateway.py          # BENCH_ROUNDS=N calls in part 1 (default 40)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

from _setup import ROOT, isolate  # noqa: E402

isolate()

import requests  # noqa: E402

from _fakeproc import FakeProcess  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
STUDENTS = 64


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def ms(x):
    return f"{x * 1000:7.1f} ms"


def start_postgres(folder):
    out = subprocess.run([str(ROOT / ".ci" / "postgres"), "start", folder, "-c", "max_connections=300"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print("no PostgreSQL (.ci/postgres start failed):", out.stderr.strip()[-300:])
        return None
    return out.stdout.strip()


def database(server):
    import psycopg

    from pgserver import with_database

    name = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    from promptpaint.ledger.postgres import PostgresLedger

    led = PostgresLedger(url, check=False)
    led.init()
    led.close()
    return url


def first_event(url, headers, body):
    t = time.perf_counter()
    with requests.post(url, headers=headers, json=body, stream=True, timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith(b"data:"):
                return time.perf_counter() - t


def part1(fake, gw, token):
    from fakes import OPENAI_KEY

    body = {"model": "gpt-image-2", "prompt": "a lighthouse", "quality": "low"}
    stream = {**body, "stream": True, "partial_images": 2}
    routes = {"direct": (f"{fake.openai_base}/images/generations", {"Authorization": f"Bearer {OPENAI_KEY}"}),
              "gateway": (f"{gw.url}/openai/v1/images/generations", {"Authorization": f"Bearer {token}"})}
    call, preview = {k: [] for k in routes}, {k: [] for k in routes}
    for i in range(ROUNDS + 3):
        for name, (url, headers) in routes.items():  # interleaved: both see the same machine load
            t = time.perf_counter()
            assert requests.post(url, headers=headers, json=body, timeout=60).status_code == 200
            took = time.perf_counter() - t
            first = first_event(url, headers, stream)
            if i >= 3:  # warm-up
                call[name].append(took)
                preview[name].append(first)
    print(f"1. one student, {ROUNDS} calls each way (fake provider in its own process, ledger on PostgreSQL)")
    for label, data in (("plain call", call), ("first preview", preview)):
        d, g = statistics.median(data["direct"]), statistics.median(data["gateway"])
        print(f"   {label:14} direct p50 {ms(d)}  gateway p50 {ms(g)}  added {ms(g - d)}  ratio {g / d:5.2f}"
              f"   (p90 {ms(pct(data['direct'], 90))} / {ms(pct(data['gateway'], 90))})")


def part2(fake, gws, url):
    from promptpaint.gateway import tokens
    from promptpaint.ledger.postgres import PostgresLedger

    led = PostgresLedger(url)
    user_cap, class_cap = Decimal("0.05"), Decimal("2.00")
    led.set_budget("user:*", user_cap)
    led.set_budget("class", class_cap)
    users = [f"s{i:02d}" for i in range(STUDENTS)]
    issued = {u: tokens.add(led, u) for u in users}
    billed_before = Decimal(fake.set("billed"))
    times, codes, go = [], [], threading.Event()
    lock = threading.Lock()

    def student(i, user):
        session = requests.Session()
        gw = gws[i % len(gws)]
        go.wait()
        for _ in range(50):
            t = time.perf_counter()
            r = session.post(f"{gw.url}/openai/v1/images/generations", headers={"Authorization": f"Bearer {issued[user]}"},
                             json={"model": "gpt-image-2", "prompt": f"{user} a cat", "quality": "low"}, timeout=120)
            with lock:
                times.append(time.perf_counter() - t)
                codes.append(r.status_code)
            if r.status_code != 200:
                return

    threads = [threading.Thread(target=student, args=(i, u)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    time.sleep(0.5)
    rows = led.entries(100_000)
    by_user: dict[str, Decimal] = {}
    for r in rows:
        by_user[r["user"]] = by_user.get(r["user"], Decimal(0)) + (r["cost"] if r["cost"] is not None else r["reserved"])
    billed = Decimal(fake.set("billed")) - billed_before
    over_user = sum(1 for v in by_user.values() if v > user_cap)
    ok = codes.count(200)
    print(f"2. {STUDENTS} students at once on {len(gws)} gateways (one PostgreSQL): {ok} calls admitted, "
          f"{len(codes) - ok} refused, {ok / wall:.0f} calls/s")
    print(f"   per call through the gateway: p50 {ms(pct(times, 50))}  p99 {ms(pct(times, 99))}")
    print(f"   overshoot: users over user:* {over_user}, class {max(Decimal(0), billed - class_cap)} "
          f"(fake billed ${billed}, ledger ${sum(by_user.values())}, cap ${class_cap})")
    led.close()


def _ledger_worker(url, index, threads, go, out):
    from promptpaint.ledger import Attempt
    from promptpaint.ledger.postgres import PostgresLedger

    import promptpaint as pp

    led = PostgresLedger(url)
    led.keep_idle = 40  # as the gateway keeps them
    led.entries(1)
    times, lock = [], threading.Lock()

    def one(k):
        user = f"l{index}-{k}"
        go.wait()
        for _ in range(20):
            t = time.perf_counter()
            try:
                row = led.reserve(Attempt("openai", "gpt-image-2", "generate", "p", {}, None, user=user),
                                  Decimal("0.01"), [])
            except pp.BudgetExceeded:
                with lock:
                    times.append(time.perf_counter() - t)
                continue
            led.settle(row, status="ok", cost=Decimal("0.01"))
            with lock:
                times.append(time.perf_counter() - t)

    ts = [threading.Thread(target=one, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(times)


def part3(url):
    from promptpaint.ledger.postgres import PostgresLedger

    led = PostgresLedger(url)
    led.set_budget("user:*", "0.15")     # 15 of each student's 20 attempts fit
    led.set_budget("class", led.spent() + Decimal("8.00"))
    base = led.spent()
    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_ledger_worker, args=(url, i, STUDENTS // 2, go, out)) for i in range(2)]
    for p in procs:
        p.start()
    time.sleep(1.0)
    t0 = time.perf_counter()
    go.set()
    times = [x for _ in procs for x in out.get()]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    spent = led.spent() - base
    per_user = [r for r in led.totals(by="user") if r["user"].startswith("l")]
    over = sum(1 for r in per_user if r["cost"] > Decimal("0.15"))
    print(f"3. ledger alone, reserve+settle, {STUDENTS} students in 2 processes on PostgreSQL: "
          f"p50 {ms(pct(times, 50))}  p99 {ms(pct(times, 99))}  {len(times) / wall:.0f} pairs/s")
    print(f"   overshoot: users over their cap {over}, class {max(Decimal(0), spent - Decimal('8.00'))}")
    led.close()


def main():
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "gateway")]
    from gatewayproc import Gateway, teacher_env

    folder = tempfile.mkdtemp(prefix="pp-bench-pg.")
    server = start_postgres(folder)
    if server is None:
        return
    try:
        with FakeProcess() as fake:
            env = teacher_env(fake, Path(os.environ["PROMPTPAINT_HOME"]) / "teacher")
            url = database(server)
            gws = [Gateway(url, env, Path(folder).parent / f"pp-bench-gw-{i}-{os.getpid()}.log") for i in range(2)]
            try:
                from promptpaint.gateway import tokens
                from promptpaint.ledger.postgres import PostgresLedger

                led = PostgresLedger(url)
                token = tokens.add(led, "solo")
                led.close()
                part1(fake, gws[0], token)
                url2 = database(server)  # a fresh class for part 2
                for gw in gws:
                    gw.stop()
                gws = [Gateway(url2, env, Path(folder).parent / f"pp-bench-gw2-{i}-{os.getpid()}.log")
                       for i in range(2)]
                part2(fake, gws, url2)
            finally:
                for gw in gws:
                    gw.stop()
                    Path(gw.log_path).unlink(missing_ok=True)
        part3(database(server))
    finally:
        subprocess.run([str(ROOT / ".ci" / "postgres"), "stop", folder], capture_output=True)


if __name__ == "__main__":
    main()
