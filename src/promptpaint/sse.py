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
    buf = b""
    for chunk in chunks:
        if not chunk:
            continue
        buf += chunk
        while True:
            i_n, i_r = buf.find(b"\n"), buf.find(b"\r")
            ends = [i for i in (i_n, i_r) if i >= 0]
            if not ends:
                break
            i = min(ends)
            if buf[i:i + 1] == b"\r" and i + 1 == len(buf):
                break  # a CR at the end of a chunk may be the first half of CRLF
            step = 2 if buf[i:i + 2] == b"\r\n" else 1
            yield buf[:i].decode("utf-8")
            buf = buf[i + step:]
    if buf:
        yield buf.rstrip(b"\r").decode("utf-8")


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
