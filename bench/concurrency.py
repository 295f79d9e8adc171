"""8 prompts at concurrency 4 through one shared Client per provider, against the fake with
``fake.latency = L``: wall time as a multiple of L. Ideal is 2.0 (two waves of four).

Fresh prompts every repetition (so every call writes a new image to the store and books its
own ledger row); each prompt's image is rendered by the fake once beforehand, untimed, so the
fake's own PNG encoding (which shares this process's GIL) stays out of the figure.

    python bench/concurrency.py
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from _setup import isolate  # noqa: E402

isolate()

import requests  # noqa: E402
from fakes import GEMINI_KEY, OPENAI_KEY, FakeProviders  # noqa: E402

import promptpaint as pp  # noqa: E402

PROMPTS = 8
WORKERS = 4
LATENCIES = (0.25, 0.5)
REPS = int(os.environ.get("BENCH_ROUNDS", "5"))
GEMINI_MODEL = "gemini-3.1-flash-image"


def main() -> None:
    rows = []
    with FakeProviders() as fake:
        warm = requests.Session()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clients = {
                "openai": pp.Client("openai", api_key=OPENAI_KEY, base_url=fake.openai_base),
                "gemini": pp.Client("gemini", model=GEMINI_MODEL, api_key=GEMINI_KEY,
                                    base_url=fake.gemini_base),
            }
        params = {"openai": {"size": "1024x1024"}, "gemini": {"aspect_ratio": "1:1", "image_size": "512"}}

        def prerender(prov, prompt):
            if prov == "openai":
                warm.post(fake.openai_base + "/images/generations",
                          json={"model": "gpt-image-2", "prompt": prompt, "size": "1024x1024"},
                          headers={"Authorization": f"Bearer {OPENAI_KEY}"}, timeout=30)
            else:
                warm.post(f"{fake.gemini_base}/v1beta/models/{GEMINI_MODEL}:generateContent",
                          json={"contents": [{"role": "user", "parts": [{"text": prompt}]}],
                                "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                                                     "imageConfig": {"aspectRatio": "1:1", "imageSize": "512"}}},
                          headers={"x-goog-api-key": GEMINI_KEY}, timeout=30)

        with ThreadPoolExecutor(WORKERS) as pool:
            for prov, client in clients.items():
                # warm-up: connections in the pool, ledger schema, first-call imports
                fake.latency = 0.0
                list(pool.map(lambda p: client.generate(p, **params[prov]),
                              [f"warm {prov} {i}" for i in range(WORKERS)]))
                for lat in LATENCIES:
                    multiples = []
                    for rep in range(REPS):
                        prompts = [f"{prov} L{lat} rep{rep} #{i} {time.time_ns()}" for i in range(PROMPTS)]
                        fake.latency = 0.0
                        for p in prompts:
                            prerender(prov, p)
                        fake.latency = lat
                        t0 = time.perf_counter()
                        results = list(pool.map(lambda p: client.generate(p, **params[prov]), prompts))
                        wall = time.perf_counter() - t0
                        assert len(results) == PROMPTS and all(r.ids for r in results)
                        multiples.append(wall / lat)
                    rows.append((prov, lat, statistics.median(multiples), min(multiples), max(multiples)))
        fake.latency = 0.0

    print(f"concurrency: {PROMPTS} prompts, ThreadPoolExecutor({WORKERS}), one shared Client per provider; "
          f"wall / L, median of {REPS} repetitions (ideal {PROMPTS / WORKERS:.1f})")
    print(f"  {'provider':<8} {'L (s)':>6} {'wall/L':>8} {'min':>7} {'max':>7} {'overhead per wave ms':>21}")
    waves = PROMPTS / WORKERS
    for prov, lat, med, lo, hi in rows:
        print(f"  {prov:<8} {lat:>6.2f} {med:>8.2f} {lo:>7.2f} {hi:>7.2f} "
              f"{(med - waves) * lat / waves * 1000:>21.1f}")


if __name__ == "__main__":
    main()
