"""``import promptpaint`` time vs ``import openai`` and ``import google.genai``.

Each figure is one fresh interpreter running ``import x``, timed inside the child with
perf_counter around the import (so interpreter start-up is excluded), median of RUNS runs.
A ``python -c pass`` start-up time is printed for reference. The child also reports which
heavy modules the import pulled in: ``import promptpaint`` must not load a widget library
(ipywidgets, anywidget, traitlets) or numpy.

    python bench/import_time.py
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("BENCH_ROUNDS", "7"))
WATCH = ("ipywidgets", "anywidget", "traitlets", "numpy", "requests", "PIL", "sqlite3", "httpx",
         "pydantic")
CHILD = """
import sys, time, json
t0 = time.perf_counter()
import {mod}
dt = time.perf_counter() - t0
print(json.dumps({{"s": dt, "loaded": [m for m in {watch!r} if m in sys.modules],
                   "modules": len(sys.modules)}}))
"""


def run_child(mod: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD.format(mod=mod, watch=WATCH)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def startup(env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - t0


def main() -> None:
    env = dict(os.environ, PROMPTPAINT_HOME=tempfile.mkdtemp(prefix="pp-bench-home-"))
    atexit.register(shutil.rmtree, env["PROMPTPAINT_HOME"], True)
    for var in ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    mods = ["promptpaint", "openai", "google.genai", "requests"]  # requests: promptpaint's biggest import
    # one untimed run each so .pyc files exist and the page cache is warm
    available = []
    for m in mods:
        try:
            run_child(m, env)
            available.append(m)
        except subprocess.CalledProcessError:
            print(f"  ({m} is not installed: skipped)")
    times = {m: [] for m in available}
    info = {}
    starts = []
    for _ in range(RUNS):
        starts.append(startup(env))
        for m in available:  # interleaved, so drift hits every module alike
            r = run_child(m, env)
            times[m].append(r["s"])
            info[m] = r
    pp_ms = statistics.median(times["promptpaint"]) * 1000
    print(f"import_time: time of `import x` in a fresh interpreter (in-process perf_counter, "
          f"median of {RUNS} runs)")
    print(f"  interpreter start-up (python -c pass, wall): {statistics.median(starts) * 1000:.1f} ms")
    print()
    print(f"  {'module':<14} {'median ms':>10} {'promptpaint / this':>19} {'modules':>8}  heavy modules loaded")
    for m in available:
        med = statistics.median(times[m]) * 1000
        print(f"  {m:<14} {med:>10.1f} {pp_ms / med:>19.2f} {info[m]['modules']:>8}  "
              f"{', '.join(info[m]['loaded']) or '-'}")
    bad = [m for m in ("ipywidgets", "anywidget", "traitlets", "numpy") if m in info["promptpaint"]["loaded"]]
    print()
    print("  import promptpaint loaded ipywidgets/anywidget/traitlets/numpy: "
          + (f"YES ({', '.join(bad)})  <-- should not" if bad else "no (good)"))


if __name__ == "__main__":
    main()
