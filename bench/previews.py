"""Time to the first streamed preview, as a fraction of the whole call: the fake streams 2
previews over a 6 s call (it thinks 2 s before the first event, then spreads the remaining events
evenly over 4 s: OpenAI sends preview, preview, completed; Gemini preview, preview, text, image),
as a real 30-120 s call would, scaled down. The schedule puts the first preview at 2/6 = 0.33 of the
call; the figure adds what promptpaint spends between the bytes arriving and ``on_partial``
(SSE parsing, base64, PNG decode to a PIL image). Goal: under 0.4.

Then the bytes the Studio sends the front end per preview (message JSON + its one binary
buffer, a JPEG), as a ratio to the preview's PNG size.

    python bench/previews.py
"""

from __future__ import annotations

import os
import statistics
import time

from _setup import isolate  # noqa: E402

isolate()

from fakes import GEMINI_KEY, OPENAI_KEY, FakeProviders  # noqa: E402

import promptpaint as pp  # noqa: E402

THINK, CALL, PREVIEWS = 2.0, 6.0, 2
EVENTS = {"openai": PREVIEWS + 1, "gemini": PREVIEWS + 2}
REPS = int(os.environ.get("BENCH_ROUNDS", "3"))


def one(client, **params) -> tuple[float, float]:
    seen = []
    start = time.monotonic()
    client.generate(f"a fox {time.monotonic()}", on_partial=lambda im, i: seen.append(time.monotonic()),
                    partial_images=PREVIEWS, **params)
    total = time.monotonic() - start
    return (seen[0] - start) / total, total


def main() -> None:
    with FakeProviders() as fake:
        fake.latency = THINK
        clients = {
            "openai gpt-image-2 (1024², low)": (pp.Client("openai", api_key=OPENAI_KEY, base_url=fake.openai_base),
                                               {"size": "1024x1024", "quality": "low"}),
            "gemini 3.1 flash image (1K)": (pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base), {}),
        }
        print(f"first preview / whole call, {PREVIEWS} previews over a {CALL:.0f} s call "
              f"(schedule: {THINK / CALL:.3f}), median of {REPS}")
        for label, (client, params) in clients.items():
            fake.streaming.delay = (CALL - THINK) / (EVENTS[client.provider_name] - 1)
            runs = [one(client, **params) for _ in range(REPS)]
            fraction = statistics.median(r[0] for r in runs)
            total = statistics.median(r[1] for r in runs)
            print(f"  {label:34s} {fraction:.3f}  (call {total:.2f} s, n={REPS})")


def transfer() -> None:
    import json
    import warnings

    from promptpaint.session import Session
    from promptpaint.store import encode_png

    warnings.simplefilter("ignore")
    with FakeProviders() as fake:
        studio = pp.Studio("openai", api_key=OPENAI_KEY, base_url=fake.openai_base)
        sent, png = [], []
        studio.send = lambda content, buffers=None: sent.append((content, buffers or []))
        keep = Session._preview

        def measured(self, job, image, index, total):
            png.append(len(encode_png(image)))  # the draft as the provider sent it (PNG)
            keep(self, job, image, index, total)

        Session._preview = measured
        for size in ("1024x1024", "1536x1024"):
            sent.clear(), png.clear()
            studio.params = {**studio.params, "size": size, "quality": "low"}
            studio.generate(f"a fox at {size}")
            wire = [len(json.dumps(c)) + sum(len(b) for b in bufs) for c, bufs in sent if c.get("kind") == "preview"]
            ratios = [w / p for w, p in zip(wire, png)]
            print(f"  {size}: {len(wire)} previews, {statistics.mean(wire) / 1024:.1f} KiB each to the front end, "
                  f"{statistics.mean(png) / 1024:.1f} KiB as PNG: ratio {statistics.mean(ratios):.2f}")
        Session._preview = keep


if __name__ == "__main__":
    main()
    print("bytes to the front end per preview (JSON + its buffer, PNG or JPEG, the smaller) / the preview as PNG")
    transfer()
