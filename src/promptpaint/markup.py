"""Markup: strokes that say *what* to draw (an arrow, a sketched hat), beside the mask's *where*.

A markup layer is a transparent image the size of the picture, opaque where the user drew. Models
whose registry entry takes ``markup`` get it as is (OpenAI's multipart ``markup`` file); every
other model gets the strokes composited onto the picture and an instruction appended to the prompt
that the marks show what to draw and must not appear in the result.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from .errors import InvalidRequest
from .masks import MAX_ASPECT_DRIFT, to_image

INSTRUCTION = ("The coloured strokes drawn over this image are instructions, not part of the "
               "picture: they show what to draw and where. Carry them out, and do not reproduce "
               "the strokes themselves in the result.")


def layer(markup, size: tuple[int, int]) -> Image.Image:
    """The markup as RGBA at exactly ``size`` (the first image's), transparent where undrawn.

    A layer with no transparency cannot be told apart from a photo: it is refused, as is an empty
    one. Another resolution of the same shape is rescaled; another shape is an error.
    """
    im = to_image(markup)
    if im.mode not in ("RGBA", "LA", "PA") and not (im.mode == "P" and "transparency" in im.info):
        raise InvalidRequest("The markup must be a transparent PNG (RGBA): strokes on a transparent "
                             "background, the size of the image.", param="markup")
    im = im.convert("RGBA")
    if im.size != size:
        (mw, mh), (w, h) = im.size, size
        if abs(mw / mh - w / h) > MAX_ASPECT_DRIFT * (w / h):
            raise InvalidRequest(f"The markup is {mw}x{mh} but the image is {w}x{h}: draw it on the "
                                 "image itself, at its shape.", param="markup")
        im = im.resize(size, Image.Resampling.LANCZOS)
    if im.getchannel("A").getbbox() is None:
        raise InvalidRequest("The markup is empty: draw some strokes, or edit without markup.",
                             param="markup")
    return im


def png(markup: Image.Image) -> bytes:
    buf = io.BytesIO()
    markup.save(buf, format="PNG")
    return buf.getvalue()


def composite(image: bytes | Image.Image, markup: Image.Image) -> bytes:
    """The picture with the strokes drawn onto it, as PNG (for models that take no markup)."""
    base = to_image(image).convert("RGBA")
    out = Image.alpha_composite(base, markup)
    if to_image(image).mode not in ("RGBA", "LA"):
        out = out.convert("RGB")
    return png(out)


def with_instruction(prompt: str) -> str:
    return f"{prompt}\n\n{INSTRUCTION}"


def region(markup: Image.Image, grow: int = 15) -> Image.Image:
    """An "L" mask of where the strokes are, widened by ``grow`` pixels: the area they speak about."""
    alpha = markup.getchannel("A").point(lambda v: 255 if v else 0)
    if not grow:
        return alpha
    # Widen at a quarter of the size: a rank filter's cost grows with its area.
    w, h = alpha.size
    small = alpha.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BOX).point(lambda v: 255 if v else 0)
    small = small.filter(ImageFilter.MaxFilter(2 * max(1, grow // 4) + 1))
    return small.resize((w, h), Image.Resampling.NEAREST)
