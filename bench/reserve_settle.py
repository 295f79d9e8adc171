"""Ledger reserve + settle latency on one SQLite file: 8 threads in each of 2 processes, every
reserve checking a budget cap and the daily cap (the write lock is taken for each).

Prints p50 and p99 of one reserve+settle pair in ms, per process and over all, with counts.

    python bench/reserve_settle.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

from _setup import ROOT, isolate  # noqa: E402

isolate()

THREADS, PROCESSES = 8, 2
PAIRS = int(os.environ.get("BENCH_ROUNDS", "60"))  # per thread


def worker(path: str) -> None:
    from promptpaint.ledger import Attempt, Cap, SQLiteLedger

    led = SQLiteLedger(path)
    caps = [Cap("bench", Decimal("1000000")), Cap("day", Decimal("1000000"))]
    times: list[float] = []
    lock = threading.Lock()

    def run():
        mine = []
        a = Attempt("openai", "gpt-image-2", "generate", "a fox", {"quality": "high"}, None, budget="bench")
        for _ in range(PAIRS):
            t0 = time.perf_counter()
            row = led.reserve(a, Decimal("0.211335"), caps)
            led.settle(row, status="ok", cost=Decimal("0.053065"), usage={"output_image_tokens": 1767})
            mine.append(time.perf_counter() - t0)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(times))


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if q < 100 else max(values) * 1000


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        return worker(sys.argv[2])
    path = os.path.join(tempfile.mkdtemp(prefix="pp-bench-ledger-"), "ledger.sqlite3")
    from promptpaint.ledger import SQLiteLedger
    SQLiteLedger(path).close()  # create and migrate once, untimed
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", path], stdout=subprocess.PIPE, env=env,
                              text=True) for _ in range(PROCESSES)]
    results = [json.loads(p.communicate()[0]) for p in procs]
    print(f"{THREADS} threads x {PROCESSES} processes, {PAIRS} reserve+settle pairs per thread, one file")
    print(f"{'':10} {'pairs':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for i, times in enumerate(results):
        print(f"process {i + 1:<2} {len(times):6} {pct(times, 50):8.2f} {pct(times, 99):8.2f}")
    every = [t for times in results for t in times]
    print(f"{'all':10} {len(every):6} {pct(every, 50):8.2f} {pct(every, 99):8.2f}")
    total = SQLiteLedger(path).total()
    assert total == Decimal("0.053065") * len(every), total  # every settle landed


if __name__ == "__main__":
    main()
