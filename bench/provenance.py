"""Time and peak memory for ``pp.provenance()`` to answer each hostile file in tests/files/hostile_files.py.

Each file is read in a fresh process (so the peak RSS, VmHWM above a warmed-up baseline, is its
own), BENCH_ROUNDS times (default 3): the median time and the first read's peak are printed, with
the answer (story or not) and the start of the notice. Then the XMP search's growth with size: a
WebP whose XMP repeats its opening tag, read now vs the old ``<pp:…>(.*?)</pp:…>`` regex (the old
one only on small sizes: it is quadratic, 312 KB took ~50 s).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _setup import ROOT, isolate  # noqa: E402


def main() -> None:
    isolate()
    sys.path.insert(0, str(ROOT / "tests" / "files"))
    import hostile_files

    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    folder = Path(os.environ["PROMPTPAINT_HOME"]) / "hostile"
    folder.mkdir(parents=True)
    print(f"provenance: pp.provenance() on each hostile file, fresh process each, median of {rounds}")
    print(f"  {'file':<50} {'size':>9} {'ms':>9} {'peak RSS':>10}  answer")
    for i, case in enumerate(hostile_files.cases()):
        path = folder / f"{i:02d}{case.suffix}"
        path.write_bytes(case.image)
        if case.sidecar is not None:
            path.with_name(path.name + ".json").write_bytes(case.sidecar)
        size = path.stat().st_size + (len(case.sidecar) if case.sidecar else 0)
        case.image = case.sidecar = None
        runs = json.loads(subprocess.run([sys.executable, hostile_files.__file__, *[str(path)] * rounds],
                                         capture_output=True, text=True, check=True, timeout=600).stdout)
        ms = statistics.median(r["seconds"] for r in runs) * 1000
        answer = "story" if runs[0]["story"] else "None"
        if runs[0]["notices"]:
            answer += ": " + re.sub(r"^The story embedded in this \w+ |^The sidecar \S+ ", "", runs[0]["notices"][0])[:60]
        print(f"  {case.name:<50} {_size(size):>9} {ms:9.1f} {runs[0]['peak_mib_above_base']:+8.1f} MiB  {answer}")
        path.unlink()

    print("\n  XMP repeating its opening tag in a WebP: ms to answer (now) vs the old regex alone")
    from promptpaint import imagemeta

    old = re.compile(rb"<pp:promptpaint>(.*?)</pp:promptpaint>", re.S)
    for kb in (16, 32, 64, 256, 1024, 4096):
        xmp = b"<pp:promptpaint>" * (kb * 1024 // 16)
        data = hostile_files.webp_with((b"XMP ", xmp))
        t = time.perf_counter()
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert imagemeta.read_embedded(data) is None
        now = (time.perf_counter() - t) * 1000
        then = ""
        if kb <= 32:
            t = time.perf_counter()
            old.search(xmp)
            then = f"   old regex {(time.perf_counter() - t) * 1000:10.1f} ms"
        print(f"  {kb:6d} KB   now {now:8.2f} ms{then}")


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} B"


if __name__ == "__main__":
    main()
