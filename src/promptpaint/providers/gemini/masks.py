"""Gemini's mask encoding: there is no mask field, so the mask travels as a second picture with
an instruction that says what it means."""

from __future__ import annotations

import io

from PIL import Image

MASK_INSTRUCTION = (
    "The second image is a mask of the first: change only the region that is white in the mask, "
    "following the instruction above, and keep every part that is black exactly as it is. "
    "Return the full edited image at the first image's size and framing."
)


def mask_png(mask: Image.Image) -> bytes:
    """A black-and-white picture sent beside the image, white = edit."""
    buf = io.BytesIO()
    mask.convert("RGB").save(buf, format="PNG")
    return buf.getvalue()
