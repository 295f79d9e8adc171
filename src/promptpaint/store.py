"""Content-addressed image store: every image is on disk, named by its sha256, before anyone sees it."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

from PIL import Image

from .errors import InvalidRequest

EXT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "SVG": "svg"}
MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
        "svg": "image/svg+xml"}
RASTER = ("png", "jpg", "webp", "gif")  # what Pillow opens; an SVG (a model's drawing) is kept, not opened
_ID = re.compile(r"[0-9a-f]{64}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The file extension for PNG, JPEG, WEBP or GIF bytes, from their signature; None otherwise.

    Signatures, not Pillow: opening a file with Pillow to learn its type would accept any of
    the dozens of formats it reads (TIFF, PPM, EPS through Ghostscript...).
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    from .svgstory import is_svg

    if is_svg(bytes(data[:32])):
        return "svg"
    return None


def check_id(digest) -> str:
    """``digest`` if it is a store id (64 lowercase hex digits), else InvalidRequest.

    Ids come from the front end too: anything else could name a path outside the store.
    """
    if isinstance(digest, str) and _ID.fullmatch(digest):
        return digest
    shown = repr(digest)[:40] + ("…" if len(repr(digest)) > 40 else "")
    raise InvalidRequest(f"{shown} is not an image id: ids are 64 hexadecimal digits (a sha256).",
                         param="image_id")


class ImageStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> tuple[str, Path]:
        """Write ``data`` (PNG, JPEG, WEBP or GIF bytes, kept as they are) once, under the
        extension of its real format; return its sha256 and path."""
        ext = sniff(data)
        if ext is None:
            raise InvalidRequest("Only PNG, JPEG, WEBP, GIF and SVG images are stored: convert it to PNG first.",
                                 param="image")
        digest = sha256(data)
        existing = self.find(digest)
        if existing is not None:
            return digest, existing
        path = self.root / f"{digest}.{ext}"
        # Write then rename, so a crash never leaves half an image under a valid name; a failed
        # write (a full disk) removes its partial file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return digest, path

    def put_image(self, image: Image.Image) -> tuple[str, Path]:
        return self.put(encode_png(image))

    def find(self, digest: str) -> Path | None:
        """The file of image ``digest``, or None when it is not in the store."""
        check_id(digest)
        for ext in EXT.values():
            p = self.root / f"{digest}.{ext}"
            if p.exists():
                return p
        return None

    def read(self, digest: str) -> bytes:
        p = self.find(digest)
        if p is None:
            raise FileNotFoundError(f"No image {digest[:12]}… in the store at {self.root}.")
        return p.read_bytes()

    def open(self, digest: str) -> Image.Image:
        im = Image.open(io.BytesIO(self.read(digest)))
        im.load()
        return im


def encode_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
