"""A 16-cell pp.Sweep (4 prompts × 2 models × 2 repeats) at concurrency 4 against the fake (in a
child process) sleeping L before every answer: wall time as a multiple of L. Ideal is 4.0 (four
waves of four); the excess is promptpaint's own time per wave (validation, ledger, store).
Each prompt's image is rendered by the fake once beforehand, untimed (as in concurrency.py), so
the fake's PNG encoding stays out of the figure.

    python bench/sweep.py
"""

from __future__ import annotations

import os
import statistics
import time
import warnings

from _setup import isolate  # noqa: E402

isolate()

from _fakeproc import FakeProcess  # noqa: E402
from fakes import GEMINI_KEY, OPENAI_KEY  # noqa: E402

import promptpaint as pp  # noqa: E402

LATENCIES = (0.25, 0.5)
REPS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONCURRENCY = 4


def main() -> None:
    rows = []
    with FakeProcess() as fake, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.environ.update(OPENAI_API_KEY=OPENAI_KEY, OPENAI_BASE_URL=fake.openai_base,
                          GEMINI_API_KEY=GEMINI_KEY, GOOGLE_GEMINI_BASE_URL=fake.gemini_base)
        models = ["gpt-image-2", "gemini-3.1-flash-image"]
        pp.Sweep(["warm-up"], models).run(concurrency=CONCURRENCY, progress=False)
        for lat in LATENCIES:
            fake.set("latency", lat)
            multiples = []
            for rep in range(REPS):
                prompts = [f"L{lat} rep{rep} prompt {i} {time.time_ns()}" for i in range(4)]
                fake.set("latency", 0.0)
                pp.Sweep(prompts, models).run(concurrency=CONCURRENCY, progress=False)  # pre-render
                fake.set("latency", lat)
                sweep = pp.Sweep(prompts, models, repeats=2)
                assert len(sweep.cells) == 16
                t0 = time.perf_counter()
                sweep.run(concurrency=CONCURRENCY, progress=False)
                wall = time.perf_counter() - t0
                assert all(c.status == "ok" for c in sweep.cells)
                multiples.append(wall / lat)
            rows.append((lat, statistics.median(multiples), min(multiples), max(multiples)))
    print(f"sweep: 16 cells (4 prompts × gpt-image-2, gemini-3.1-flash-image × 2 repeats), concurrency "
          f"{CONCURRENCY}; wall / L, median of {REPS} (ideal 4.0)")
    print(f"  {'L (s)':>6} {'wall/L':>8} {'min':>7} {'max':>7} {'overhead per wave ms':>21}")
    for lat, med, lo, hi in rows:
        print(f"  {lat:>6.2f} {med:>8.2f} {lo:>7.2f} {hi:>7.2f} {(med - 4) * lat / 4 * 1000:>21.1f}")


if __name__ == "__main__":
    main()
