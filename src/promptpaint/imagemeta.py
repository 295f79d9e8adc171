"""Provenance: where an image came from, kept with the image: ``result.save(path)`` and ``pp.provenance(path)``.

A saved image carries its story (prompt, provider, model, parameters, seed, cost, ledger row,
time, promptpaint version) inside the file, added to the stored bytes without re-encoding them:

- PNG: a ``parameters`` text chunk in the one-paragraph form other image tools already read and
  show, plus an ``iTXt`` chunk ``promptpaint`` holding the story as JSON;
- JPEG: an XMP packet (APP1; a long one split into extended XMP segments, see ``xmp.py``) and an
  EXIF ``UserComment`` with the same paragraph (cut to the 64 KB an EXIF segment holds);
- WebP: the same XMP and EXIF as RIFF chunks (an extended ``VP8X`` header is added if needed).

An image that carries a C2PA manifest (a PNG ``caBX`` chunk, JUMBF in a JPEG APP11 segment or a
WebP ``C2PA`` chunk) is signed over its bytes: adding anything would break the signature. It is
written byte for byte, and its story goes to a sidecar ``<file name>.json`` beside it.

``provenance()`` reads the story back from the embedded metadata, else from the sidecar, else
from the ledger, by the sha256 of the file's bytes (the image as the provider sent it). Files may
be hostile: reading is bounded (``READ_LIMIT``) and linear, and whatever cannot be read is a
``ProvenanceNotice`` and None, never an exception (the container walkers are in ``imagefile.py``).
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from decimal import Decimal
from pathlib import Path

from PIL import Image

from . import gifstory, svgstory, xmp
from .errors import InvalidRequest
from .imagefile import (JPEG_SEGMENT_MAX, Malformed, jpeg_segment, jpeg_segments, jpeg_with,
                        png_chunks, png_crc_ok, png_itxt_chunk, png_text, png_text_chunk, png_with,
                        riff_chunks, webp_with)
from .store import sha256, sniff

KEY = xmp.KEY                          # PNG iTXt keyword and XMP property holding the JSON story
XMP_NS = xmp.NS
FORMATS = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp", ".gif": "gif", ".svg": "svg"}
KEEP_FORMAT = ("gif", "svg")  # an animation or a drawing: saved as itself, never converted
# The most any one metadata block may hold when read back (inflated text chunk, XMP packet,
# sidecar): a story is a few KB; a hostile file must not make a reader allocate a gigabyte.
READ_LIMIT = 16 << 20


from .errors import ProvenanceNotice  # noqa: E402,F401  (defined in errors.py; old import path)


# -- the story --------------------------------------------------------------------------------
def story(result, index: int = 0) -> dict:
    """The JSON-able account of how ``result``'s image ``index`` was made."""
    from .version import version

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
        "promptpaint": version(),
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
    if target is None or (target != source and {target, source} & set(KEEP_FORMAT)):
        keep = f"this {source.upper()} as .{source}" if source in KEEP_FORMAT else ".png, .jpg or .webp"
        raise InvalidRequest(f"Cannot save as {path.suffix!r}: save {keep}.", param="path")
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
    blob = xmp.story_json(s)
    _fits(len(blob.encode("utf-8")))  # before building anything; XML escapes can only add to it
    if kind == "png":
        return png_with(data, [png_text_chunk("parameters", text), png_itxt_chunk(KEY, blob)])
    if kind == "jpg":
        app1 = xmp.jpeg_payloads(text, blob)
        _fits(sum(map(len, app1[1:])) or len(app1[0]))
        exif = _exif(text, limit=JPEG_SEGMENT_MAX)  # EXIF cannot span segments: its paragraph is cut
        return jpeg_with(data, [jpeg_segment(0xE1, p) for p in (*app1[:1], exif, *app1[1:])])
    if kind == "webp":
        packet = xmp.packet(text, blob)
        _fits(len(packet))
        return webp_with(data, {b"EXIF": _exif(text)[6:], b"XMP ": packet})
    if kind in KEEP_FORMAT:  # a GIF comment extension; an SVG <metadata> element
        return gifstory.with_story(data, blob) if kind == "gif" else svgstory.with_story(data, blob)
    raise InvalidRequest("Only PNG, JPEG, WebP, GIF and SVG images can carry their story.", param="path")


def _fits(size: int) -> None:
    """Refuse to write what ``read_embedded`` would refuse to read back."""
    if size > READ_LIMIT:
        raise InvalidRequest(
            f"This image's story takes {size / 2**20:.1f} MiB, more than the {READ_LIMIT >> 20} MiB "
            "an image's metadata may hold for pp.provenance() to read it back: shorten the prompt "
            "or the parameters.", param="prompt")


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


def _exif(text: str, limit: int | None = None) -> bytes:
    """``Exif\\0\\0`` + TIFF with UserComment (how image tools read a JPEG's parameters), the
    paragraph cut short with "…" when the whole must fit in ``limit`` bytes."""
    def build(units: bytes) -> bytes:
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + units
        out = exif.tobytes()
        return out if out.startswith(b"Exif\0\0") else b"Exif\0\0" + out

    units = text.encode("utf-16-be", "surrogatepass")
    out = build(units)
    if limit is not None and len(out) > limit:
        keep = (len(units) - (len(out) - limit) - 2) & ~1  # room for the "…"
        if 0xD800 <= int.from_bytes(units[keep - 2:keep], "big") < 0xDC00:
            keep -= 2  # do not split a surrogate pair
        out = build(units[:keep] + "…".encode("utf-16-be"))
    return out


# -- C2PA -------------------------------------------------------------------------------------
def has_c2pa(data: bytes) -> bool:
    """True when ``data`` carries a C2PA manifest store (PNG caBX, JPEG APP11 JUMBF, WebP C2PA)."""
    kind = sniff(data)
    try:
        if kind == "png":
            return any(k == b"caBX" for k, _, _ in png_chunks(data))
        if kind == "jpg":
            return any(m == 0xEB and p[:2] == b"JP" for m, p, _ in jpeg_segments(data))
        if kind == "webp":
            return any(k == b"C2PA" for k, _ in riff_chunks(data))
    except Malformed:  # damaged before any manifest was seen: there is no signature to keep intact
        return False
    return False


# -- reading ----------------------------------------------------------------------------------
def read_embedded(data: bytes) -> dict | None:
    """The story embedded in PNG, JPEG or WebP bytes, or None.

    Hostile or damaged files get None and a ``ProvenanceNotice`` saying what is wrong, never an
    exception: lengths are checked against the file, compressed text is inflated only up to
    ``READ_LIMIT``, XMP is parsed in one linear pass.
    """
    kind = sniff(data)
    reader = {"png": _png_story, "jpg": _jpeg_story, "webp": _webp_story,
              "gif": lambda d: (gifstory.story(d), None), "svg": lambda d: (svgstory.story(d), None)}.get(kind)
    if reader is None:
        return None
    where = f"The story embedded in this {kind.upper()}"
    try:
        text, note = reader(data)
    except Malformed as exc:
        _notice(f"{where} could not be read: {exc}. It was ignored; pp.provenance() goes on to the "
                "sidecar and the ledger.")
        return None
    if note:
        _notice(f"{where}: {note}.")
    return None if text is None else _story(text, where)


def _notice(message: str) -> None:
    """Warn at the user's line (the first frame outside this package), whatever path led here."""
    frame, level, here = sys._getframe(0), 1, str(Path(__file__).parent)
    while frame is not None and frame.f_code.co_filename.startswith(here):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, ProvenanceNotice, stacklevel=level)


def _story(raw, where: str) -> dict | None:
    try:
        s = json.loads(raw)
    except RecursionError:
        _notice(f"{where} nests too deeply to be a story; it was ignored.")
        return None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an over-long integer
        _notice(f"{where} is not valid JSON ({str(exc)[:120]}); it was ignored.")
        return None
    if not isinstance(s, dict):
        _notice(f"{where} is a JSON {type(s).__name__}, not an object; it was ignored.")
        return None
    return s


def _png_story(data: bytes) -> tuple[str | None, None]:
    key = KEY.encode() + b"\0"
    for kind, body, pos in png_chunks(data):
        if kind in (b"tEXt", b"zTXt", b"iTXt") and body[:len(key)] == key:
            if not png_crc_ok(data, pos, len(body)):
                raise Malformed(f"its {kind.decode()} chunk '{KEY}' fails its CRC check (damaged)")
            return png_text(kind, body[len(key):], READ_LIMIT, KEY), None
    return None, None


def _jpeg_story(data: bytes) -> tuple[str | None, str | None]:
    standard, parts, problem = None, [], None
    try:
        for marker, payload, _ in jpeg_segments(data):
            if marker != 0xE1:
                continue
            if standard is None and payload[:len(xmp.HEADER)] == xmp.HEADER:
                standard = bytes(payload[len(xmp.HEADER):])
            elif payload[:len(xmp.EXT_HEADER)] == xmp.EXT_HEADER:
                part = xmp.extended_part(payload)
                parts += [part] if part else []
    except Malformed as exc:  # keep what came before the damage: the story may be whole
        problem = exc
    if standard is None:
        if problem:
            raise problem
        return None, None
    text, guid, note = xmp.read(standard)
    if text is None and guid:
        try:
            text, _, note = xmp.read(xmp.extended_packet(parts, guid, READ_LIMIT))
        except Malformed as exc:
            raise (problem or exc) from None
    if text is None and problem:
        raise problem
    return text, note


def _webp_story(data: bytes) -> tuple[str | None, str | None]:
    packet = next((body for kind, body in riff_chunks(data) if kind == b"XMP "), None)
    if packet is None:
        return None, None
    if len(packet) > READ_LIMIT:
        raise Malformed(f"its XMP chunk holds {len(packet)} bytes, more than the "
                        f"{READ_LIMIT >> 20} MiB promptpaint reads")
    text, _, note = xmp.read(packet)
    return text, note


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
        if not path.is_file():
            raise InvalidRequest(f"No image file at {path}.", param="path")
        data = path.read_bytes()
    got = read_embedded(data) if sniff(data) else None
    if got:
        return {**got, "found_in": "embedded"}
    if path:
        got = _read_sidecar(Path(path))
        if got:
            return {**got, "found_in": "sidecar"}
    return _from_ledger(sha256(data), ledger)


def _read_sidecar(path: Path) -> dict | None:
    for side in (sidecar_path(path), path.with_suffix(".json")):
        if side == path or not side.is_file():
            continue
        where = f"The sidecar {side.name}"
        try:
            with side.open("rb") as f:
                raw = f.read(READ_LIMIT + 1)
        except OSError as exc:
            _notice(f"{where} could not be read ({exc.strerror}); it was ignored.")
            continue
        if len(raw) > READ_LIMIT:
            _notice(f"{where} is over {READ_LIMIT >> 20} MiB, too large to be a story; it was ignored.")
            continue
        got = _story(raw, where)
        if got:
            return got
    return None


def for_download(data: bytes, ledger=None, story: dict | None = None) -> tuple[bytes, str | None]:
    """A stored image's bytes with its story inside, for the widget's Download, and a note when
    they had to stay as they are (C2PA). ``story`` is the one the caller knows (the Studio's, from
    the ledger row of the call that made it); without it the ledger is asked by the bytes' hash.
    An image with no story (an upload) downloads as stored."""
    from .version import version

    s = story if story is not None else _from_ledger(sha256(data), ledger)
    if s is None or sniff(data) not in ("png", "jpg", "webp", *KEEP_FORMAT):
        return data, None
    if has_c2pa(data):
        return data, ("This image carries a C2PA manifest, so it downloads unchanged; how it was "
                      "made is in the ledger: pp.provenance(path) finds it by the file's bytes.")
    s = {k: v for k, v in s.items() if k != "found_in"}
    return embed(data, {**s, "promptpaint": version()}), None


def _from_ledger(digest: str, ledger) -> dict | None:
    from .ledger import ledger as default_ledger

    book = ledger or default_ledger()
    if hasattr(book, "image_origin"):  # the SQL backends look it up; any other ledger is scanned
        row = book.image_origin(digest)
    else:
        row = next((r for r in book.entries(limit=1_000_000) if digest in (r.get("images") or [])), None)
    return story_of_row(row, digest)


def story_of_row(row: dict | None, digest: str) -> dict | None:
    """The story of image ``digest`` told by ledger row ``row`` (as ``image_origin`` gives it)."""
    if row is None:
        return None
    params = row.get("params") or {}
    cost = row.get("cost")
    return {"prompt": row.get("prompt"), "provider": row.get("provider"),
            "model": row.get("model"), "kind": row.get("kind"), "parameters": params,
            "seed": params.get("seed"),
            "cost_usd": None if cost is None else str(Decimal(cost)),
            "ledger_id": row.get("id"), "request_id": row.get("request_id"),
            "image": digest, "created": row.get("ts"), "promptpaint": None,
            "found_in": "ledger"}
