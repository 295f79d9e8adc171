"""Content-addressed image store: every image is on disk, named by its sha256, before anyone sees it."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image

EXT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ImageStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> tuple[str, Path]:
        """Write ``data`` (encoded image bytes) once; return its sha256 and path."""
        digest = sha256(data)
        existing = self.find(digest)
        if existing is not None:
            return digest, existing
        with Image.open(io.BytesIO(data)) as im:
            ext = EXT.get(im.format or "PNG", "png")
        path = self.root / f"{digest}.{ext}"
        # Write then rename, so a crash never leaves half an image under a valid name.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return digest, path

    def put_image(self, image: Image.Image) -> tuple[str, Path]:
        return self.put(encode_png(image))

    def find(self, digest: str) -> Path | None:
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
