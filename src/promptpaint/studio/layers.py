"""What is painted over the image shown: the mask (where Edit may change pixels) and the markup
(strokes saying what to draw), each checked against the image's size before a pixel is decoded.

Both belong to the image they were drawn on: showing another image drops them.
"""

from __future__ import annotations

from PIL import Image

from .. import images, masks
from ..errors import InvalidRequest
from ..store import encode_png


class Layers:
    def __init__(self):
        self.size: list[int] = []               # the image shown, [width, height]; [] before one
        self.mask: Image.Image | None = None    # "L", 255 = change
        self.markup: Image.Image | None = None  # RGBA strokes

    def new_image(self, size: list[int]) -> None:
        self.size, self.mask, self.markup = list(size), None, None

    def set_mask(self, value) -> None:
        """A mask from Python (PIL image, array, bytes, path): non-zero where to change."""
        if value is None:
            self.mask = None
            return
        if not self.size:
            raise InvalidRequest("There is no image to mask yet.", param="mask")
        m = masks.normalise(value, tuple(self.size))
        self.mask = None if masks.is_empty(m) else m

    def set_mask_png(self, data: bytes) -> None:
        """The brush layer from the front end: a PNG at the image's size; empty bytes clear it."""
        if not data:
            self.mask = None
            return
        if not self.size:
            raise InvalidRequest("Paint the mask on an image: generate or upload one first.")
        size = images.png_size(data)
        if size is None:
            raise InvalidRequest("The mask must be a PNG.", param="mask")
        # Checked from the header: a huge mask is refused before a single pixel is decoded.
        if list(size) != list(self.size):
            raise InvalidRequest(f"The mask is {size[0]}x{size[1]} but the image is "
                                 f"{self.size[0]}x{self.size[1]}; repaint it.", param="mask")
        m = masks.normalise(images.open_image(data, "The mask"), tuple(size))
        self.mask = None if masks.is_empty(m) else m

    def set_markup_png(self, data: bytes) -> None:
        """The markup layer from the front end: a transparent PNG at the image's size; empty bytes clear it."""
        if not data:
            self.markup = None
            return
        if not self.size:
            raise InvalidRequest("Draw markup on an image: generate or upload one first.")
        size = images.png_size(data)
        if size is None or list(size) != list(self.size):
            raise InvalidRequest("The markup must be a PNG the size of the image; draw it again.",
                                 param="markup")
        layer = images.open_image(data, "The markup").convert("RGBA")
        self.markup = layer if layer.getchannel("A").getbbox() else None

    def mask_png(self) -> bytes | None:
        """The mask as the brush layer draws it: white, alpha 255 where painted; None without one."""
        if self.mask is None:
            return None
        layer = Image.new("RGBA", self.mask.size, (255, 255, 255, 0))
        layer.putalpha(self.mask)
        return encode_png(layer)


__all__ = ["Layers"]
