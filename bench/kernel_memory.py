"""Kernel memory after 100 images of 1024x1024 in a Studio (offline provider).

In a fresh subprocess (standing in for the kernel): a Studio with a comm that discards what it is
sent, then 100 ``studio.generate(prompt, size="1024x1024")``, each followed by the front end's
two fetches (full image and thumbnail) through the comm's real message path. RSS is read from
/proc/self/status (VmRSS, and VmHWM for the peak) before the first image, after 10 and after
100. The growth per image, measured between image 10 and image 100, is compared with one decoded
1024x1024 RGBA image (4 MiB): the widget keeps images in the store on disk, not in memory, so it
should be a small fraction of that.

A second, smaller run does the same on the Gemini fake (tests/fakes/): a Gemini history
entry keeps the model's reply turn, image included as base64, for conversation replay, so it
also reports those retained bytes per entry as a ratio to the PNG on disk. (The fake runs in
this parent process, outside the measured one. Its images are flat colours, tens of KB; a real
model's are MBs, so scale by the ratio, not the RSS.)

    python bench/kernel_memory.py
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

IMAGES = int(os.environ.get("BENCH_IMAGES", "100"))
CHECKPOINTS = (10, IMAGES)
RGBA_1024 = 1024 * 1024 * 4


def status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return -1


def child() -> None:
    import comm
    from comm.base_comm import BaseComm

    class DiscardingComm(BaseComm):
        kernel = "discarding"
        sent = 0

        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            DiscardingComm.sent += sum(len(b) for b in (buffers or []))

    comm.create_comm = lambda **kw: DiscardingComm(**kw)
    import promptpaint as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        studio = pp.Studio(provider="offline")

    def deliver(content):
        studio.comm.handle_msg({"content": {"comm_id": studio.comm.comm_id,
                                            "data": {"method": "custom", "content": content}},
                                "buffers": []})

    def one(i):
        studio.generate(f"memory bench image {i}", size="1024x1024")
        deliver({"kind": "fetch", "id": studio.image_id, "thumb": False})
        deliver({"kind": "fetch", "id": studio.image_id, "thumb": True})
        assert not studio.error, studio.error

    one(-1)  # warm-up: first-call imports, ledger schema, PIL plugins
    gc.collect()
    out = {"before": status("VmRSS")}
    for i in range(IMAGES):
        one(i)
        if i + 1 in CHECKPOINTS:
            gc.collect()
            out[f"after {i + 1}"] = status("VmRSS")
    out["peak"] = status("VmHWM")
    out["images"] = len(studio.history)
    out["size"] = studio.image_size
    out["sent"] = DiscardingComm.sent
    out["thumb_cache"] = sum(len(v) for v in studio.session._thumbs.values())
    print(json.dumps(out))


def child_gemini() -> None:
    import comm
    from comm.base_comm import BaseComm

    class DiscardingComm(BaseComm):
        kernel = "discarding"

        def publish_msg(self, *a, **kw):
            pass

    comm.create_comm = lambda **kw: DiscardingComm(**kw)
    import promptpaint as pp

    n = int(os.environ.get("BENCH_GEMINI_IMAGES", "30"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the fake runs in the parent process, so its records are not in this RSS
        studio = pp.Studio(provider="gemini", api_key=os.environ["BENCH_GEMINI_KEY"],
                           base_url=os.environ["BENCH_GEMINI_BASE"])

        def one(i):
            studio.generate(f"gemini memory bench image {i}")
            for thumb in (False, True):
                studio.comm.handle_msg({"content": {"comm_id": studio.comm.comm_id, "data": {
                    "method": "custom", "content": {"kind": "fetch", "id": studio.image_id, "thumb": thumb}}},
                    "buffers": []})
            assert not studio.error, studio.error

        one(-1)
        gc.collect()
        before = status("VmRSS")
        for i in range(n):
            one(i)
        gc.collect()
        after = status("VmRSS")
        retained = png = 0
        for h in studio.history[1:]:
            for turn in (h.chat.turns if h.chat else []):
                for part in (turn.model or {}).get("parts", []) + (turn.user or {}).get("parts", []):
                    retained += len((part.get("inlineData") or {}).get("data", ""))
            png += sum(p.stat().st_size for p in h.paths)
    print(json.dumps({"n": n, "before": before, "after": after, "retained": retained, "png": png,
                      "size": studio.image_size}))


def main() -> None:
    env = dict(os.environ, PROMPTPAINT_HOME=tempfile.mkdtemp(prefix="pp-bench-home-"),
               PROMPTPAINT_PROVIDER="offline")
    atexit.register(shutil.rmtree, env["PROMPTPAINT_HOME"], True)
    for var in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "PROMPTPAINT_DAILY_BUDGET"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(proc.returncode)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    mib = 2 ** 20
    first, last = CHECKPOINTS
    per_image = (r[f"after {last}"] - r[f"after {first}"]) / (last - first)
    per_image_all = (r[f"after {last}"] - r["before"]) / last
    print(f"kernel_memory: RSS of a process running a Studio (offline provider) through {r['images'] - 1} "
          f"generate + full fetch + thumb fetch, images {r['size'][0]}x{r['size'][1]}")
    print(f"  {'before the first image (after 1 warm-up)':<44} {r['before'] / mib:>8.1f} MiB")
    for n in CHECKPOINTS:
        print(f"  {f'after {n} images':<44} {r[f'after {n}'] / mib:>8.1f} MiB")
    print(f"  {'peak (VmHWM)':<44} {r['peak'] / mib:>8.1f} MiB")
    print(f"  {f'growth per image, image {first} -> {last}':<44} {per_image / 1024:>8.1f} KiB  "
          f"= {per_image / RGBA_1024:.3f} x one 1024x1024 RGBA image (4 MiB)")
    print(f"  {'growth per image, before -> ' + str(last):<44} {per_image_all / 1024:>8.1f} KiB  "
          f"= {per_image_all / RGBA_1024:.3f} x 4 MiB")
    print(f"  (image bytes sent to the discarding comm: {r['sent'] / mib:.1f} MiB; "
          f"thumbnail cache held by the Studio: {r['thumb_cache'] / 1024:.0f} KiB)")

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    from fakes import GEMINI_KEY, FakeProviders

    with FakeProviders() as fake:
        genv = dict(env, PROMPTPAINT_PROVIDER="gemini", BENCH_GEMINI_KEY=GEMINI_KEY,
                    BENCH_GEMINI_BASE=fake.gemini_base)
        proc = subprocess.run([sys.executable, __file__, "--child-gemini"], env=genv, capture_output=True,
                              text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(proc.returncode)
    g = json.loads(proc.stdout.strip().splitlines()[-1])
    print()
    print(f"  Gemini fake, {g['n']} images {g['size'][0]}x{g['size'][1]} (flat-colour PNGs, "
          f"{g['png'] / g['n'] / 1024:.0f} KiB each):")
    print(f"  {'RSS growth per image':<44} {(g['after'] - g['before']) / g['n'] / 1024:>8.1f} KiB")
    print(f"  {'base64 image data kept per history entry':<44} {g['retained'] / g['n'] / 1024:>8.1f} KiB  "
          f"= {g['retained'] / g['png']:.2f} x the PNG on disk (for chat replay)")
    print("  (RSS grows by more than the objects kept: each call runs on a new thread and glibc's "
          "per-thread arenas keep freed memory; MALLOC_ARENA_MAX=1 shrinks that part)")


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    elif "--child-gemini" in sys.argv:
        child_gemini()
    else:
        main()
