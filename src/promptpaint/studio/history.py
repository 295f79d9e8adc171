"""The Studio's history: a tree of turns (each call, upload or reopened image), kept as a list in
the order they happened, each knowing its parent; and how it is saved for ``resume=True``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from PIL import Image

from .. import images
from ..client import Chat, Client
from ..errors import PromptpaintError
from ..store import ImageStore, check_id


@dataclass
class StudioTurn:
    """One entry of ``studio.history``."""

    id: int
    kind: str                 # generate | edit | compare | upload | open
    prompt: str
    provider: str
    model: str
    params: dict
    ids: list[str]
    paths: list[Path]
    cost: Decimal | None
    parent: int | None = None
    text: str | None = None
    offline: bool = False
    cancelled: bool = False   # the user cancelled this call; it landed (and was billed) anyway
    refused: bool = False     # the provider answered without an image; ``text`` says why
    chat: Chat | None = field(default=None, repr=False)  # the conversation that led here

    @property
    def images(self) -> list[Image.Image]:
        out = []
        for p in self.paths:
            im = Image.open(p, formats=images.FORMATS)
            im.load()
            out.append(im)
        return out

    def as_state(self) -> dict:
        return {"id": self.id, "parent": self.parent, "kind": self.kind, "prompt": self.prompt,
                "provider": self.provider, "model": self.model, "params": self.params,
                "images": self.ids, "cost": None if self.cost is None else str(self.cost),
                "text": self.text, "offline": self.offline, "cancelled": self.cancelled,
                "refused": self.refused}

    @classmethod
    def from_state(cls, t: dict, store: ImageStore) -> "StudioTurn":
        """A saved turn back; raises (KeyError, ValueError…) on a damaged entry."""
        ids = [i for i in t["images"] if check_id(i)]
        paths = [store.find(i) for i in ids]
        return cls(id=int(t["id"]), kind=str(t["kind"]), prompt=str(t.get("prompt") or ""),
                   provider=str(t.get("provider") or ""), model=str(t.get("model") or ""),
                   params=dict(t.get("params") or {}), ids=ids, paths=[p for p in paths if p is not None],
                   cost=None if t.get("cost") is None else Decimal(str(t["cost"])), parent=t.get("parent"),
                   text=t.get("text"), offline=bool(t.get("offline")), cancelled=bool(t.get("cancelled")),
                   refused=bool(t.get("refused")))


class History(list):
    """The turns, oldest first. A list (``studio.history`` copies it) that also numbers new turns
    under a lock: the worker and the kernel's main thread may both add one."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def find(self, turn_id) -> StudioTurn | None:
        if type(turn_id) is not int:
            return None
        return next((h for h in self if h.id == turn_id), None)

    def add(self, kind, prompt, params, ids, paths, cost, parent=None, chat=None, *,
            client: Client | None = None, text=None, cancelled=False, refused=False) -> StudioTurn:
        with self._lock:
            turn = StudioTurn(id=self[-1].id + 1 if self else 1, kind=kind, prompt=prompt,
                              provider=client.provider_name if client else kind,
                              model=client.model.id if client else "", params=dict(params), ids=list(ids),
                              paths=list(paths), cost=cost, parent=parent, text=text,
                              offline=bool(client and client.offline), cancelled=cancelled,
                              refused=refused, chat=chat)
            self.append(turn)
        return turn

    def restore(self, states, store: ImageStore) -> None:
        """Saved turns back, in order; one damaged entry costs only itself."""
        for t in states or []:
            try:
                self.append(StudioTurn.from_state(t, store))
            except (KeyError, TypeError, ValueError, ArithmeticError, PromptpaintError):
                continue

    def as_state(self) -> list[dict]:
        return [h.as_state() for h in self]


__all__ = ["StudioTurn", "History"]
