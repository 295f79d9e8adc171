"""Reference images: pictures the next Generate or Edit sends beside the prompt (a subject, a
style…). Each is a file in the image store, listed as ``{"id", "name"}`` in the ``references``
trait; they stay until removed, so what a call will send is always on screen as chips."""

from __future__ import annotations

from .. import images
from ..errors import InvalidRequest
from ..store import check_id

MOST = 16  # the largest limit of any model (OpenAI edits); each model's own is checked per call


def add(s: "Session", data: bytes | None = None, name: str = "image", image_id=None) -> dict:
    """A reference from uploaded bytes (PNG, JPEG, WebP or GIF, checked like an upload) or from an
    image already in the store (a history card's "Use as reference")."""
    if len(s.references) >= MOST:
        raise InvalidRequest(f"At most {MOST} reference images: remove one first.", param="references")
    if image_id is not None:
        check_id(image_id)
        if s.store.find(image_id) is None:
            raise InvalidRequest("That image is not in the store any more.", param="id")
        turn = next((t for t in s.history if image_id in t.ids), None)
        name = f"#{turn.id}" if turn else (name or "image")[:120]
    else:
        if not data:
            raise InvalidRequest("The reference image arrived empty.", param="references")
        name = (name or "image")[:120]
        images.open_image(data, name)  # refuses other formats, huge or damaged files
        image_id, _ = s.store.put(bytes(data))
    if any(r["id"] == image_id for r in s.references):
        raise InvalidRequest(f"{name} is already a reference.", param="references")
    ref = {"id": image_id, "name": name}
    s.references.append(ref)
    s._changed("references")
    s.refresh_costs(totals=False)  # each reference is one more input image in the estimate
    return ref


def remove(s: "Session", image_id) -> None:
    check_id(image_id)
    kept = [r for r in s.references if r["id"] != image_id]
    if len(kept) == len(s.references):
        raise InvalidRequest("That image is not a reference.", param="id")
    s.references[:] = kept
    s._changed("references")
    s.refresh_costs(totals=False)


def paths(s: "Session") -> list:
    """The files to send, in chip order; InvalidRequest when one has left the store."""
    out = []
    for ref in s.references:
        path = s.store.find(ref["id"])
        if path is None:
            raise InvalidRequest(f"The reference {ref['name']} is missing from the store: remove it "
                                 "and add it again.", param="references")
        out.append(path)
    return out


__all__ = ["add", "remove", "paths", "MOST"]
