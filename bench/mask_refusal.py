"""Time and memory to refuse a mask of the wrong size: read from the PNG header vs decoded first.

A 13000x13000 mask PNG (169 megapixels of zeros, about 170 KB compressed) is sent to a Studio
whose image is 512x512. The Session reads the size from the IHDR chunk and refuses it; the old
path decoded it with Pillow before comparing sizes. Each is measured in a fresh subprocess so the
peak RSS (VmHWM) is its own. Prints medians of BENCH_ROUNDS (default 3).
"""

from __future__ import annotations

import json
import os
import statistics
import struct
import subprocess
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _setup import isolate  # noqa: E402

SIDE = 13_000


def huge_mask_png(side: int = SIDE) -> bytes:
    """A real, decodable 8-bit greyscale PNG of zeros, compressed row by row (no big buffer)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    z = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + pixels
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


CHILD = r"""
import json, sys, time
import promptpaint as pp
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
data = open(sys.argv[2], "rb").read()
s = pp.Studio("offline").session
s.load(Image.new("RGB", (512, 512)))
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
before = peak()
t = time.perf_counter()
try:
    if sys.argv[1] == "header":
        s.set_mask_png(data)
    else:  # the old path: decode, then compare sizes
        im = Image.open(__import__("io").BytesIO(data)); im.load()
        if list(im.size) != list(s.image_size):
            raise pp.InvalidRequest("wrong size")
except pp.InvalidRequest as exc:
    refused = str(exc)
print(json.dumps({"ms": (time.perf_counter() - t) * 1000, "peak_mb": peak(), "before_mb": before,
                  "refused": refused[:60]}))
"""


def main() -> None:
    isolate()
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    data = huge_mask_png()
    path = Path(os.environ["PROMPTPAINT_HOME"]) / "huge-mask.png"
    path.write_bytes(data)
    print(f"mask_refusal: a {SIDE}x{SIDE} mask PNG ({len(data) / 1024:.0f} KB) sent to a 512x512 image; "
          f"median of {rounds}")
    for how in ("header", "decode first (old)"):
        runs = [json.loads(subprocess.run([sys.executable, "-c", CHILD, how.split()[0], str(path)],
                                          capture_output=True, text=True, check=True).stdout)
                for _ in range(rounds)]
        ms = statistics.median(r["ms"] for r in runs)
        extra = statistics.median(r["peak_mb"] - r["before_mb"] for r in runs)
        print(f"  {how:<20} {ms:10.3f} ms   peak RSS +{extra:7.1f} MiB   ({runs[0]['refused']})")


if __name__ == "__main__":
    main()
