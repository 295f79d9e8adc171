"""Server-sent events (the ``text/event-stream`` format both providers stream in), from raw bytes.

Follows the WHATWG event-stream rules: lines end in CRLF, LF or CR; ``data:`` lines of one event
are joined with newlines; a blank line ends the event; lines starting with ``:`` are comments;
bytes are UTF-8 (an invalid sequence becomes U+FFFD, never an exception).

Linear in the bytes read, however they are cut: a close-delimited stream may hand over its whole
body as one chunk of many lines, and a preview's base64 line is megabytes long in many chunks.
A line longer than ``max_line`` is dropped as it arrives (never held whole): its event comes with
``skipped`` set to the bytes dropped, for the reader to pass over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

MAX_LINE = 64 * 2**20  # above any final image's base64 (a 4K PNG is ~30 MB); a longer line is dropped


@dataclass
class Event:
    event: str | None
    data: str
    id: str | None = None
    skipped: int = 0  # bytes of data lines dropped for being longer than max_line


class _TooLong:
    """A line dropped for its length; ``size`` is how many bytes it had."""

    __slots__ = ("size", "head")

    def __init__(self, size: int, head: bytes):
        self.size, self.head = size, head


def _lines(chunks: Iterable[bytes], max_line: int) -> Iterator[str | _TooLong]:
    buf = bytearray()   # the current line so far (never more than max_line bytes)
    dropped = 0         # bytes of the current line dropped (it is longer than max_line)
    head = b""          # its first bytes, for its field name
    after_cr = False    # the last chunk ended in CR: an LF starting this one is its other half
    for chunk in chunks:
        if not chunk:
            continue
        pos, n = 0, len(chunk)
        if after_cr and chunk[:1] == b"\n":
            pos = 1
        after_cr = False
        cr = lf = -1  # the next CR and LF at or after pos (-2: none left), each found once
        while pos < n:
            if -2 < cr < pos:
                cr = chunk.find(b"\r", pos)
                cr = -2 if cr < 0 else cr
            if -2 < lf < pos:
                lf = chunk.find(b"\n", pos)
                lf = -2 if lf < 0 else lf
            end = (lf if lf >= 0 else n) if cr < 0 else cr if lf < 0 or cr < lf else lf
            if end < n and not buf and not dropped and end - pos <= max_line:
                # the common case: a whole line inside this chunk, decoded straight from it
                line = chunk[pos:end].decode("utf-8", "replace")
                pos = end + 1
                if chunk[end] == 13:
                    if pos < n and chunk[pos] == 10:
                        pos += 1
                    elif pos == n:
                        after_cr = True
                yield line
                continue
            piece = chunk[pos:end] if (pos, end) != (0, n) else chunk
            if dropped:
                dropped += len(piece)
            elif len(buf) + len(piece) > max_line:
                head = bytes(buf[:64] + piece[:64])[:64]
                dropped = len(buf) + len(piece)
                buf = bytearray()
            else:
                buf += piece
            if end == n:
                break
            pos = end + 1
            if chunk[end] == 13:
                if pos < n and chunk[pos] == 10:
                    pos += 1
                elif pos == n:
                    after_cr = True
            if dropped:
                yield _TooLong(dropped, head)
                dropped = 0
            else:
                yield buf.decode("utf-8", "replace")
                buf = bytearray()
    if dropped:
        yield _TooLong(dropped, head)
    elif buf:
        yield buf.decode("utf-8", "replace")


def events(chunks: Iterable[bytes], max_line: int = MAX_LINE) -> Iterator[Event]:
    """The events in a byte stream, as they complete. A final event without its blank line is
    dropped: the stream was cut off before it ended."""
    name, data, last_id, skipped = None, [], None, 0
    for line in _lines(chunks, max_line):
        if isinstance(line, _TooLong):
            if line.head.startswith(b"data"):
                skipped += line.size
            continue  # an over-long name, id or comment: nothing a reader needs
        if not line:
            if data or name or skipped:
                yield Event(name, "\n".join(data), last_id, skipped)
            name, data, skipped = None, [], 0
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        elif field == "id" and "\0" not in value:
            last_id = value
