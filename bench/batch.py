"""A 1,000-prompt batch job through each provider's Batch API (the fake, in a child process):
client CPU time and peak Python memory to build + submit the job, and to collect it as a later
session would (find it with pp.batches(), fetch its state, download, decode, store and book 1,000
images). The output file is streamed line by line, so the peak
while collecting should stay near one line's size, not the whole file's.

    python bench/batch.py
"""

from __future__ import annotations

import os
import time
import tracemalloc
import warnings

from _setup import isolate  # noqa: E402

isolate()

from _fakeproc import FakeProcess  # noqa: E402
from fakes import GEMINI_KEY, OPENAI_KEY  # noqa: E402

import promptpaint as pp  # noqa: E402
from promptpaint.providers import gemini_batch  # noqa: E402

PROMPTS = int(os.environ.get("BENCH_PROMPTS", "1000"))


def measure(fn):
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, cpu, wall, peak


def main() -> None:
    rows = []
    os.environ.update(OPENAI_API_KEY=OPENAI_KEY, GEMINI_API_KEY=GEMINI_KEY)  # for pp.batches()
    with FakeProcess() as fake, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fake.set("step", 0.2)
        cases = [
            ("openai (JSONL file)", pp.Client("openai", api_key=OPENAI_KEY, base_url=fake.openai_base),
             {"quality": "low", "size": "1024x1024"}, None),
            ("gemini (uploaded file)", pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base),
             {"image_size": "512"}, None),
            ("gemini (forced inline)", pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base),
             {"image_size": "512"}, PROMPTS),
        ]
        for label, client, params, inline_lines in cases:
            # Gemini sends 1,000 lines as a file; forcing them inline shows what that would hold.
            gemini_batch.INLINE_MAX_LINES = inline_lines or 16
            prompts = [f"{label} prompt {i}: a lighthouse at dusk, oil painting" for i in range(PROMPTS)]
            job, s_cpu, s_wall, s_peak = measure(lambda: client.batch(prompts, **params))
            job.wait(poll=0.5, progress=False)
            # Collect as a later session would: a job found by pp.batches(), its final state (and
            # Gemini's inline results) fetched inside the measured step.
            later = next(j for j in pp.batches() if j.id == job.id)
            results, c_cpu, c_wall, c_peak = measure(later.results)
            assert sum(isinstance(r, pp.Result) for r in results) == PROMPTS
            out_bytes = sum(r.paths[0].stat().st_size for r in results)
            rows.append((label, s_cpu, s_peak, c_cpu, c_wall, c_peak, out_bytes))
        billed = fake.set("billed")
    print(f"batch: {PROMPTS} prompts per job; CPU = client process time; peak = tracemalloc peak of Python "
          f"allocations during the step")
    print(f"  {'job':<24} {'submit CPU s':>12} {'submit peak MB':>15} {'collect CPU s':>14} {'collect wall s':>15} "
          f"{'collect peak MB':>16} {'images MB':>10}")
    for label, s_cpu, s_peak, c_cpu, c_wall, c_peak, out_bytes in rows:
        print(f"  {label:<24} {s_cpu:>12.2f} {s_peak / 2**20:>15.1f} {c_cpu:>14.2f} {c_wall:>15.2f} "
              f"{c_peak / 2**20:>16.1f} {out_bytes / 2**20:>10.1f}")
    print(f"  ledger total ${pp.ledger().total()} = fake's bill ${billed}")


if __name__ == "__main__":
    main()
