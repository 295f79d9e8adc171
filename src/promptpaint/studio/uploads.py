"""Pictures in and out of the Studio: uploads (stored as they came, under their own extension)
and the bytes the front end fetches, with a bounded cache of thumbnails."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from pathlib import Path

from .. import images, masks
from ..errors import InvalidRequest
from ..store import check_id, encode_png
from . import past
from .history import StudioTurn

THUMB = 160
THUMB_CACHE = 256    # thumbnails kept in memory; a long session must not grow without bound


def upload(s: "Session", data: bytes, name: str = "image") -> "StudioTurn":
    """Store an uploaded PNG/JPEG/WebP/GIF as it came (same bytes, its own extension) and show it."""
    name = (name or "image")[:120]
    images.open_image(data, name)  # refuses other formats, huge or damaged files
    digest, path = s.store.put(bytes(data))
    past.record_upload(digest, name)
    return s.add_turn("upload", f"(uploaded {name})", {}, [digest], [path], Decimal(0), None, None)


def encoded(image) -> bytes:
    """``image`` (PIL image, array, path or encoded bytes) as encoded bytes."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise InvalidRequest(f"No image file at {path}.", param="image")
        return path.read_bytes()
    return encode_png(images.rgb_or_rgba(masks.to_image(image)))


def load(s: "Session", image, name: str = "image") -> "StudioTurn":
    """``image`` (PIL image, array, path or encoded bytes) as the picture to edit."""
    if isinstance(image, (str, Path)):
        name = Path(image).name
    return s.upload(encoded(image), name)


def image_bytes(s: "Session", thumbs: OrderedDict, image_id, thumb: bool = False) -> tuple[bytes, str]:
    """The bytes and MIME type of a stored image (a small PNG when ``thumb``, kept in ``thumbs``)."""
    check_id(image_id)
    if thumb and image_id in thumbs:
        thumbs.move_to_end(image_id)
        return thumbs[image_id], "image/png"
    path = s.store.find(image_id)
    if path is None:
        raise InvalidRequest("That image is not in the store any more.", param="id")
    data = path.read_bytes()
    mime = images.mime_of(data)
    if mime is None:
        raise InvalidRequest(f"The stored file {path.name} is damaged: it is not an image.", param="id")
    if not thumb or mime in ("image/gif", "image/svg+xml"):
        return data, mime  # a thumbnail would stop the animation or rasterise the drawing
    im = images.open_image(data, f"The stored file {path.name}")
    im.thumbnail((THUMB, THUMB))
    small = encode_png(images.rgb_or_rgba(im))
    thumbs[image_id] = small
    while len(thumbs) > s.thumb_cache_size:
        thumbs.popitem(last=False)
    return small, "image/png"


__all__ = ["upload", "load", "image_bytes", "THUMB", "THUMB_CACHE"]
