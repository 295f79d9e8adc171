"""A stand-in that needs no key and no network: deterministic pictures at $0.

It draws from a hash of the prompt and seed, so the same request gives the same picture, and a
masked edit changes only the masked area. Every image carries an "offline stand-in" label.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from ..pricing import Usage
from .base import Answer, Call, FileRef, Provider, Wire

LABEL = "offline stand-in"
RATIOS = {"1:1": (1, 1), "3:2": (3, 2), "2:3": (2, 3), "4:3": (4, 3), "3:4": (3, 4),
          "16:9": (16, 9), "9:16": (9, 16)}


def _size(params: dict) -> tuple[int, int]:
    size = params.get("size")
    if size and "x" in str(size):
        w, h = (int(v) for v in str(size).split("x"))
        return w, h
    ratio = params.get("aspect_ratio")
    if ratio in RATIOS:
        a, b = RATIOS[ratio]
        return (512, round(512 * b / a)) if a >= b else (round(512 * a / b), 512)
    return 512, 512


class _Palette:
    def __init__(self, *parts):
        self.bytes = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
        self.i = 0

    def next(self, k=1) -> int:
        v = int.from_bytes(self.bytes[self.i:self.i + k], "big")
        self.i = (self.i + k) % (len(self.bytes) - k)
        return v

    def colour(self) -> tuple[int, int, int]:
        return self.next(), self.next(), self.next()


def draw(prompt: str, size: tuple[int, int], seed=None, index: int = 0) -> Image.Image:
    w, h = size
    pal = _Palette(prompt.strip().lower(), seed, index)
    top, bottom = pal.colour(), pal.colour()
    ramp = Image.linear_gradient("L").resize((w, h))
    im = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), ramp)
    d = ImageDraw.Draw(im)
    for _ in range(6):
        cx, cy = pal.next(2) % w, pal.next(2) % h
        r = max(4, (pal.next(2) % max(1, min(w, h) // 3)))
        fill = pal.colour()
        if pal.next() % 2:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        else:
            d.rectangle([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=fill)
    _label(d, size, prompt)
    return im


def _label(d: ImageDraw.ImageDraw, size, prompt: str) -> None:
    w, h = size
    font = ImageFont.load_default()
    text = f"{LABEL}: {prompt[:60]}"
    band = 18
    d.rectangle([0, h - band, w, h], fill=(0, 0, 0))
    d.text((6, h - band + 3), text, fill=(255, 255, 255), font=font)


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _draft(im: Image.Image, index: int, total: int) -> Image.Image:
    """A blocky early version of ``im``: the earlier the preview, the coarser."""
    step = 2 ** (total - index + 2)
    w, h = im.size
    small = im.resize((max(1, w // step), max(1, h // step)), Image.Resampling.BILINEAR)
    return small.resize((w, h), Image.Resampling.NEAREST)


def _follow_markup(src: Image.Image, fresh: Image.Image, strokes: Image.Image) -> Image.Image:
    """What a model does with markup, visibly: the area the strokes cover is redrawn in their
    colour, and the strokes themselves do not appear."""
    from ..markup import region

    where = region(strokes)
    rgb = strokes.convert("RGB")
    colour = tuple(int(c) for c in ImageStat.Stat(rgb, strokes.getchannel("A")).mean)
    tinted = ImageChops.blend(fresh, Image.new("RGB", src.size, colour), 0.6)
    return Image.composite(tinted, src, where)


def _with_references(picture: Image.Image, references: list) -> Image.Image:
    """A generate with reference images shows them as small insets along the bottom edge: no
    model looks at them, so the stand-in at least shows that they arrived and in what order."""
    side = max(16, min(picture.size) // 6)
    for i, data in enumerate(references):
        try:
            ref = Image.open(io.BytesIO(data)).convert("RGB")
        except Exception:
            continue
        ref.thumbnail((side, side))
        x, y = 4 + i * (side + 4), picture.height - ref.height - 4
        if x + ref.width > picture.width:
            break
        picture.paste(ref, (x, y))
    return picture


class OfflineProvider(Provider):
    name = "offline"
    label = "Offline stand-in ($0)"
    offline = True

    @classmethod
    def connect(cls, key=None, base_url=None, retry=None, timeout=None) -> "OfflineProvider":
        return cls()

    def wire(self, model, call):
        return Wire("LOCAL", "offline://stand-in", {}, json={"prompt": call.prompt, **call.params})

    def send(self, model, call: Call, cancel=None, on_preview=None):
        seed = call.params.get("seed")
        n = int(call.params.get("n") or 1)
        sources = [im for im in call.images if not isinstance(im, FileRef)]
        if call.kind == "generate" or not sources:
            out = [_with_references(draw(call.prompt, _size(call.params), seed, i), sources) for i in range(n)]
        else:
            src = Image.open(io.BytesIO(sources[0])).convert("RGB")
            out = []
            for i in range(n):
                fresh = draw(call.prompt, src.size, seed, i)
                if call.markup is not None:
                    edited = _follow_markup(src, fresh, call.markup)
                elif call.mask is not None:
                    edited = Image.composite(fresh, src, call.mask)
                else:
                    # No mask: the whole picture shifts towards the new prompt, still recognisable.
                    edited = ImageChops.blend(src, fresh, 0.45)
                    _label(ImageDraw.Draw(edited), edited.size, call.prompt)
                out.append(edited)
        if on_preview is not None:
            for k in range(call.previews):  # coarse drafts of the first picture, as a model streams them
                on_preview(_png(_draft(out[0], k, call.previews)), k)
        digest = hashlib.sha256(call.prompt.encode()).hexdigest()[:12]
        return Answer(images=[_png(im) for im in out], text=f"({LABEL}: no model was called, $0)",
                      usage=Usage(input_images=len(sources)), request_id=f"offline-{digest}",
                      finish_reason="STOP")
