"""OpenAI's mask encoding: the Images API takes a mask file of its own."""

from __future__ import annotations

import io

from PIL import Image, ImageChops


def mask_png(mask: Image.Image) -> bytes:
    """An RGBA PNG the image's size, alpha 0 where to edit, opaque elsewhere (``mask`` is "L",
    255 where the user painted)."""
    rgba = Image.new("RGBA", mask.size, (0, 0, 0, 255))
    rgba.putalpha(ImageChops.invert(mask))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    return buf.getvalue()
