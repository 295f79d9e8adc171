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
    # Provenance the ledger row does not hold: the row itself (never found again by the image's
    # hash, which another call may share), the image edited, the mask or markup (ids in the
    # store) and the reference images.
    ledger_id: int | None = None
    source: str | None = None
    mask: str | None = None
    markup: str | None = None
    references: list[str] = field(default_factory=list)

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
                "refused": self.refused, "ledger_id": self.ledger_id, "source": self.source,
                "mask": self.mask, "markup": self.markup, "references": list(self.references)}

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
                   refused=bool(t.get("refused")),
                   ledger_id=t["ledger_id"] if type(t.get("ledger_id")) is int else None,
                   source=_id_or_none(t.get("source")), mask=_id_or_none(t.get("mask")),
                   markup=_id_or_none(t.get("markup")),
                   references=[i for i in t.get("references") or [] if _id_or_none(i)])


def _id_or_none(value) -> str | None:
    try:
        return value if value is not None and check_id(value) else None
    except PromptpaintError:
        return None  # a damaged entry loses the detail, not the turn


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
            client: Client | None = None, text=None, cancelled=False, refused=False,
            **provenance) -> StudioTurn:
        with self._lock:
            # max, not the last: a resumed history may list its turns out of order.
            turn = StudioTurn(id=max(h.id for h in self) + 1 if self else 1, kind=kind, prompt=prompt,
                              provider=client.provider_name if client else kind,
                              model=client.model.id if client else "", params=dict(params), ids=list(ids),
                              paths=list(paths), cost=cost, parent=parent, text=text,
                              offline=bool(client and client.offline), cancelled=cancelled,
                              refused=refused, chat=chat, **provenance)
            self.append(turn)
        return turn

    def restore(self, states, store: ImageStore) -> None:
        """Saved turns back, in order; one damaged entry costs only itself."""
        seen = {h.id for h in self}
        for t in states or []:
            try:
                turn = StudioTurn.from_state(t, store)
            except (KeyError, TypeError, ValueError, ArithmeticError, PromptpaintError):
                continue
            if turn.id in seen:
                continue  # a duplicated id (damaged or edited file) would make two turns one
            seen.add(turn.id)
            self.append(turn)

    def as_state(self) -> list[dict]:
        return [h.as_state() for h in self]


__all__ = ["StudioTurn", "History"]
