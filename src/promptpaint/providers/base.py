"""The one interface between the engine and a provider's wire format."""

from __future__ import annotations

import abc
import threading
from typing import TYPE_CHECKING, Callable
from dataclasses import dataclass, field

from PIL import Image

from ..errors import InvalidRequest

if TYPE_CHECKING:  # annotations only: pricing asks the providers how output is counted
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
    provider: str | None = None # whose request it is: "show code" asks that provider for its shapes
    payloads: dict | None = None # filename in ``files`` -> the bytes sent (show code writes them out)


class Provider(abc.ABC):
    """A provider's wire format, and what the rest of the package needs to know about it."""

    name: str
    label: str
    key_env: tuple[str, ...] = ()          # environment variables holding its key, in the order read
    base_url_env: str | None = None        # the variable that overrides its base URL, by convention
    default_base_url: str | None = None
    offline = False                        # needs no key and no network, costs nothing
    replays_conversation = False           # a chat sends the whole history (else: edits the last image)
    takes_uris = False                     # fetches gs:// or https:// images itself
    preview_tokens = 0                     # output image tokens each streamed preview adds to the bill
    masks_by_instruction = False           # no mask input: any model takes a mask, sent as instruction + image
    key_placeholder = ""                   # how "show code" writes the key: an environment variable
    request_id_headers: tuple[str, ...] = ("x-request-id",)  # where a reply names its request id
    mask_instruction = ""                  # text a masked call adds to the prompt (billed as input)
    # "Show code": how a snippet gets the image out of the answer (a jq filter, then Python lines
    # that read ``resp``).
    snippet_curl_output = ""
    snippet_python_output: tuple[str, ...] = ()

    # -- hooks the rest of the package asks, so no provider name appears outside providers/ ----
    @staticmethod
    def history_inputs(history: list) -> tuple[int, str]:
        """Input images and text a replayed conversation adds to a call (billed as input)."""
        return 0, ""

    @staticmethod
    def compact_turn(content: dict | None, store) -> dict | None:
        """A provider-shaped turn made small to keep (images swapped for store ids)."""
        return content

    @staticmethod
    def inflate_turn(content: dict, store) -> dict:
        """A kept turn made whole again for the replay (``compact_turn`` undone)."""
        return content

    @staticmethod
    def inline_images(body: dict):
        """The dicts of a request body whose ``"data"`` is an image (for "show code" to swap for
        files)."""
        return iter(())

    @classmethod
    def batch_api(cls, key, base_url: str):
        """A client for this provider's Batch API (``submit``, ``poll``, ``cancel``,
        ``outcomes``, ``line``), or InvalidRequest when it has none."""
        raise InvalidRequest(f"{cls.label} has no Batch API: use pp.Sweep or a loop of generate() calls.",
                             param="provider")

    def batches(self):
        """``batch_api`` with this connection's own key and base URL."""
        return self.batch_api(self._key, self.base_url)

    @staticmethod
    def classify(status: int, body: dict, headers, request_id: str | None):
        """The PromptpaintError for a failed answer (status, parsed body)."""
        raise NotImplementedError

    @staticmethod
    def retry_delay(body: dict) -> float | None:
        """A wait the provider asked for inside the error body (beyond Retry-After headers)."""
        return None

    @staticmethod
    def worst_output(model: Model, wc: dict, params: dict, first_image_size) -> dict:
        """The largest output a call can be billed for, as ``Usage`` fields, from the model's
        worst-case table ``wc``; raises ``pricing.Unbounded`` when nothing bounds it. A provider
        whose models have worst-case figures in models.json must say how its output is counted."""
        raise NotImplementedError(f"{model.id} has worst-case figures but its provider does not "
                                  "say how its output is counted (Provider.worst_output)")

    @staticmethod
    def image_model(model_id: str) -> bool:
        """True when an id from the provider's model list names an image model: what ``models
        --check`` reports as reached but not priced (a key also reaches text and audio models)."""
        return "image" in model_id

    def list_models(self, cancel: threading.Event | None = None) -> list[str]:
        """The ids of the models this connection's key reaches, from the provider's own list."""
        raise InvalidRequest(f"{self.label} has no model list to check.", param="provider")

    @classmethod
    def connect(cls, key, base_url: str, retry, timeout: float) -> "Provider":
        """An instance that talks to ``base_url`` with ``key``, retrying as ``retry`` says
        (``providers.http.HTTPProvider`` does it over a ``Transport``)."""
        raise NotImplementedError(f"{cls.__name__}.connect")

    @abc.abstractmethod
    def send(self, model: Model, call: Call, cancel: threading.Event | None = None,
             on_preview: Callable[[bytes, int], None] | None = None) -> Answer:
        """Make the call; raise a PromptpaintError for anything but an answer. With
        ``call.previews``, stream and hand each preview's bytes to ``on_preview(data, index)``."""

    @abc.abstractmethod
    def wire(self, model: Model, call: Call) -> Wire:
        """The request ``send`` would make, for "show code"; never contains the key."""
