"""An image's story and where it is saved: Download (the browser's copy) and Save (a file the
kernel writes beside the notebook), both with the story of the call that made it inside.

The story comes from the ledger row the turn knows (``StudioTurn.ledger_id``), never from a
lookup by the image's hash, which another call that made the same bytes could answer; the turn
adds what the row does not hold: the image edited, the mask or markup, the references.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from .. import imagemeta
from ..errors import InvalidRequest
from ..store import check_id
from . import uploads

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def slug(text: str, most: int = 40) -> str:
    """"a red fox in the snow, watercolour" → "a-red-fox-in-the-snow" (as js/sync.js ``slug``)."""
    words = unicodedata.normalize("NFKD", str(text or ""))
    words = re.sub(r"[\u0300-\u036f]", "", words).lower()
    words = re.sub(r"[^a-z0-9]+", "-", words).strip("-")
    if len(words) <= most:
        return words
    cut = words[: most + 1]
    dash = cut.rfind("-")
    return (cut[:dash] if dash > 8 else cut[:most]).rstrip("-")


def file_name(prompt: str, image_id: str, mime: str) -> str:
    """Named as Download names it: ``<prompt slug>-<first 8 of sha>.<ext>``."""
    return f"{slug(prompt) or 'promptpaint'}-{image_id[:8]}.{EXTENSIONS.get(mime, 'png')}"


def turn_of(s: "Session", image_id: str):
    """The turn that shows ``image_id``: the current one if it does, else the newest."""
    cur = s.turn(s.current.get("turn"))
    if cur is not None and image_id in cur.ids:
        return cur
    return next((t for t in reversed(s.history) if image_id in t.ids), None)


def story(s: "Session", image_id: str) -> dict | None:
    """How ``image_id`` was made, from its turn's own ledger row; None when the turn has no row
    (an upload, an image reopened from Past images: the ledger is then asked by the bytes)."""
    turn = turn_of(s, image_id)
    if turn is None or turn.ledger_id is None:
        return None
    book = s.ledger
    if hasattr(book, "call_row"):
        row = book.call_row(turn.ledger_id)
    else:  # a ledger without SQL reads: scan for the row by id
        row = next((r for r in book.entries(limit=1_000_000) if r.get("id") == turn.ledger_id), None)
    told = imagemeta.story_of_row(row, image_id)
    if told is None:
        return None
    told.pop("found_in", None)
    # The row books the call; the turn says what the user did ("edit", not a conversation's "chat").
    if turn.kind in ("generate", "edit"):  # a Compare cell's row already says "generate"
        told["kind"] = turn.kind
    told.update({k: v for k, v in (("source", turn.source), ("mask", turn.mask), ("markup", turn.markup),
                                   ("references", list(turn.references))) if v})
    return told


def with_story(s: "Session", image_id: str) -> tuple[bytes, str, str | None]:
    """The stored bytes of ``image_id`` with their story inside; their MIME type; a note (C2PA)."""
    data, mime = uploads.image_bytes(s, {}, image_id)
    data, note = imagemeta.for_download(data, s.ledger, story(s, image_id))
    return data, mime, note


def notebook_folder(s: "Session") -> Path:
    """The notebook's folder as the kernel knows it; the working directory (where Jupyter starts
    a notebook's kernel) when the path is not an absolute one."""
    if s.notebook:
        folder = Path(s.notebook).expanduser().parent
        if folder.is_absolute() and folder.is_dir():
            return folder
    return Path.cwd()


def save(s: "Session", path=None) -> Path:
    """Write the image shown, with its story, into the notebook's folder (or ``path``: a folder,
    or a file name) and return where. An existing different file is never overwritten."""
    if not s.image_id:
        raise InvalidRequest("There is no image to save yet: generate or upload one first.")
    image_id = check_id(s.image_id)
    data, mime, _note = with_story(s, image_id)
    turn = turn_of(s, image_id)
    name = file_name(turn.prompt if turn else "", image_id, mime)
    target = Path(path).expanduser() if path is not None else notebook_folder(s)
    if target.is_dir():
        target = target / name
    if not target.parent.is_dir():
        raise InvalidRequest(f"No folder at {target.parent}: create it first, or pass another path.",
                             param="path")
    stem, n = target, 2
    while target.exists() and target.read_bytes() != data:
        target = stem.with_name(f"{stem.stem}-{n}{stem.suffix}")
        n += 1
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target.resolve()


__all__ = ["story", "with_story", "save", "file_name", "slug", "notebook_folder"]
