"""How an animated GIF carries its story: one GIF Comment Extension (``21 FE``) before the trailer,
holding ``promptpaint:`` and the story's JSON. The frames are not touched, so the animation and
every pixel stay as the provider made them; any GIF reader skips comments.

Reading walks the blocks with every length checked against the file: a hostile GIF raises
``MalformedFile`` (which provenance readers turn into a notice), never anything else.
"""

from __future__ import annotations

from .errors import MalformedFile

PREFIX = b"promptpaint:"
_EXTENSION, _IMAGE, _TRAILER, _COMMENT = 0x21, 0x2C, 0x3B, 0xFE


def _sub_blocks(data: bytes, i: int) -> tuple[bytes, int]:
    """The data of the sub-blocks starting at ``i`` (each a length byte, then that many bytes, up
    to a 0 length) and the offset after them."""
    out = bytearray()
    while True:
        if i >= len(data):
            raise MalformedFile(f"a GIF data block runs past the end of the file at byte {i}")
        size = data[i]
        i += 1
        if size == 0:
            return bytes(out), i
        if i + size > len(data):
            raise MalformedFile(f"a GIF sub-block of {size} bytes at byte {i - 1} runs past the end")
        out += data[i:i + size]
        i += size


def _colour_table(flags: int) -> int:
    return 3 * (2 ** ((flags & 0x07) + 1)) if flags & 0x80 else 0


def blocks(data: bytes):
    """(kind, label, start, end, payload) of each block after the header: kind is "ext" or
    "image"; the last one yielded is the trailer ("end")."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise MalformedFile("not a GIF (no GIF87a/GIF89a header)")
    i = 13 + _colour_table(data[10])
    while True:
        if i >= len(data):
            raise MalformedFile("the GIF ends without its trailer byte (0x3B)")
        start, tag = i, data[i]
        if tag == _TRAILER:
            yield "end", None, start, start + 1, b""
            return
        if tag == _EXTENSION:
            if i + 2 > len(data):
                raise MalformedFile(f"a GIF extension at byte {i} is cut off")
            payload, i = _sub_blocks(data, i + 2)
            yield "ext", data[start + 1], start, i, payload
        elif tag == _IMAGE:
            if i + 11 > len(data):
                raise MalformedFile(f"a GIF image descriptor at byte {i} is cut off")
            i += 10 + _colour_table(data[i + 9]) + 1  # descriptor, local table, LZW code size
            _, i = _sub_blocks(data, i)
            yield "image", None, start, i, b""
        else:
            raise MalformedFile(f"unknown GIF block 0x{tag:02x} at byte {i}")


def with_story(data: bytes, blob: str) -> bytes:
    """``data`` with any earlier promptpaint comment removed and ``blob`` added as a comment."""
    keep, trailer = [], None
    for kind, label, start, end, payload in blocks(data):
        if kind == "end":
            trailer = start
        elif not (label == _COMMENT and payload.startswith(PREFIX)):
            keep.append((start, end))
    head = data[:13 + _colour_table(data[10])]
    body = b"".join(data[s:e] for s, e in keep)
    text = PREFIX + blob.encode("utf-8")
    comment = bytes([_EXTENSION, _COMMENT]) + b"".join(
        bytes([len(text[k:k + 255])]) + text[k:k + 255] for k in range(0, len(text), 255)) + b"\0"
    return head + body + comment + data[trailer:]


def story(data: bytes) -> str | None:
    """The story JSON text in a GIF's promptpaint comment, or None."""
    for kind, label, _, _, payload in blocks(data):
        if label == _COMMENT and payload.startswith(PREFIX):
            try:
                return payload[len(PREFIX):].decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedFile("the GIF's promptpaint comment is not UTF-8") from None
    return None


def frames(data: bytes) -> int:
    """How many frames (image blocks) the GIF holds."""
    return sum(1 for kind, *_ in blocks(data) if kind == "image")
