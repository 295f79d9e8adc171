"""SSE parsing over a real socket, and the memory of a stream of thought images.

1. Time to read and parse N events (1,000, 4,000, 16,000 small JSON events) and one long line
   (12.5 and 50 MB, as one preview would be) through ``Transport.chunks`` + ``sse.events``,
   served chunked and close-delimited by a local socket server: time per MB should stay flat
   (linear). Beside it, the splitter before issue 19 given a close-delimited body as the one chunk
   the old reader handed over (``iter_content(chunk_size=None)`` waited for the whole body).
2. Peak RSS of a Gemini call (in a fresh process) that streams 20 thought images of ~2 MB each
   before its answer: the drafts are shown and dropped, so the peak should not grow with them.

    python bench/sse.py
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

from _setup import ROOT, isolate  # noqa: E402

isolate()

from rawserver import RawServer, sse_head, sse_send  # noqa: E402

from promptpaint import sse  # noqa: E402
from promptpaint.providers.gemini import classify  # noqa: E402
from promptpaint.transport import RetryPolicy, Transport  # noqa: E402

REPS = int(os.environ.get("BENCH_ROUNDS", "3"))


def old_lines(chunks):
    """The line splitter before issue 19 (kept here only to compare)."""
    buf, scan = bytearray(), 0
    for chunk in chunks:
        buf += chunk
        while True:
            ends = [i for i in (buf.find(b"\n", scan), buf.find(b"\r", scan)) if i >= 0]
            if not ends:
                scan = len(buf)
                break
            i = min(ends)
            if buf[i] == 13 and i + 1 == len(buf):
                scan = i
                break
            step = 2 if buf[i:i + 2] == b"\r\n" else 1
            line = bytes(buf[:i])
            del buf[:i + step]
            scan = 0
            yield line.decode("utf-8")


def serve(body: bytes, chunked: bool) -> RawServer:
    def act(conn):
        sse_head(conn, chunked)
        for i in range(0, len(body), 1 << 16):
            sse_send(conn, body[i:i + (1 << 16)], chunked)
        if chunked:
            conn.sendall(b"0\r\n\r\n")
    return RawServer(act)


def through_socket(body: bytes, chunked: bool) -> tuple[float, int]:
    server = serve(body, chunked)
    try:
        t = Transport("gemini", ("k" * 20,), classify, retry=RetryPolicy(0))
        start = time.perf_counter()
        reply = t.post(server.base + "/s", headers={}, json={}, stream=True)
        n = sum(1 for _ in sse.events(t.chunks(reply, server.base)))
        return time.perf_counter() - start, n
    finally:
        server.close()


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def parsing() -> None:
    print(f"SSE read + parse through a local socket (median of {REPS}); ms, and ms per MB")
    cases = [(f"{n:,} events", b"".join(b'data: {"type": "x", "i": %d, "pad": "%s"}\n\n' % (i, b"p" * 40)
                                        for i in range(n))) for n in (1000, 4000, 16000)]
    cases += [(f"one {mb} MB line", b"data: " + b"A" * int(mb * 2**20) + b"\n\n") for mb in (12.5, 50)]
    for label, body in cases:
        mb = len(body) / 2**20
        row = []
        for chunked in (True, False):
            runs = [through_socket(body, chunked) for _ in range(REPS)]
            ms = median(r[0] for r in runs) * 1000
            row.append(f"{'chunked' if chunked else 'close-delimited'} {ms:8.1f} ms ({ms / mb:6.1f}/MB)")
        start = time.perf_counter()
        n_old = sum(1 for _ in old_lines([body])) if len(body) < 3 * 2**20 else None
        old = (f"old splitter, one chunk {(time.perf_counter() - start) * 1000:8.1f} ms"
               if n_old is not None else "old splitter: (one line: linear there too)")
        print(f"  {label:18s} {mb:6.2f} MB  " + "  ".join(row) + f"  | {old}")


CHILD = textwrap.dedent("""
    import sys, promptpaint as pp
    def hwm():  # this process's own peak (ru_maxrss would carry the parent's over exec)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    c = pp.Client("gemini", api_key="AIzaBenchKey0123456789", base_url=sys.argv[1], max_retries=0)
    import PIL.PngImagePlugin, requests  # loaded before the baseline
    base = hwm()
    shown = []
    r = c.generate("a fox", on_partial=lambda im, i: shown.append(im.size), partial_images=2)
    print(base, hwm(), len(shown), len(r.images))
""")


def thought_images(n: int = 20, size: int = 2 * 2**20) -> None:
    noise = base64.b64encode(os.urandom(size)).decode()  # not a real PNG: never decoded past the 2 shown
    from helpers import png_bytes

    png = base64.b64encode(png_bytes((64, 64))).decode()
    chunks = [{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png",
                                                                      "data": png if i < 2 else noise},
                                                       "thought": True}]}, "index": 0}]} for i in range(n)]
    chunks.append({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": png},
                                                          "thoughtSignature": "c2ln"}]},
                                   "finishReason": "STOP", "index": 0}],
                   "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1290}})
    events = [b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks]
    streamed = sum(len(e) for e in events)

    def act(conn):
        sse_head(conn, True)
        for e in events:
            sse_send(conn, e, True)
        conn.sendall(b"0\r\n\r\n")

    server = RawServer(act)
    src = os.environ.get("BENCH_SRC", str(ROOT / "src"))  # BENCH_SRC=<an older src>: the figure before
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, server.base], capture_output=True, text=True,
                             env=env, timeout=300)
    finally:
        server.close()
    if out.returncode:
        print(out.stderr[-2000:])
        return
    base, peak, shown, images = map(int, out.stdout.split())
    print(f"\nA Gemini call streaming {n} thought images ({streamed / 2**20:.0f} MB of events), in a fresh process:")
    print(f"  peak RSS grew {(peak - base) / 2**20:.0f} MB over the process's start "
          f"({(peak - base) / streamed:.2f}x what was streamed, {(peak - base) / max(map(len, events)):.1f}x one event); "
          f"previews shown {shown}, result images {images}")


def main() -> None:
    parsing()
    thought_images()
    thought_images(size=6 * 2**20)  # flat in the number of drafts: a multiple of one event, not of all


if __name__ == "__main__":
    threading.stack_size(0)
    main()
