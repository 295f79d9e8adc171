"""The containers of PNG, JPEG and WebP files: walk their chunks and segments, insert new ones.

Every walker reads lengths from a file that may be hostile (cut off, a length past the end, a
length below the minimum) and raises ``Malformed`` at the first such byte instead of an
``IndexError`` or a ``struct.error``, or looping. Bodies are handed out as ``memoryview`` slices,
so walking a 100 MB file copies nothing but what a caller keeps.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from .errors import InvalidRequest
from .errors import MalformedFile as Malformed

PNG_SIG = b"\x89PNG\r\n\x1a\n"
JPEG_SEGMENT_MAX = 0xFFFF - 2  # a JPEG segment's payload: its 16-bit length counts itself




# -- PNG --------------------------------------------------------------------------------------
def png_chunks(data: bytes):
    """(type, body, start) of each chunk up to IEND; ``Malformed`` where the file stops making sense."""
    view, pos, end = memoryview(data), 8, len(data)
    while pos < end:
        if pos + 12 > end:
            raise Malformed(f"the PNG is cut off at byte {pos}, inside a chunk header")
        (length,) = struct.unpack_from(">I", data, pos)
        kind = bytes(data[pos + 4:pos + 8])
        if pos + 12 + length > end:
            raise Malformed(f"its {_name(kind)} chunk at byte {pos} says {length} bytes, but the "
                            f"file ends {end - pos - 12} bytes after its header (cut off)")
        yield kind, view[pos + 8:pos + 8 + length], pos
        if kind == b"IEND":
            return
        pos += 12 + length


def png_crc_ok(data: bytes, start: int, length: int) -> bool:
    (crc,) = struct.unpack_from(">I", data, start + 8 + length)
    return zlib.crc32(memoryview(data)[start + 4:start + 8 + length]) == crc


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with(data: bytes, chunks: list[bytes]) -> bytes:
    """Insert ``chunks`` just before IEND (text chunks may sit anywhere after IHDR)."""
    try:
        for kind, _, pos in png_chunks(data):
            if kind == b"IEND":
                return data[:pos] + b"".join(chunks) + data[pos:]
    except Malformed as exc:
        raise InvalidRequest(f"The PNG is damaged: {exc}.", param="image") from None
    raise InvalidRequest("The PNG has no end chunk: it is cut off.", param="image")


def png_text_chunk(keyword: str, text: str) -> bytes:
    try:
        return png_chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:  # tEXt is Latin-1 only; a prompt in another script goes as iTXt
        return png_itxt_chunk(keyword, text)


def png_itxt_chunk(keyword: str, text: str) -> bytes:
    # "replace": a lone surrogate (possible in a str, never in UTF-8) must not stop the save
    return png_chunk(b"iTXt", keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8", "replace"))


def png_text(kind: bytes, rest: memoryview, limit: int, keyword: str) -> str:
    """The text of a tEXt, zTXt or iTXt chunk after its keyword, inflating at most ``limit`` bytes."""
    name = f"its {kind.decode()} chunk '{keyword}'"
    compressed, encoding = kind == b"zTXt", "latin-1"
    if kind == b"zTXt":
        if rest[:1] != b"\0":
            raise Malformed(f"{name} names an unknown compression method")
        rest = rest[1:]
    elif kind == b"iTXt":
        if len(rest) < 2 or rest[0] not in (0, 1) or rest[1] != 0:
            raise Malformed(f"{name} is cut short or names an unknown compression")
        compressed, encoding = rest[0] == 1, "utf-8"
        rest = rest[2:]
        for field in ("language tag", "translated keyword"):  # short fields: look in the first 4 KB
            end = bytes(rest[:4096]).find(b"\0")
            if end < 0:
                raise Malformed(f"{name} has no end to its {field} (cut short)")
            rest = rest[end + 1:]
    if not compressed and len(rest) > limit:
        raise Malformed(f"{name} holds {len(rest)} bytes, more than the {limit >> 20} MiB promptpaint reads")
    raw = inflate(rest, limit, name) if compressed else bytes(rest)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Malformed(f"{name} is not {encoding} text ({exc.reason} at byte {exc.start})") from None


def inflate(packed, limit: int, name: str) -> bytes:
    """At most ``limit`` bytes out of ``packed``: a bomb is refused, not inflated to the end."""
    z = zlib.decompressobj()
    try:
        out = z.decompress(packed, limit + 1)
    except zlib.error as exc:
        raise Malformed(f"{name} does not inflate ({exc})") from None
    if len(out) > limit:
        raise Malformed(f"{name} inflates past {limit >> 20} MiB, the most promptpaint reads; "
                        "it was not inflated further")
    if not z.eof:
        raise Malformed(f"{name} holds compressed text that is cut off")
    return out


# -- JPEG -------------------------------------------------------------------------------------
def jpeg_segments(data: bytes):
    """(marker, payload, start) of each marker segment before the image data (SOS or EOI)."""
    view, pos, end = memoryview(data), 2, len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise Malformed(f"the JPEG has no marker at byte {pos} where one should start")
        if pos + 1 >= end:
            raise Malformed(f"the JPEG is cut off at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte before a marker
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan (entropy-coded data follows) or end of image
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers that stand alone, without a length
            pos += 2
            continue
        if pos + 4 > end:
            raise Malformed(f"the JPEG is cut off at byte {pos}, inside a segment header")
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            raise Malformed(f"its segment FF{marker:02X} at byte {pos} says {length} bytes, "
                            "less than its own length field")
        if pos + 2 + length > end:
            raise Malformed(f"its segment FF{marker:02X} at byte {pos} says {length} bytes, but "
                            f"the file ends {end - pos - 2} bytes later (cut off)")
        yield marker, view[pos + 4:pos + 2 + length], pos
        pos += 2 + length


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > JPEG_SEGMENT_MAX:  # callers split first; this guards the 16-bit field
        raise InvalidRequest(f"A JPEG segment holds at most {JPEG_SEGMENT_MAX} bytes.", param="image")
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with(data: bytes, segments: list[bytes]) -> bytes:
    """Insert ``segments`` after SOI and any JFIF APP0 (EXIF readers expect them early)."""
    at = 2
    try:
        for marker, payload, pos in jpeg_segments(data):
            if marker != 0xE0:
                break
            at = pos + 4 + len(payload)
    except Malformed as exc:
        raise InvalidRequest(f"The JPEG is damaged: {exc}.", param="image") from None
    return data[:at] + b"".join(segments) + data[at:]


# -- WebP (RIFF) ------------------------------------------------------------------------------
def riff_chunks(data: bytes):
    """(FourCC, body) of each chunk after the ``RIFF....WEBP`` header."""
    view, pos, end = memoryview(data), 12, len(data)
    while pos < end:
        if pos + 8 > end:
            raise Malformed(f"the WebP is cut off at byte {pos}, inside a chunk header")
        kind = bytes(data[pos:pos + 4])
        (length,) = struct.unpack_from("<I", data, pos + 4)
        if pos + 8 + length > end:
            raise Malformed(f"its {_name(kind)} chunk at byte {pos} says {length} bytes, but the "
                            f"file ends {end - pos - 8} bytes after its header (cut off)")
        yield kind, view[pos + 8:pos + 8 + length]
        pos += 8 + length + (length & 1)


def riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def webp_with(data: bytes, extra: dict[bytes, bytes]) -> bytes:
    """Add EXIF/XMP chunks, turning a simple WebP into the extended form (VP8X) that holds them."""
    try:
        chunks = [(k, bytes(v)) for k, v in riff_chunks(data)]
    except Malformed as exc:
        raise InvalidRequest(f"The WebP is damaged: {exc}.", param="image") from None
    head = chunks.pop(0)[1] if chunks and chunks[0][0] == b"VP8X" else b""
    if len(head) == 10:
        flags = bytearray(head)
    else:  # a simple WebP (or a VP8X of the wrong size): the header is built from the image
        im = Image.open(io.BytesIO(data))
        w, h = im.size
        flags = bytearray(struct.pack("<I", 0x10 if "A" in im.getbands() else 0)
                          + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little"))
    flags[0] |= (0x08 if b"EXIF" in extra else 0) | (0x04 if b"XMP " in extra else 0)
    chunks = [(k, v) for k, v in chunks if k not in extra]  # EXIF and XMP go last, in that order
    body = riff_chunk(b"VP8X", bytes(flags)) + b"".join(riff_chunk(k, v) for k, v in chunks)
    body += b"".join(riff_chunk(k, v) for k, v in extra.items())
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _name(kind: bytes) -> str:
    """A chunk type for a message: printable, whatever bytes a hostile file put there."""
    return kind.decode("latin-1") if all(0x20 <= b < 0x7F for b in kind) else kind.hex()
