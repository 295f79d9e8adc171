"""XMP packets holding an image's story: written as well-formed XML 1.0, read in linear time.

Writing: the JSON story and the human-readable paragraph go in as element text. XML 1.0 forbids
most control characters even as character references, so the paragraph drops them, and the JSON
writes every character XML cannot hold as a ``\\uXXXX`` escape (JSON escapes C0 controls
already; lone surrogates and U+FFFE/U+FFFF are the rest), so the story survives exactly.

A JPEG segment holds 64 KB. A longer packet is split as the XMP specification (part 3, 1.1.3)
says: the standard packet in the usual APP1 segment names the extended one by ``HasExtendedXMP``
(the MD5 of its bytes), and the extended packet follows in as many ``xmp/extension`` APP1
segments as it needs, each with its offset. We split rather than put long stories in a sidecar
because the widget's Download hands the browser a single file: a sidecar would not go with it.

Reading uses expat, a streaming parser that is linear in its input, and refuses a DTD (XMP never
has one; a DTD is how entity bombs and external entities get in). A packet that is not
well-formed (written by promptpaint before control characters were handled) is searched for the
story element with ``bytes.find``: one pass, where the old ``<pp:...>(.*?)</pp:...>`` regex went
quadratic on a packet repeating its opening tag.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from xml.parsers import expat
from xml.sax.saxutils import escape, unescape

from .imagefile import JPEG_SEGMENT_MAX, Malformed

KEY = "promptpaint"
NS = "https://promptpaint.dev/ns/1.0/"
NOTE_NS = "http://ns.adobe.com/xmp/note/"
HEADER = b"http://ns.adobe.com/xap/1.0/\x00"          # a standard packet's APP1 signature
EXT_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"  # an extended packet's APP1 signature
EXT_PORTION = 65400  # bytes of extended packet per segment; under the spec's 65458 with room to spare

# Expat is linear in bytes, but each element costs a call into Python (several µs): a hostile packet
# of a million tiny elements would take seconds. Real XMP nests a dozen deep and has at most a few
# thousand elements; ours has eight, however long the story.
MAX_NESTING = 100
MAX_ELEMENTS = 10_000
_STORY = f"{NS} {KEY}"                    # expat's names with namespace_separator=" "
_GUID = f"{NOTE_NS} HasExtendedXMP"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_XML_IN_JSON = re.compile("[\ud800-\udfff\ufffe\uffff]")  # what json.dumps leaves raw


def story_json(story: dict) -> str:
    """``story`` as JSON text that XML 1.0 can carry and ``json.loads`` turns back into ``story``."""
    text = json.dumps(story, default=str, ensure_ascii=False)
    return _NOT_XML_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text(s: str) -> str:
    """Element text for the human-readable paragraph: forbidden characters dropped, CR kept."""
    return escape(_NOT_XML.sub("", s), {"\r": "&#13;"})


def _props(paragraph: str, blob: str) -> list[str]:
    return [f"<pp:{KEY}>{escape(blob)}</pp:{KEY}>",
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{_text(paragraph)}</rdf:li>'
            "</rdf:Alt></dc:description>"]


def _packet(props: list[str], *, guid: str | None = None, wrapper: bool = True) -> bytes:
    note = f' xmlns:xmpNote="{NOTE_NS}" xmpNote:HasExtendedXMP="{guid}"' if guid else ""
    xml = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pp="{NS}"{note}>'
           + "".join(props) + "</rdf:Description></rdf:RDF></x:xmpmeta>")
    if wrapper:
        xml = f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{xml}<?xpacket end="w"?>'
    return xml.encode("utf-8")


def packet(paragraph: str, blob: str) -> bytes:
    """One packet with the story and the paragraph (WebP's XMP chunk has no size limit to speak of)."""
    return _packet(_props(paragraph, blob))


def jpeg_payloads(paragraph: str, blob: str) -> list[bytes]:
    """APP1 payloads: the standard packet, then, if it would not fit, the extended one in pieces.

    Properties move to the extended packet, the story first, until the standard one fits: a reader
    that knows only standard XMP still finds the paragraph when it is short enough.
    """
    keep, moved = _props(paragraph, blob), []
    standard = _packet(keep)
    while len(HEADER) + len(standard) > JPEG_SEGMENT_MAX:
        moved.append(keep.pop(0))
        extended = _packet(moved, wrapper=False)
        guid = hashlib.md5(extended, usedforsecurity=False).hexdigest().upper()
        standard = _packet(keep, guid=guid)
    out = [HEADER + standard]
    if moved:
        ident = guid.encode("ascii") + struct.pack(">I", len(extended))
        out += [EXT_HEADER + ident + struct.pack(">I", at) + extended[at:at + EXT_PORTION]
                for at in range(0, len(extended), EXT_PORTION)]
    return out


# -- reading ----------------------------------------------------------------------------------
def read(xmp: bytes) -> tuple[str | None, str | None, str | None]:
    """(story JSON text, extended-packet GUID, a note on how it was read) from one packet.

    ``Malformed`` when there is no story to be had; the note says when a packet that is not
    well-formed XML gave its story up to the lenient search.
    """
    xmp = bytes(xmp).rstrip(b"\0 \t\r\n")  # some writers pad a packet with NULs
    try:
        found = _parse(xmp)
    except _Refused as exc:
        raise Malformed(str(exc)) from None
    except expat.ExpatError as exc:
        story = _find_story(xmp)
        if story is None:
            raise Malformed(f"its XMP is not well-formed XML ({exc}) and holds no story") from None
        return story, None, f"its XMP is not well-formed XML ({exc}); the story was read from it as text"
    return found.get(_STORY), found.get(_GUID), None


def extended_packet(parts: list[tuple], guid: str, limit: int) -> bytes:
    """The extended packet named ``guid``, put together from its (guid, full length, offset, portion)
    segments; ``Malformed`` when it is longer than ``limit``, has a gap, or was altered."""
    if not re.fullmatch("[0-9A-Fa-f]{32}", guid):
        raise Malformed("its XMP names an extended packet, but not by a 32-digit MD5 as XMP does")
    mine = [(total, at, piece) for g, total, at, piece in parts if g == guid.upper().encode("ascii")]
    if not mine:
        raise Malformed(f"its XMP says the story continues in an extended packet ({guid}), "
                        "but no segment of it is in the file")
    total = mine[0][0]
    if total > limit:
        raise Malformed(f"its extended XMP says {total} bytes, more than the {limit >> 20} MiB "
                        "promptpaint reads")
    buf, filled = bytearray(total), 0
    for length, at, piece in sorted(mine, key=lambda p: p[1]):
        if length != total or at != filled or at + len(piece) > total:
            raise Malformed("its extended XMP segments do not fit together (a length or offset "
                            "is wrong, or a piece is missing)")
        buf[at:at + len(piece)] = piece
        filled += len(piece)
    if filled != total:
        raise Malformed(f"its extended XMP is incomplete: {filled} of {total} bytes are in the file")
    if hashlib.md5(buf, usedforsecurity=False).hexdigest().upper() != guid.upper():
        raise Malformed("its extended XMP does not match the digest its standard packet names "
                        "(altered or mixed with another file's)")
    return bytes(buf)


def extended_part(payload: memoryview) -> tuple | None:
    """(guid, full length, offset, portion) of one ``xmp/extension`` APP1 payload, None when it is
    too short to be one. The portion stays a view into the file: nothing is copied until assembled."""
    head = len(EXT_HEADER)
    if len(payload) < head + 40:
        return None
    total, at = struct.unpack_from(">II", payload, head + 32)
    return bytes(payload[head:head + 32]).upper(), total, at, payload[head + 40:]


class _Refused(Exception):
    pass


def _refuse_dtd(*_args):
    raise _Refused("its XMP declares a DTD, which XMP never has; not read")


def _parse(xmp: bytes) -> dict[str, str]:
    """The first value of each wanted property, whether written as an element or an attribute."""
    found: dict[str, str] = {}
    depth, parts = 0, []  # depth > 0: inside the story element, gathering its text
    nesting = elements = 0

    def start(name, attrs):
        nonlocal depth, nesting, elements
        nesting, elements = nesting + 1, elements + 1
        if nesting > MAX_NESTING:
            raise _Refused(f"its XMP nests elements more than {MAX_NESTING} deep, which no XMP does; not read")
        if elements > MAX_ELEMENTS:
            raise _Refused(f"its XMP has more than {MAX_ELEMENTS:,} elements, far more than any story; not read")
        if depth:
            depth += 1
            return
        for wanted in (_STORY, _GUID):
            if wanted in attrs and wanted not in found:
                found[wanted] = attrs[wanted]
        if name in (_STORY, _GUID) and name not in found:
            depth, parts[:] = 1, [name]

    def end(_name):
        nonlocal depth, nesting
        nesting -= 1
        if depth:
            depth -= 1
            if depth == 0:
                found[parts[0]] = "".join(parts[1:])

    def text(data):
        if depth:
            parts.append(data)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    parser.Parse(xmp, True)
    return found


def _find_story(xmp: bytes) -> str | None:
    """The story element's text found by plain search: the first opening tag and the first
    closing tag after it, so a packet repeating either costs one pass."""
    opening, closing = f"<pp:{KEY}>".encode(), f"</pp:{KEY}>".encode()
    at = xmp.find(opening)
    if at < 0:
        return None
    stop = xmp.find(closing, at)
    if stop < 0:
        return None
    try:
        raw = xmp[at + len(opening):stop].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return unescape(raw, {"&quot;": '"', "&apos;": "'", "&#13;": "\r"})
