"""Masks in the user's terms (painted = change). Each provider's own encoding lives with it
(``providers/openai/masks.py``, ``providers/gemini/masks.py``)."""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter

from . import images
from .errors import InvalidRequest

MAX_ASPECT_DRIFT = 0.02  # a mask may be rescaled to the image, not reshaped


def to_image(value) -> Image.Image:
    """Open PNG/JPEG/WebP/GIF bytes or file, a PIL image or an array as a PIL image."""
    if isinstance(value, Image.Image):
        return value
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, (bytes, bytearray)):
        return images.open_image(bytes(value))
    if isinstance(value, str) or hasattr(value, "__fspath__"):
        try:
            with open(value, "rb") as f:
                data = f.read()
        except OSError:
            raise InvalidRequest(f"No image file at {value}.") from None
        return images.open_image(data, str(value))
    if hasattr(value, "__array_interface__"):
        arr = value
        if getattr(arr, "dtype", None) is not None and arr.dtype == bool:
            arr = arr.astype("uint8") * 255
        return Image.fromarray(arr)
    raise InvalidRequest(f"Expected an image (PIL image, bytes, path or array), not {type(value).__name__}.")


def normalise(mask, size: tuple[int, int]) -> Image.Image:
    """An "L" mask, 255 where the user painted (non-zero), 0 elsewhere, at exactly ``size``.

    RGBA and LA masks are read by their alpha (a brush layer is transparent where unpainted);
    everything else by its value. A mask of another shape than the image is an error; one of
    the same shape but another resolution is rescaled.
    """
    im = to_image(mask)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        plane = im.convert("RGBA").getchannel("A")
    else:
        plane = im.convert("L")
    plane = plane.point(lambda v: 255 if v else 0)
    if plane.size != size:
        (mw, mh), (w, h) = plane.size, size
        if abs(mw / mh - w / h) > MAX_ASPECT_DRIFT * (w / h):
            raise InvalidRequest(
                f"The mask is {mw}x{mh} but the image is {w}x{h}: paint the mask on this image, "
                "or pass a mask of the same proportions.", param="mask")
        plane = plane.resize(size, Image.NEAREST)
    return plane


def is_empty(mask: Image.Image) -> bool:
    return mask.getbbox() is None


def composite(original: Image.Image, edited: Image.Image, mask: Image.Image,
              feather: int = 4) -> Image.Image:
    """The edited pixels inside the mask, the original pixels everywhere else.

    The feather softens the seam *inside* the painted area only, so every pixel outside the mask
    is byte-for-byte the original.
    """
    base = original.convert("RGBA")
    edited = edited.convert("RGBA")
    if edited.size != base.size:
        edited = edited.resize(base.size, Image.LANCZOS)
    alpha = mask
    if feather > 0:
        # The blur is about 128 on the edge and 255 deep inside; stretch that band to a ramp that
        # ends a few pixels in, then cut at the mask so the outside stays exactly 0.
        ramp = mask.filter(ImageFilter.GaussianBlur(feather / 2)).point(
            lambda v: 0 if v <= 112 else min(255, (v - 112) * 255 // 80))
        alpha = ImageChops.darker(mask, ramp)
    out = Image.composite(edited, base, alpha)
    return out if original.mode == "RGBA" else out.convert(original.mode if original.mode in ("RGB", "L") else "RGB")
