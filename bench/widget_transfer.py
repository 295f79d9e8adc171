"""Bytes the Studio sends to the front end per displayed image, as a ratio to the PNG's size.

No front end is needed: ``comm.create_comm`` is replaced by a comm that counts what the kernel
would publish (each message's JSON ``data`` as jupyter_client packs it, plus its binary buffers;
Jupyter's own message envelope is not counted). The front end is simulated the way js/sync.js
behaves: after each ``studio.generate(...)`` it asks once for the full image and once for its
thumbnail, delivered through the comm's real message path (``comm.handle_msg``).

1.0 is ideal for the image message (raw PNG bytes in a binary buffer, no base64). The state
updates per image (turns, current, image_id, costs, code, ...) and the 160-px thumbnail come
on top. The offline stand-in's pictures are flat shapes that compress to a few KB, so those
fixed costs dominate its ratio; a third row loads photo-like 1024x1024 PNGs (a few MB, as real
model output is) with ``studio.load`` to show the ratio for realistic image sizes. ``turns`` is re-sent
whole on every change, so the state bytes per image grow with the history.

    python bench/widget_transfer.py
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import statistics
import tempfile
import warnings

os.environ["PROMPTPAINT_HOME"] = tempfile.mkdtemp(prefix="pp-bench-home-")
atexit.register(shutil.rmtree, os.environ["PROMPTPAINT_HOME"], True)
os.environ["PROMPTPAINT_PROVIDER"] = "offline"
for var in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "PROMPTPAINT_DAILY_BUDGET"):
    os.environ.pop(var, None)

import comm  # noqa: E402
from comm.base_comm import BaseComm  # noqa: E402

IMAGES = int(os.environ.get("BENCH_ROUNDS", "20"))


def packed(obj) -> int:
    # jupyter_client.session.json_packer
    return len(json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str).encode("utf8"))


class CountingComm(BaseComm):
    kernel = "counting"  # ipywidgets only sends when comm.kernel is not None

    def __init__(self, *args, **kwargs):
        self.log = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        data = data or {}
        self.log.append({
            "type": msg_type,
            "method": data.get("method", "open" if msg_type == "comm_open" else msg_type),
            "kind": (data.get("content") or {}).get("kind"),
            "keys": sorted((data.get("state") or {}).keys()),
            "json": packed(data) + packed(metadata or {}),
            "buffers": sum(len(b) for b in (buffers or [])),
        })


def deliver(widget, content, buffers=()):
    """A custom message from the front end, through the comm like a real one."""
    widget.comm.handle_msg({"content": {"comm_id": widget.comm.comm_id,
                                        "data": {"method": "custom", "content": content}},
                            "buffers": list(buffers)})


def total(entries):
    return sum(e["json"] + e["buffers"] for e in entries)


def photo_like(i: int, size=(1024, 1024)):
    """A PNG that compresses like a photograph (noise over a gradient), unlike the offline
    stand-in's flat shapes, which compress to a few KB."""
    from PIL import Image

    noise = [Image.effect_noise(size, 40 + i) for _ in range(3)]
    grad = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", [Image.blend(n, grad, 0.5) for n in noise])


def run(size: str | None, n: int, upload: bool = False) -> dict:
    import promptpaint as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        studio = pp.Studio(provider="offline")
    log = studio.comm.log
    opened = list(log)
    rows = []
    for i in range(n):
        start = len(log)
        kw = {"size": size} if size else {}
        if upload:
            studio.load(photo_like(i), name=f"photo{i}.png")
        else:
            studio.generate(f"image {i} of the widget transfer bench", **kw)
        after_gen = len(log)
        image_id = studio.image_id
        deliver(studio, {"kind": "fetch", "id": image_id, "thumb": False})
        after_full = len(log)
        deliver(studio, {"kind": "fetch", "id": image_id, "thumb": True})
        png = studio.session.store.find(image_id).stat().st_size
        state_msgs = log[start:after_gen]
        full_msgs = log[after_gen:after_full]
        thumb_msgs = log[after_full:]
        assert [m["kind"] for m in full_msgs] == ["image"], full_msgs
        assert not studio.error, studio.error
        rows.append({"png": png, "state": total(state_msgs), "state_n": len(state_msgs),
                     "full": total(full_msgs), "thumb": total(thumb_msgs),
                     "all": total(log[start:]), "size": studio.image_size})
    state = studio.get_state()
    esm = len(state.get("_esm", "").encode())
    turns = packed(state.get("turns", []))
    studio.close()
    return {"open": total(opened), "rows": rows, "state": packed(state), "esm": esm, "turns": turns}


def main() -> None:
    comm.create_comm = lambda **kw: CountingComm(**kw)
    results = [("offline default (512x512)", run(None, IMAGES)),
               ("offline 1024x1024", run("1024x1024", max(5, IMAGES // 2))),
               ("studio.load photo-like 1024", run(None, 5, upload=True))]

    print("widget_transfer: bytes the kernel sends the front end per displayed image "
          "(comm JSON data + binary buffers)")
    print("  per image = state updates after generate + full-image reply + thumbnail reply; "
          "ratios are to the PNG in the store")
    print()
    print(f"  {'images':<27} {'n':>3} {'PNG B':>8} {'state B':>8} {'image B':>8} {'thumb B':>8} "
          f"{'image/PNG':>10} {'total/PNG':>10}")
    for label, r in results:
        rows = r["rows"]
        med = {k: statistics.median(x[k] for x in rows) for k in ("png", "state", "full", "thumb", "all")}
        ratio_img = statistics.median(x["full"] / x["png"] for x in rows)
        ratio_all = statistics.median(x["all"] / x["png"] for x in rows)
        print(f"  {label:<27} {len(rows):>3} {med['png']:>8.0f} {med['state']:>8.0f} {med['full']:>8.0f} "
              f"{med['thumb']:>8.0f} {ratio_img:>10.4f} {ratio_all:>10.3f}   (medians)")
        for j in (0, len(rows) - 1):
            x = rows[j]
            print(f"  {'  image #' + str(j + 1):<27} {'':>3} {x['png']:>8} {x['state']:>8} {x['full']:>8} "
                  f"{x['thumb']:>8} {x['full'] / x['png']:>10.4f} {x['all'] / x['png']:>10.3f}"
                  f"   ({x['state_n']} state msgs)")
    print()
    for label, r in results:
        print(f"  {label}: comm_open {r['open']} B; synced state after {len(r['rows'])} images "
              f"{r['state']} B, of which _esm (the JS bundle) {r['esm']} B, turns {r['turns']} B, "
              f"everything else {r['state'] - r['esm'] - r['turns']} B")


if __name__ == "__main__":
    main()
