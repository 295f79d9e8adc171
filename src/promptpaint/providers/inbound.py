"""A provider request as it arrives at the class gateway, read for what it may cost.

The gateway forwards a student's request unchanged, but first it must know what it is (model,
parameters in promptpaint's names, input images, previews) to reserve its worst case with the
same ``pricing`` code the Client uses. Each provider reads its own wire format into an
``Inbound`` (``openai/inbound.py``, ``gemini/inbound.py``) and reads the usage back out of the
answer; anything it cannot price is refused before a cent is spent.

Each of those modules is the gateway's whole view of its provider: ``ROUTES`` (paths under the
provider's gateway prefix), ``read`` (a request into an ``Inbound``), ``upstream_path`` and
``upstream_query`` (what goes upstream, rebuilt from what was checked), ``auth_headers`` (the
teacher's key where the provider takes it), ``refusal_body`` (an error in the provider's shape)
and ``outcome`` (the usage in the answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field



@dataclass
class Inbound:
    provider: str
    model: str
    kind: str                  # generate | edit | chat
    prompt: str                # the student's own words (the last turn's text), for the ledger row
    params: dict               # promptpaint's names (size, quality, n, image_size...), unchecked
    images: list = field(default_factory=list)   # this turn's input images: bytes (only their
                                                 # count and the first one's size matter)
    history: list = field(default_factory=list)  # earlier turns, provider-shaped (camelCase)
    mask: bool = False         # a mask file was sent (an input image, billed as one)
    markup: bool = False       # a markup layer was sent (likewise)
    previews: int = 0          # streamed previews asked for
    stream: bool = False

    @property
    def input_images(self) -> int:
        """Every image the request carries, as the usage's ``input_images`` counts them."""
        turns = sum(1 for t in self.history for p in t.get("parts", []) if "inlineData" in p or "fileData" in p)
        return len(self.images) + self.mask + self.markup + turns


@dataclass
class Outcome:
    """What the provider's answer says was billed: ``usage`` (None when it cannot be read, then
    the call is booked at its reservation), why not, and the provider's request id."""

    usage: object | None
    problem: str | None = None
    request_id: str | None = None
    refusal: str | None = None
    images: int = 0
    answered: bool = True      # False: the answer itself was cut off or unreadable
