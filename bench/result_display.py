"""What showing a Result in a cell adds to a saved notebook, per image, and how long it takes.

For pictures of several kinds (the offline stand-in's flat placeholder, a smooth photo-like picture,
and noise, the worst case for any compressor) at 1024 px, a Result is displayed as IPython would
(``_repr_mimebundle_``) and the output is serialised as nbformat writes it. Printed beside it: the
same picture shown as ``r.image`` (PIL's full-size PNG), which is what the notebooks did before.
Also the time to build the bundle (median of BENCH_ROUNDS).

    python bench/result_display.py
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import statistics
import time

from _setup import isolate

isolate()
os.environ["PROMPTPAINT_PROVIDER"] = "offline"

from PIL import Image  # noqa: E402

import promptpaint as pp  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
SIZE = (1024, 1024)


def pictures(client):
    offline = client.generate("a lighthouse on a cliff", size="1024x1024", seed=1)
    smooth = Image.blend(Image.effect_mandelbrot(SIZE, (-2, -1.5, 1, 1.5), 100).convert("RGB"),
                         Image.merge("RGB", [Image.effect_noise(SIZE, 30)] * 3), 0.3)
    noise = Image.merge("RGB", [Image.effect_noise(SIZE, 90) for _ in range(3)])
    out = {"offline placeholder": offline}
    for name, im in (("photo-like", smooth), ("noise (worst case)", noise)):
        # The same Result, holding another picture from the store.
        out[name] = dataclasses.replace(offline, prompt=name, paths=[client.store.put_image(im)[1]])
    return out


def saved_bytes(data: dict) -> int:
    return len(json.dumps({"output_type": "execute_result", "data": data, "metadata": {}},
                          indent=1).encode())


def full_png(result) -> int:
    buf = io.BytesIO()
    result.image.save(buf, "PNG")
    return saved_bytes({"image/png": base64.b64encode(buf.getvalue()).decode(), "text/plain": "<PIL…>"})


def main():
    client = pp.Client("offline")
    print(f"result_display: bytes a displayed Result adds to a saved notebook ({SIZE[0]}x{SIZE[1]} pictures)")
    print(f"  {'picture':<22} {'Result (HTML + thumb)':>22} {'as r.image (full PNG)':>22} {'build ms':>9}")
    for name, result in pictures(client).items():
        bundle = result._repr_mimebundle_()
        times = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            result._repr_mimebundle_()
            times.append((time.perf_counter() - t0) * 1000)
        kinds = "+".join(k.split("/")[1] for k in bundle if k.startswith("image/"))
        print(f"  {name:<22} {saved_bytes(bundle):>15} B ({kinds}) {full_png(result):>20} B "
              f"{statistics.median(times):>9.1f}")
    chat = client.chat()
    for prompt in ("a cat", "now rain", "now snow", "now night"):
        chat.send(prompt)
    print(f"  {'chat of 4 turns':<22} {saved_bytes(chat._repr_mimebundle_()):>15} B")
    print(f"  {'pp.ledger()':<22} {saved_bytes(pp.ledger()._repr_mimebundle_()):>15} B")
    print(f"  (median of {ROUNDS}; the target is under 50,000 B per picture shown)")


if __name__ == "__main__":
    main()
