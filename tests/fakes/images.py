"""What both fakes draw and count: the generated picture (a fill named by the prompt, so a test can
tell which prompt made which image) and the rough token count of a text."""

from __future__ import annotations

import functools
import hashlib
import io
import math

from PIL import Image, ImageDraw


def colour_for(text: str) -> tuple[int, int, int]:
    """The fill colour of generated images: the first three bytes of sha256(text, UTF-8)."""
    d = hashlib.sha256(text.encode("utf-8")).digest()
    return (d[0], d[1], d[2])


def marker_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return (255 - rgb[0], 255 - rgb[1], 255 - rgb[2])


@functools.lru_cache(maxsize=128)
def render_image(width: int, height: int, rgb: tuple, index: int = 0, fmt: str = "png",
                 transparent: bool = False, compression: int = 100) -> bytes:
    """Solid fill of ``rgb`` with a marker in the top-left corner: a bar 8 px tall and
    8*(index+1) px wide (clipped to the image) in the inverted colour. Transparent PNG/WebP:
    RGBA with the fill at alpha 0 and the marker opaque."""
    if transparent:
        img = Image.new("RGBA", (width, height), tuple(rgb) + (0,))
        mark = marker_colour(rgb) + (255,)
    else:
        img = Image.new("RGB", (width, height), tuple(rgb))
        mark = marker_colour(rgb)
    ImageDraw.Draw(img).rectangle([0, 0, min(width, 8 * (index + 1)) - 1, min(height, 8) - 1], fill=mark)
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", compress_level=1)
    elif fmt == "jpeg":
        img.convert("RGB").save(buf, "JPEG", quality=max(1, min(95, compression)))
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=max(1, min(100, compression)))
    else:  # pragma: no cover
        raise ValueError(fmt)
    return buf.getvalue()


@functools.lru_cache(maxsize=32)
def render_gif(width: int, height: int, rgb: tuple, frames: int, duration_ms: int) -> bytes:
    """An animated GIF of ``frames`` frames, ``duration_ms`` each, looping: the fill of ``rgb`` with
    the marker bar growing by 8 px a frame, so a test can count the frames and tell them apart."""
    images = []
    for k in range(frames):
        img = Image.new("RGB", (width, height), tuple(rgb))
        ImageDraw.Draw(img).rectangle([0, 0, min(width, 8 * (k + 1)) - 1, min(height, 8) - 1],
                                      fill=marker_colour(rgb))
        images.append(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=4))
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0,
                   disposal=1, optimize=False)
    return buf.getvalue()


def svg_picture(width: int, height: int, rgb: tuple) -> str:
    """The SVG the fake's authoring model writes: the fill and the marker bar, as vector shapes."""
    fill, mark = "#%02x%02x%02x" % tuple(rgb), "#%02x%02x%02x" % marker_colour(rgb)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="{fill}"/>'
            f'<rect width="{min(width, 8)}" height="{min(height, 8)}" fill="{mark}"/></svg>')


def text_tokens(text: str, worst: bool = False) -> int:
    """About 4 ASCII characters a token and one token a non-ASCII character; at worst a byte each."""
    if worst:
        return len(text.encode("utf-8"))
    return sum(1 for c in text if ord(c) > 127) + math.ceil(sum(1 for c in text if ord(c) <= 127) / 4)


def preview_of(png: bytes, index: int, total: int) -> bytes:
    """A coarse draft of ``png`` for a streamed preview: the earlier the preview, the blockier."""
    im = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = im.size
    step = 2 ** (total - index + 2)
    small = im.resize((max(1, w // step), max(1, h // step)), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    small.resize((w, h), Image.Resampling.NEAREST).save(buf, format="PNG")
    return buf.getvalue()
