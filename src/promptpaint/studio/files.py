"""The Studio's pictures in and out beyond the image shown: reference images (chips sent with the
next Generate or Edit) and Save (a file beside the notebook, written by the kernel). A mixin of
``Studio``: the Python methods and the handlers of their messages."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidRequest
from . import saving, uploads


class StudioFiles:
    _session: "Session"

    def add_reference(self, image, name: str = "image") -> dict:
        """Send ``image`` (PIL image, array, path or bytes) as a reference image with every
        Generate and Edit until removed (a chip under the prompt); returns ``{"id", "name"}``."""
        if isinstance(image, (str, Path)) and name == "image":
            name = Path(image).name
        return self._session.add_reference(uploads.encoded(image), name)

    def remove_reference(self, image_id: str) -> None:
        """Stop sending reference ``image_id`` (its chip goes too)."""
        self._session.remove_reference(image_id)

    def save(self, path=None) -> Path:
        """Write the image shown, with how it was made inside (``pp.provenance(path)`` reads it),
        into the notebook's folder — or ``path``, a folder or a file name — and return the path.
        It runs in the kernel, so the file lands beside the notebook even when the browser is on
        another machine (Download saves to the browser's machine instead)."""
        return saving.save(self._session, path)

    def _msg_reference(self, content, buffers) -> None:
        """A reference image: uploaded bytes, or ``id`` of an image in the store (a history card)."""
        if content.get("id") is not None:
            self._session.add_reference(image_id=content.get("id"))
        elif buffers:
            self._session.add_reference(buffers[0], str(content.get("name") or "image"))
        else:
            raise InvalidRequest("The reference image arrived empty.")

    def _msg_remove_reference(self, content, _buffers) -> None:
        self._session.remove_reference(content.get("id"))

    def _msg_save(self, _content, _buffers):
        where = self.save()
        self._session.set_notice(f"Saved {where.name} in {where.parent}")
        return {"path": str(where)}, []


__all__ = ["StudioFiles"]
