"""A provider request as it arrives at the class gateway, read for what it may cost.

The gateway forwards a student's request unchanged, but first it must know what it is (model,
parameters in promptpaint's names, input images, previews) to reserve its worst case with the
same ``pricing`` code the Client uses. Each provider reads its own wire format into an
``Inbound`` (``openai_requests.py``, ``gemini_requests.py``) and reads the usage back out of the
answer; anything it cannot price is refused before a cent is spent.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from ..errors import InvalidRequest


class NotForwarded(InvalidRequest):
    """A request the gateway will not send: its cost could not be bounded, or it is malformed."""


@dataclass
class Inbound:
    provider: str
    model: str
    kind: str                  # generate | edit | chat
    prompt: str                # the student's own words, for the ledger row
    params: dict               # promptpaint's names (size, quality, n, image_size...), unchecked
    input_images: int = 0      # every image that counts as input (masks and markup included)
    history_text: str = ""     # other text that counts as input (earlier turns, instructions)
    first_image_size: tuple[int, int] | None = None
    previews: int = 0          # streamed previews asked for
    stream: bool = False


@dataclass
class Outcome:
    """What the provider's answer says was billed: ``usage`` (None when it cannot be read, then
    the call is booked at its reservation), why not, and the provider's request id."""

    usage: object | None
    problem: str | None = None
    request_id: str | None = None
    refusal: str | None = None
    images: int = 0
    extra: dict = field(default_factory=dict)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Pixel size from an image's header (no decode); None when it is not an image we read."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None
