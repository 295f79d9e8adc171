"""How a ``Result``, a ``Chat`` and the ledger show themselves in a notebook cell.

Jupyter, nbconvert's HTML, GitHub's viewer, VS Code, Colab and marimo all read
``_repr_mimebundle_``; each bundle carries HTML (pictures with a caption) and a plain-text line.
The pictures are small thumbnails inlined as base64, because a saved notebook keeps every output:
a shown image must cost it well under 50 KB, whatever the size of the original in the store.
"""

from __future__ import annotations

import base64
import html
import io
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from PIL import Image

from .ledger.report import ledger_bundle  # noqa: F401  (moved beside the ledger; old import path)
from .money import format as format_money

THUMB = 256          # longest side of a shown picture, in pixels
CHAT_THUMB = 128     # a chat strip shows many pictures side by side
PNG_LIMIT = 16_000   # a flat picture stays a (sharper) PNG up to this; a photo becomes a JPEG
JPEG_QUALITY = 78


def thumbnail(source: Image.Image | str | Path, size: int = THUMB) -> tuple[str, bytes]:
    """(mime, bytes) of a small copy of ``source``: PNG when that is small, else JPEG."""
    im = source.copy() if isinstance(source, Image.Image) else Image.open(source)
    im.thumbnail((size, size))
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
    png = io.BytesIO()
    im.save(png, format="PNG")  # optimize=True would cost ~0.3 s for a photo that ends up a JPEG
    if png.tell() <= PNG_LIMIT:
        return "image/png", png.getvalue()
    if im.mode == "RGBA":  # JPEG has no alpha: flatten onto white, as a viewer would show it
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    jpeg = io.BytesIO()
    im.save(jpeg, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return "image/jpeg", jpeg.getvalue()


@lru_cache(maxsize=64)
def _stored_thumbnail(path: str, size: int) -> tuple[str, bytes]:
    # Store paths are content-addressed, so a cached thumbnail never goes stale.
    if path.endswith((".gif", ".svg")):
        # As made: a GIF's animation and an SVG's drawing (shown through <img>, which never runs
        # an SVG's scripts) would be lost in a PNG thumbnail; <img> is scaled down by its style.
        return ("image/gif" if path.endswith(".gif") else "image/svg+xml"), Path(path).read_bytes()
    return thumbnail(path, size)


def first_thumbnail(result, mime: str) -> bytes | None:
    """The first image's thumbnail if it is encoded as ``mime``, else None (IPython skips it)."""
    if not result.paths:
        return None
    got, data = _stored_thumbnail(str(result.paths[0]), THUMB)
    return data if got == mime else None


def _img(mime: str, data: bytes, alt: str, size: int) -> str:
    b64 = base64.b64encode(data).decode("ascii")
    return (f'<img src="data:{mime};base64,{b64}" alt="{html.escape(alt)}" '
            f'style="max-width:{size}px;max-height:{size}px;margin:0 4px 4px 0">')


def money(cost: Decimal | None) -> str:
    """A cost as every promptpaint surface shows it (``money.format``), saying what is unknown."""
    return "cost unknown" if cost is None else format_money(cost)


def caption(result) -> str:
    """One line: model, then the cost (or "offline stand-in"), then "cached" when it was."""
    parts = [f"{result.provider}/{result.model}"]
    parts.append("offline stand-in, $0" if result.offline else money(result.cost))
    if result.cached:
        parts.append("cached")
    n = len(result.paths)
    if n > 1:
        parts.append(f"{n} images")
    return " · ".join(parts)


def result_bundle(result) -> dict:
    if not result.paths:
        return {"text/plain": repr(result)}
    thumbs = [_stored_thumbnail(str(p), THUMB) for p in result.paths]
    line = caption(result)
    pictures = "".join(_img(mime, data, result.prompt, THUMB) for mime, data in thumbs)
    page = (f'<figure class="promptpaint-result" style="margin:0">{pictures}'
            f'<figcaption style="font-size:0.85em;opacity:0.8">{html.escape(line)}</figcaption></figure>')
    mime, data = thumbs[0]
    if mime in ("image/gif", "image/svg+xml"):
        # Not as its own MIME type: a front end may put an SVG into the page as markup (scripts
        # and all), and a GIF there would be a second full copy. The <img> above shows both.
        return {"text/html": page, "text/plain": f"{line}: {result.prompt!r}"}
    return {"text/html": page, mime: base64.b64encode(data).decode("ascii"),
            "text/plain": f"{line}: {result.prompt!r}"}


def chat_bundle(chat) -> dict:
    if not chat.turns:
        return {"text/plain": "Chat with no turns yet: chat.send('a prompt')"}
    cells, lines = [], []
    for i, turn in enumerate(chat.turns):
        r = turn.result
        picture = _img(*_stored_thumbnail(str(r.paths[0]), CHAT_THUMB), turn.prompt, CHAT_THUMB) if r.paths else ""
        cost = "offline" if r.offline else money(r.cost)
        cells.append(f'<figure style="display:inline-block;vertical-align:top;margin:0 6px 6px 0;'
                     f'width:{CHAT_THUMB}px">{picture}<figcaption style="font-size:0.8em">'
                     f'{i + 1}. {html.escape(turn.prompt)} <span style="opacity:0.7">({cost})</span>'
                     f'</figcaption></figure>')
        lines.append(f"{i + 1}. {turn.prompt} ({cost})")
    return {"text/html": f'<div class="promptpaint-chat">{"".join(cells)}</div>',
            "text/plain": "\n".join(lines)}
