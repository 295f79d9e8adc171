"""The one interface between the engine and a provider's wire format."""

from __future__ import annotations

import abc
import threading
from typing import Callable
from dataclasses import dataclass, field

from PIL import Image

from ..pricing import Usage
from ..registry import Model


@dataclass(frozen=True)
class FileRef:
    """An image the provider fetches itself (Gemini ``fileData``), e.g. a ``gs://`` or Files API URI."""

    uri: str
    mime_type: str = "image/png"


@dataclass
class Call:
    """A normalised request: what to do, with inputs already checked and encoded."""

    kind: str                                   # generate | edit | chat
    prompt: str
    params: dict
    images: list = field(default_factory=list)  # PNG/JPEG bytes or FileRef, first is the one edited
    mask: Image.Image | None = None             # "L", 255 = change, the first image's size
    history: list = field(default_factory=list) # earlier turns, provider-shaped (Gemini contents)
    markup: Image.Image | None = None           # RGBA strokes at the first image's size (what to draw)
    previews: int = 0                           # stream up to this many previews (0: no streaming)


@dataclass
class Answer:
    images: list[bytes]
    text: str | None
    usage: Usage
    usage_problem: str | None = None     # why the usage cannot be trusted: the cost is then unknown
    request_id: str | None = None
    finish_reason: str | None = None
    refusal: str | None = None           # set when the provider answered without an image
    turn: dict | None = None             # the model's turn as sent, for multi-turn replay
    user_turn: dict | None = None        # our turn as sent
    revised_prompt: str | None = None
    attempts: int = 1


@dataclass
class Wire:
    """A request as it goes on the wire, with the key replaced by an environment variable name."""

    method: str
    url: str
    headers: dict
    json: dict | None = None
    form: dict | None = None
    files: list | None = None   # [(field, filename)]


class Provider(abc.ABC):
    name: str
    offline = False
    preview_tokens = 0   # output image tokens each streamed preview adds to the bill

    @abc.abstractmethod
    def send(self, model: Model, call: Call, cancel: threading.Event | None = None,
             on_preview: Callable[[bytes, int], None] | None = None) -> Answer:
        """Make the call; raise a PromptpaintError for anything but an answer. With
        ``call.previews``, stream and hand each preview's bytes to ``on_preview(data, index)``."""

    @abc.abstractmethod
    def wire(self, model: Model, call: Call) -> Wire:
        """The request ``send`` would make, for "show code"; never contains the key."""
