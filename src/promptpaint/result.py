"""``Result``: one call's outcome, its images already on disk."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from PIL import Image

from . import images, pricing
from .errors import InvalidRequest
from .clock import utc_now
from .ledger import dollars


@dataclass
class Result:
    """One call's outcome. Images are on disk (``paths``) before this object exists."""

    prompt: str
    provider: str
    model: str
    kind: str
    params: dict
    ids: list[str]
    paths: list[Path]
    text: str | None
    usage: pricing.Usage
    cost: Decimal | None
    request_id: str | None = None
    finish_reason: str | None = None
    revised_prompt: str | None = None
    cached: bool = False
    duration: float = 0.0
    ledger_id: int | None = None
    offline: bool = False
    created: str = field(default_factory=lambda: utc_now().isoformat(timespec="seconds"))
    reserved: Decimal | None = None  # what counts against budgets while ``cost`` is unknown
    _images: list | None = field(default=None, repr=False)

    @property
    def images(self) -> list[Image.Image]:
        if self._images is None:
            self._images = [_open(p) for p in self.paths]
        return self._images

    @property
    def image(self) -> Image.Image:
        return self.images[0]

    def save(self, path, index: int = 0) -> Path:
        """Write image ``index`` to ``path`` (.png, .jpg, .webp) with how it was made inside it:
        prompt, provider, model, parameters, seed, cost, ledger row, time. ``pp.provenance(path)``
        reads it back. An image with a C2PA manifest is written unchanged, its story beside it."""
        from . import imagemeta

        return imagemeta.save(self, path, index)

    def __repr__(self) -> str:
        cost = dollars(self.cost)
        if self.cost is None and self.reserved:
            cost = f"cost unknown (up to {dollars(self.reserved)} counted against budgets)"
        tag = " (cached)" if self.cached else " (offline stand-in)" if self.offline else ""
        return (f"<Result {self.provider}/{self.model} {len(self.ids)} image(s), {cost}{tag}: "
                f"{self.prompt[:40]!r}>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The image(s) as small thumbnails with a one-line caption, for notebooks and their HTML."""
        from .display import result_bundle

        return result_bundle(self)

    def _repr_png_(self):
        """The first image as a small PNG, or None when it is better sent as a JPEG (a photo)."""
        from .display import first_thumbnail

        return first_thumbnail(self, "image/png")

    def _repr_jpeg_(self):
        from .display import first_thumbnail

        return first_thumbnail(self, "image/jpeg")


def open_bytes(data: bytes) -> Image.Image:
    """Encoded image bytes as a loaded PIL image (only the formats ``images`` allows)."""
    im = Image.open(io.BytesIO(data), formats=images.FORMATS)
    im.load()
    return im


def _open(path: Path) -> Image.Image:
    if Path(path).suffix == ".svg":
        raise InvalidRequest(f"This result is an SVG drawing, not pixels: its file is {path} "
                             "(result.paths), and result.save('name.svg') writes it with its story.",
                             param="output_format")
    im = Image.open(path, formats=images.FORMATS)
    im.load()
    return im
