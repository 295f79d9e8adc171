"""How an SVG carries its story: a ``<metadata id="promptpaint-story">`` element, first inside the
root ``<svg>``, holding the story's JSON as XML-escaped text. Nothing that draws is touched, and
the file stays a plain SVG any editor opens.

Read by pattern, never by an XML parser: an SVG from a model is untrusted text (entity bombs,
external entities), and promptpaint only needs its own element back.
"""

from __future__ import annotations

import html
import re

from .errors import MalformedFile

ELEMENT_ID = "promptpaint-story"
_ROOT = re.compile(rb"<svg\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE)
_OURS = re.compile(rb'<metadata id="' + ELEMENT_ID.encode() + rb'">([^<]*)</metadata>')


def is_svg(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts like an SVG document."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith((b"<svg", b"<?xml", b"<!DOCTYPE svg", b"<!-- "))


def with_story(data: bytes, blob: str) -> bytes:
    """``data`` with any earlier story element removed and ``blob`` put first inside ``<svg>``."""
    data = _OURS.sub(b"", data)
    root = _ROOT.search(data)
    if root is None or root.group(0).endswith(b"/>"):
        raise MalformedFile("the SVG has no <svg> element to hold a story")
    element = (f'<metadata id="{ELEMENT_ID}">{html.escape(blob, quote=False)}</metadata>').encode("utf-8")
    return data[:root.end()] + element + data[root.end():]


def story(data: bytes) -> str | None:
    """The story JSON text in an SVG's promptpaint element, or None."""
    found = _OURS.search(data)
    if found is None:
        return None
    try:
        return html.unescape(found.group(1).decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedFile("the SVG's promptpaint element is not UTF-8") from None
