"""``Chat``: multi-turn editing, each exchange kept as the provider needs it for the replay."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from PIL import Image

from .errors import InvalidRequest
from .plan import CallPlan, Request
from .result import Result


@dataclass
class Exchange:
    """One exchange of a chat: what was asked, what came back, and both turns as the provider
    shaped them (kept small, for the replay)."""

    prompt: str
    result: Result
    user: dict | None = None     # provider-shaped turns, for a provider that replays the chat
    model: dict | None = None


Turn = Exchange  # the old name, for one release: ``Turn`` now means a Studio history node only


class Chat:
    """Multi-turn editing. Each ``send`` edits the latest image; ``branch(i)`` goes back to turn i.

    Gemini replays the whole conversation, the model's own image parts and thought signatures
    included. OpenAI and the offline stand-in have no conversation: each turn edits the last image.
    """

    def __init__(self, client, turns: list[Exchange] | None = None):
        self.client = client
        self.turns: list[Exchange] = list(turns or [])

    @property
    def image(self) -> Image.Image | None:
        return self.turns[-1].result.image if self.turns else None

    def send(self, prompt: str, *, image=None, mask=None, preserve_unmasked: bool | None = None,
             feather: int = 4, cancel: threading.Event | None = None, markup=None, on_partial=None,
             partial_images: int | None = None, images=None, book_as: str | None = None,
             **params) -> Result:
        """Edit the latest image (or make the first) as ``prompt`` says; ``mask``, ``markup``,
        ``on_partial`` and ``partial_images`` as in ``Client.edit``; ``images`` adds reference
        images after the one edited. ``book_as`` names the ledger row's kind (default: "chat"
        after the first turn)."""
        refs = list(images or [])
        c = self.client
        provider = c.connection
        last = self.turns[-1].result.paths[0] if self.turns else None
        source = image if image is not None else last
        if provider.replays_conversation:
            history = [provider.inflate_turn(part, c.store) for t in self.turns for part in (t.user, t.model) if part]
            # The conversation already holds the latest image; send it again only to mask it.
            inputs = [source] if (image is not None or (mask is not None and source is not None)) else []
            kind = "chat"
        else:
            history = None
            inputs = [source] if source is not None else []
            kind = "edit" if inputs else "generate"
        edited = bool(inputs)
        if mask is not None and source is None:
            raise InvalidRequest("There is no image to mask yet: send a first prompt.", param="mask")
        if markup is not None and source is None:
            raise InvalidRequest("There is no image to draw on yet: send a first prompt.", param="markup")
        if kind == "chat" and (mask is not None or markup is not None) and not inputs:
            inputs, edited = [source], True
        book_kind = book_as or ("chat" if self.turns else ("edit" if edited else "generate"))
        inputs = inputs + refs  # references come after the image edited (a mask applies to the first)
        answered = []  # the provider-shaped turns travel on the Answer, for the replay
        request = Request(kind, prompt, inputs, mask, params, history=history, preserve_unmasked=preserve_unmasked,
                          feather=feather, markup=markup, on_partial=on_partial, partial_images=partial_images,
                          book_as=book_kind)
        result = CallPlan(c, request).run(cancel, on_answer=answered.append)
        user, model = (answered[0].user_turn, answered[0].turn) if answered else (None, None)
        keep = provider.compact_turn
        self.turns.append(Exchange(prompt, result, keep(user, c.store), keep(model, c.store)))
        return result

    def branch(self, turn: int) -> "Chat":
        """A new conversation that continues from turn ``turn`` (0-based; negative counts from the end)."""
        if not self.turns:
            raise InvalidRequest("Nothing to branch from yet.")
        idx = range(len(self.turns))[turn]
        return Chat(self.client, self.turns[: idx + 1])

    def __len__(self) -> int:
        return len(self.turns)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The turns as a strip of thumbnails, each with its prompt and cost."""
        from .display import chat_bundle

        return chat_bundle(self)


__all__ = ["Chat", "Exchange", "Turn"]
