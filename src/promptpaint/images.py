"""Image bytes as promptpaint accepts them: which formats, how big, which MIME type, which modes.

Each rule lives here once, so the widget, the client and the providers cannot drift apart
(they used to: 20 MB in one place and 50 MB in another, MIME guessed three ways).
"""

from __future__ import annotations

import io
import struct

from PIL import Image

from .errors import InvalidRequest
from .store import MIME, sniff

# Only these are ever handed to Pillow: its other plugins (TIFF, PPM, EPS → Ghostscript…) are
# attack surface, and no provider takes them anyway. The signatures themselves live in store.sniff.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# Gemini caps a whole inline request at 20 MB, so one limit that works for both providers.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000


def mime_of(data: bytes) -> str | None:
    """The MIME type named by the bytes' signature (PNG, JPEG, WebP or GIF), or None."""
    ext = sniff(bytes(data[:12]))
    return MIME[ext] if ext else None


def check_bytes(data: bytes, name: str = "The image") -> str:
    """Refuse what is too big or not PNG/JPEG/WebP/GIF, before Pillow sees it; return its extension."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidRequest(f"{name} is {len(data) / 2**20:.1f} MB; the limit is "
                             f"{MAX_UPLOAD_BYTES // 2**20} MB. Resize or compress it first.", param="image")
    ext = sniff(bytes(data[:12]))
    if ext == "svg":
        raise InvalidRequest(f"{name} is an SVG drawing: image models take pixels, so export it as "
                             "PNG first.", param="image")
    if ext is None:
        raise InvalidRequest(f"{name} is not an image we can read: use PNG, JPEG, WebP or GIF.",
                             param="image")
    return ext


def open_image(data: bytes, name: str = "The image", *, load: bool = True) -> Image.Image:
    """Open PNG/JPEG/WebP/GIF bytes (and nothing else); the pixel count is checked before decoding."""
    check_bytes(data, name)
    try:
        im = Image.open(io.BytesIO(bytes(data)), formats=FORMATS)
        w, h = im.size
    except Exception:
        raise InvalidRequest(f"{name} is damaged or not an image we can read: use PNG, JPEG, WebP "
                             "or GIF.", param="image") from None
    if w * h > MAX_PIXELS:
        raise InvalidRequest(f"{name} is {w}x{h} pixels; the limit is {MAX_PIXELS // 1_000_000} "
                             "megapixels.", param="image")
    if load:
        try:
            im.load()
        except Exception:
            raise InvalidRequest(f"{name} is damaged: its pixels cannot be read.", param="image") from None
    return im


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk, without decoding anything; None if not a PNG."""
    if sniff(bytes(data[:12])) != "png" or len(data) < 24 or bytes(data[12:16]) != b"IHDR":
        return None
    return struct.unpack(">II", bytes(data[16:24]))


def rgb_or_rgba(im: Image.Image) -> Image.Image:
    """The image in a mode every provider and encoder takes: RGBA if it has alpha, else RGB."""
    if im.mode in ("RGB", "RGBA"):
        return im
    has_alpha = "A" in im.getbands() or (im.mode == "P" and "transparency" in im.info)
    return im.convert("RGBA" if has_alpha else "RGB")


def drop_empty(params: dict) -> dict:
    """Parameters without the unset ones: None and "" mean "let the provider choose"."""
    return {k: v for k, v in params.items() if v is not None and v != ""}
