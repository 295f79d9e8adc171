"""Provenance: where an image came from, kept with the image: ``result.save(path)`` and ``pp.provenance(path)``.

A saved image carries its story (prompt, provider, model, parameters, seed, cost, ledger row,
time, promptpaint version) inside the file, added to the stored bytes without re-encoding them:

- PNG: a ``parameters`` text chunk in the one-paragraph form other image tools already read and
  show, plus an ``iTXt`` chunk ``promptpaint`` holding the story as JSON;
- JPEG: an XMP packet (APP1) and an EXIF ``UserComment`` with the same paragraph;
- WebP: the same XMP and EXIF as RIFF chunks (an extended ``VP8X`` header is added if needed).

An image that carries a C2PA manifest (a PNG ``caBX`` chunk, JUMBF in a JPEG APP11 segment or a
WebP ``C2PA`` chunk) is signed over its bytes: adding anything would break the signature. It is
written byte for byte, and its story goes to a sidecar ``<file name>.json`` beside it.

``provenance()`` reads the story back from the embedded metadata, else from the sidecar, else
from the ledger, by the sha256 of the file's bytes (the image as the provider sent it).
"""

from __future__ import annotations

import io
import json
import re
import struct
import warnings
import zlib
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image

from .errors import InvalidRequest
from .store import sha256, sniff

KEY = "promptpaint"                    # PNG iTXt keyword and XMP property holding the JSON story
XMP_NS = "https://promptpaint.dev/ns/1.0/"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
FORMATS = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp"}


from .errors import ProvenanceNotice  # noqa: E402,F401  (defined in errors.py; old import path)


# -- the story --------------------------------------------------------------------------------
def story(result, index: int = 0) -> dict:
    """The JSON-able account of how ``result``'s image ``index`` was made."""
    from .version import __version__

    params = dict(result.params or {})
    return {
        "prompt": result.prompt,
        "provider": result.provider,
        "model": result.model,
        "kind": result.kind,
        "parameters": params,
        "seed": params.get("seed"),
        "cost_usd": None if result.cost is None else str(result.cost),
        "ledger_id": result.ledger_id,
        "request_id": result.request_id,
        "image": result.ids[index],
        "created": getattr(result, "created", None),
        "promptpaint": __version__,
    }


def parameters_text(s: dict) -> str:
    """The ``parameters`` paragraph: the prompt, then ``Key: value`` pairs on one line."""
    extra = {k: v for k, v in (s.get("parameters") or {}).items() if k != "seed"}
    pairs = [("Provider", s.get("provider")), ("Model", s.get("model")), ("Seed", s.get("seed")),
             *((k.replace("_", " ").capitalize(), v) for k, v in extra.items()),
             ("Cost", f"${s['cost_usd']}" if s.get("cost_usd") is not None else "unknown"),
             ("Ledger row", s.get("ledger_id")), ("Created", s.get("created")),
             ("Version", f"promptpaint {s.get('promptpaint')}")]
    return s.get("prompt", "") + "\n" + ", ".join(f"{k}: {v}" for k, v in pairs if v is not None)


# -- writing ----------------------------------------------------------------------------------
def save(result, path, index: int = 0) -> Path:
    """Write ``result``'s image ``index`` to ``path`` with its story; return the path written.

    The format follows the suffix (.png, .jpg/.jpeg, .webp); with no suffix, the image's own.
    """
    path = Path(path)
    data = Path(result.paths[index]).read_bytes()
    source = sniff(data)
    target = FORMATS.get(path.suffix.lower())
    if path.suffix == "":
        target = source
        path = path.with_suffix("." + source)
    if target is None:
        raise InvalidRequest(f"Cannot save as {path.suffix!r}: use .png, .jpg or .webp.", param="path")
    s = story(result, index)
    if has_c2pa(data):
        if target != source:
            raise InvalidRequest(
                f"This image carries a C2PA manifest, which converting it to {target.upper()} would "
                f"break: save it as .{source}.", param="path")
        path.write_bytes(data)
        side = sidecar_path(path)
        side.write_text(json.dumps(s, indent=2, default=str))
        warnings.warn(f"{path.name} carries a C2PA manifest, so it was saved unchanged and its "
                      f"story went to {side.name} beside it.", ProvenanceNotice, stacklevel=3)
        return path
    if target != source:
        data = _convert(data, target)
    path.write_bytes(embed(data, s))
    return path


def embed(data: bytes, s: dict) -> bytes:
    """``data`` (PNG, JPEG or WebP bytes) with the story added; pixels are not re-encoded."""
    kind = sniff(data)
    text = parameters_text(s)
    blob = json.dumps(s, default=str, ensure_ascii=False)
    if kind == "png":
        return _png_with(data, [_png_text("parameters", text), _png_itxt(KEY, blob)])
    if kind == "jpg":
        return _jpeg_with(data, [b"\xff\xe1" + _seglen(_XMP_HEADER + _xmp(text, blob)),
                                 b"\xff\xe1" + _seglen(_exif(text))])
    if kind == "webp":
        return _webp_with(data, {b"EXIF": _exif(text)[6:], b"XMP ": _xmp(text, blob)})
    raise InvalidRequest("Only PNG, JPEG and WebP images can carry their story.", param="path")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _convert(data: bytes, target: str) -> bytes:
    im = Image.open(io.BytesIO(data))
    im.load()
    if target == "jpg" and im.mode not in ("RGB", "L"):
        im = im.convert("RGB")  # JPEG has no alpha
    buf = io.BytesIO()
    im.save(buf, format={"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[target],
            **({"quality": 95} if target == "jpg" else {"lossless": True} if target == "webp" else {}))
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_text(keyword: str, text: str) -> bytes:
    try:
        return _png_chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:  # tEXt is Latin-1 only; a prompt in another script goes as iTXt
        return _png_itxt(keyword, text)


def _png_itxt(keyword: str, text: str) -> bytes:
    return _png_chunk(b"iTXt", keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8"))


def _png_chunks(data: bytes):
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        yield kind, data[pos + 8:pos + 8 + length], pos
        pos += 12 + length


def _png_with(data: bytes, chunks: list[bytes]) -> bytes:
    """Insert ``chunks`` just before IEND (text chunks may sit anywhere after IHDR)."""
    for kind, _, pos in _png_chunks(data):
        if kind == b"IEND":
            return data[:pos] + b"".join(chunks) + data[pos:]
    raise InvalidRequest("The PNG has no end chunk: it is cut off.", param="image")


def _seglen(payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise InvalidRequest("The story is too long for a JPEG segment (64 KB).", param="prompt")
    return struct.pack(">H", len(payload) + 2) + payload


def _jpeg_segments(data: bytes):
    """(marker, payload, start) of each segment before the image data."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        yield marker, data[pos + 4:pos + 2 + length], pos
        pos += 2 + length


def _jpeg_with(data: bytes, segments: list[bytes]) -> bytes:
    """Insert APP segments after SOI and any JFIF APP0 (EXIF readers expect them early)."""
    at = 2
    for marker, _, pos in _jpeg_segments(data):
        if marker != 0xE0:
            break
        at = pos + 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return data[:at] + b"".join(segments) + data[at:]


def _riff_chunks(data: bytes):
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 8 + length + (length & 1)


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _webp_with(data: bytes, extra: dict[bytes, bytes]) -> bytes:
    """Add EXIF/XMP chunks, turning a simple WebP into the extended form (VP8X) that holds them."""
    chunks = list(_riff_chunks(data))
    if chunks and chunks[0][0] == b"VP8X":
        flags = bytearray(chunks[0][1])
        chunks = chunks[1:]
    else:
        im = Image.open(io.BytesIO(data))
        w, h = im.size
        flags = bytearray(struct.pack("<I", 0x10 if "A" in im.getbands() else 0)
                          + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little"))
    flags[0] |= (0x08 if b"EXIF" in extra else 0) | (0x04 if b"XMP " in extra else 0)
    chunks = [(k, v) for k, v in chunks if k not in extra]  # EXIF and XMP go last, in that order
    body = _riff_chunk(b"VP8X", bytes(flags)) + b"".join(_riff_chunk(k, v) for k, v in chunks)
    body += b"".join(_riff_chunk(k, v) for k, v in extra.items())
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _xmp(text: str, blob: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pp="{XMP_NS}">'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt></dc:description>'
        f'<pp:{KEY}>{escape(blob)}</pp:{KEY}>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode("utf-8")


def _exif(text: str) -> bytes:
    """``Exif\\0\\0`` + TIFF with UserComment (how image tools read a JPEG's parameters)."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode("utf-16-be")
    out = exif.tobytes()
    return out if out.startswith(b"Exif\0\0") else b"Exif\0\0" + out


# -- C2PA -------------------------------------------------------------------------------------
def has_c2pa(data: bytes) -> bool:
    """True when ``data`` carries a C2PA manifest store (PNG caBX, JPEG APP11 JUMBF, WebP C2PA)."""
    kind = sniff(data)
    if kind == "png":
        return any(k == b"caBX" for k, _, _ in _png_chunks(data))
    if kind == "jpg":
        return any(m == 0xEB and p[:2] == b"JP" for m, p, _ in _jpeg_segments(data))
    if kind == "webp":
        return any(k == b"C2PA" for k, _ in _riff_chunks(data))
    return False


# -- reading ----------------------------------------------------------------------------------
def read_embedded(data: bytes) -> dict | None:
    """The story embedded in PNG, JPEG or WebP bytes, or None."""
    kind = sniff(data)
    if kind == "png":
        for k, body, _ in _png_chunks(data):
            if k == b"iTXt" and body.startswith(KEY.encode() + b"\0"):
                rest = body[len(KEY) + 1:]
                compressed, _method = rest[0], rest[1]
                rest = rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _tkey, _, text = rest.partition(b"\0")
                return json.loads(zlib.decompress(text) if compressed else text)
        return None
    xmp = None
    if kind == "jpg":
        xmp = next((p[len(_XMP_HEADER):] for m, p, _ in _jpeg_segments(data)
                    if m == 0xE1 and p.startswith(_XMP_HEADER)), None)
    elif kind == "webp":
        xmp = next((v for k, v in _riff_chunks(data) if k == b"XMP "), None)
    if xmp:
        m = re.search(rf"<pp:{KEY}>(.*?)</pp:{KEY}>".encode(), xmp, re.S)
        if m:
            from xml.sax.saxutils import unescape
            return json.loads(unescape(m.group(1).decode("utf-8")))
    return None


def provenance(source, *, ledger=None) -> dict | None:
    """How an image was made: from its embedded story, else its sidecar, else the ledger.

    ``source`` is a path, encoded bytes, or a PIL image opened from a file. The answer says where
    it was found (``"found_in"``: ``"embedded"``, ``"sidecar"`` or ``"ledger"``); None when nothing
    is known about the image.
    """
    path = None
    if isinstance(source, Image.Image):
        path = getattr(source, "filename", None) or None
        if path:
            data = Path(path).read_bytes()
        else:
            buf = io.BytesIO()
            source.save(buf, format="PNG")
            data = buf.getvalue()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.exists():
            raise InvalidRequest(f"No image file at {path}.", param="path")
        data = path.read_bytes()
    got = read_embedded(data) if sniff(data) else None
    if got:
        return {**got, "found_in": "embedded"}
    if path:
        path = Path(path)
        for side in (sidecar_path(path), path.with_suffix(".json")):
            if side.exists() and side != path:
                return {**json.loads(side.read_text()), "found_in": "sidecar"}
    return _from_ledger(sha256(data), ledger)


def for_download(data: bytes, ledger=None) -> tuple[bytes, str | None]:
    """A stored image's bytes with its story from the ledger inside, for the widget's Download,
    and a note when they had to stay as they are (C2PA). An image with no ledger row (an upload)
    downloads as stored."""
    from .version import __version__

    s = _from_ledger(sha256(data), ledger)
    if s is None or sniff(data) not in ("png", "jpg", "webp"):
        return data, None
    if has_c2pa(data):
        return data, ("This image carries a C2PA manifest, so it downloads unchanged; how it was "
                      "made is in the ledger: pp.provenance(path) finds it by the file's bytes.")
    s = {k: v for k, v in s.items() if k != "found_in"}
    return embed(data, {**s, "promptpaint": __version__}), None


def _from_ledger(digest: str, ledger) -> dict | None:
    from .version import __version__
    from .ledger import ledger as default_ledger

    book = ledger or default_ledger()
    for row in book.entries(limit=1_000_000):
        if digest in (row.get("images") or []):
            params = row.get("params") or {}
            cost = row.get("cost")
            return {"prompt": row.get("prompt"), "provider": row.get("provider"),
                    "model": row.get("model"), "kind": row.get("kind"), "parameters": params,
                    "seed": params.get("seed"),
                    "cost_usd": None if cost is None else str(Decimal(cost)),
                    "ledger_id": row.get("id"), "request_id": row.get("request_id"),
                    "image": digest, "created": row.get("ts"), "promptpaint": None,
                    "found_in": "ledger"}
    return None
