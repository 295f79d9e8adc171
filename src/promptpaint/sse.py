"""Server-sent events (the ``text/event-stream`` format both providers stream in), from raw bytes.

Follows the WHATWG event-stream rules: lines end in CRLF, LF or CR; ``data:`` lines of one event
are joined with newlines; a blank line ends the event; lines starting with ``:`` are comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator


@dataclass
class Event:
    event: str | None
    data: str
    id: str | None = None


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    # A preview's base64 line is megabytes long and arrives in many chunks: keep one growing
    # buffer and look for a line end only in the bytes not searched yet.
    buf, scan = bytearray(), 0
    for chunk in chunks:
        if not chunk:
            continue
        buf += chunk
        while True:
            ends = [i for i in (buf.find(b"\n", scan), buf.find(b"\r", scan)) if i >= 0]
            if not ends:
                scan = len(buf)
                break
            i = min(ends)
            if buf[i] == 13 and i + 1 == len(buf):
                scan = i  # a CR at the end of a chunk may be the first half of CRLF
                break
            step = 2 if buf[i:i + 2] == b"\r\n" else 1
            line = bytes(buf[:i])
            del buf[:i + step]
            scan = 0
            yield line.decode("utf-8")
    if buf:
        yield bytes(buf).rstrip(b"\r").decode("utf-8")


def events(chunks: Iterable[bytes]) -> Iterator[Event]:
    """The events in a byte stream, as they complete. A final event without its blank line is
    dropped: the stream was cut off before it ended."""
    name, data, last_id = None, [], None
    for line in _lines(chunks):
        if not line:
            if data or name:
                yield Event(name, "\n".join(data), last_id)
            name, data = None, []
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
