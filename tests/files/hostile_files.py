"""Hostile and damaged image files for ``pp.provenance()``, built byte by byte, and a reader to run
them in a fresh process (``python hostile_files.py PATH...``) for time and peak memory.

Used by tests/files/test_provenance.py (the outcome of each, the time in a subprocess, the memory of the
bombs) and bench/provenance.py (the figures). Each case is the image file, an optional sidecar
beside it, and what a user should get: no story and a ``ProvenanceNotice`` matching ``notice``,
or the story (``story=True``) when the damage is elsewhere in the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import sys
import time
import zlib
from dataclasses import dataclass

from PIL import Image

PP_NS = "https://promptpaint.dev/ns/1.0/"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXT_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
GOOD = {"prompt": "a lighthouse", "provider": "offline", "model": "offline-1", "parameters": {}}
MiB = 1 << 20


@dataclass
class Case:
    name: str
    suffix: str
    image: bytes
    notice: str | None              # a regex the ProvenanceNotice must match (None: no notice)
    story: bool = False             # True: the story is still read despite the damage
    sidecar: bytes | None = None    # written beside the image as "<name><suffix>.json"


# -- plain images and the pieces of their containers -----------------------------------------
def _plain(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_with(*chunks: bytes) -> bytes:
    png = _plain("PNG")
    return png[:-12] + b"".join(chunks) + png[-12:]  # before IEND


def jpeg_with(*segments: bytes) -> bytes:
    jpg = _plain("JPEG")
    return jpg[:2] + b"".join(segments) + jpg[2:]


def app1(payload: bytes, length: int | None = None) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2 if length is None else length) + payload


def webp_with(*chunks: tuple[bytes, bytes]) -> bytes:
    """A lossless 8x8 WebP in the extended form (VP8X) with ``chunks`` after its image data."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="WEBP", lossless=True)
    simple = buf.getvalue()[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x0C, 0, 0, 0]) + (7).to_bytes(3, "little") * 2
    body = vp8x + simple + b"".join(kind + struct.pack("<I", len(b)) + b + b"\0" * (len(b) & 1)
                                    for kind, b in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def xmp_packet(inner: str) -> bytes:
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" xmlns:pp="{PP_NS}">{inner}</rdf:Description></rdf:RDF>'
            "</x:xmpmeta>").encode()


def zlib_bomb(total: int, unit: int = 16 * MiB) -> bytes:
    """A valid zlib stream of ``total`` zero bytes (~1/1030 of it), built in well under a second:
    one fully flushed block of ``unit`` zeros repeated (a full flush resets the dictionary, so
    the copies are independent), then an empty final block and the Adler-32 of the whole."""
    z = zlib.compressobj(9)
    first = z.compress(bytes(unit)) + z.flush(zlib.Z_FULL_FLUSH)
    block = first[2:]  # after the two-byte zlib header
    adler = ((total % 65521) << 16) | 1  # Adler-32 of n zeros: a = 1, b = n mod 65521
    return first + block * (total // unit - 1) + b"\x03\x00" + struct.pack(">I", adler)


# -- the cases --------------------------------------------------------------------------------
def cases() -> list[Case]:
    key = b"promptpaint\0"
    bomb = zlib_bomb(1 << 30)  # 1 MB that inflates to 1 GiB
    story = json.dumps(GOOD).encode()
    repeated = ("<pp:promptpaint>" * (1 * MiB // 16)).encode()
    good_xmp = xmp_packet(f"<pp:promptpaint>{json.dumps(GOOD)}</pp:promptpaint>")
    # an extended XMP packet of 4 MB that repeats its opening tag, with a true MD5: it must be parsed
    ext_body = xmp_packet("<pp:promptpaint>" * (4 * MiB // 16))
    guid = hashlib.md5(ext_body).hexdigest().upper().encode()
    ext_std = xmp_packet("").replace(b"rdf:about=\"\"", b'rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
                                     b'xmpNote:HasExtendedXMP="' + guid + b'"')

    def ext_segments(body: bytes, guid: bytes, total: int | None = None, skip: int | None = None):
        size = len(body) if total is None else total
        return [app1(EXT_HEADER + guid + struct.pack(">II", size, at) + body[at:at + 65000])
                for i, at in enumerate(range(0, len(body), 65000)) if i != skip]

    small_ext = xmp_packet(f"<pp:promptpaint>{json.dumps(GOOD)}</pp:promptpaint>")
    small_guid = hashlib.md5(small_ext).hexdigest().upper().encode()
    small_std = ext_std.replace(guid, small_guid)
    billion_laughs = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + b"ha" * 1000 + b'">'
                      + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(8))
                      + b']><pp:promptpaint xmlns:pp="' + PP_NS.encode() + b'">&i;</pp:promptpaint>')
    bad_exif = app1(b"Exif\0\0MM\0\x2a\xff\xff\xff\xff" + b"\x00" * 20)
    return [
        # PNG
        Case("png zTXt bomb (1 MB -> 1 GiB)", ".png", png_with(png_chunk(b"zTXt", key + b"\0" + bomb)),
             r"inflates past 16 MiB"),
        Case("png iTXt bomb (1 MB -> 1 GiB)", ".png", png_with(png_chunk(b"iTXt", key + b"\1\0\0\0" + bomb)),
             r"inflates past 16 MiB"),
        Case("png iTXt cut short after keyword", ".png", png_with(png_chunk(b"iTXt", key)), r"cut short"),
        Case("png iTXt no end to language tag", ".png", png_with(png_chunk(b"iTXt", key + b"\0\0en")),
             r"no end to its language tag"),
        Case("png chunk length past end", ".png", _plain("PNG")[:-12] + struct.pack(">I", 10_000) + b"iTXt" + key,
             r"says 10000 bytes.*cut off"),
        Case("png cut inside a chunk header", ".png", _plain("PNG")[:40], r"cut off at byte 33"),
        Case("png story chunk bad CRC", ".png", png_with(png_chunk(b"iTXt", key + b"\0\0\0\0" + story, crc=1)),
             r"CRC"),
        Case("png broken deflate", ".png", png_with(png_chunk(b"iTXt", key + b"\1\0\0\0" + b"not zlib")),
             r"does not inflate"),
        Case("png deflate cut off", ".png", png_with(png_chunk(b"zTXt", key + b"\0" + zlib.compress(story)[:-8])),
             r"cut off"),
        Case("png unknown compression", ".png", png_with(png_chunk(b"zTXt", key + b"\7" + zlib.compress(story))),
             r"unknown compression"),
        Case("png broken JSON", ".png", png_with(png_chunk(b"iTXt", key + b"\0\0\0\0" + story[:-5])),
             r"not valid JSON"),
        Case("png JSON not an object", ".png", png_with(png_chunk(b"iTXt", key + b"\0\0\0\0" + b"[1, 2]")),
             r"JSON list, not an object"),
        Case("png JSON nested 100,000 deep", ".png", png_with(png_chunk(b"iTXt", key + b"\0\0\0\0" + b"[" * 100_000)),
             r"nests too deeply|not valid JSON"),
        Case("png iTXt not UTF-8", ".png", png_with(png_chunk(b"iTXt", key + b"\0\0\0\0" + b'{"prompt": "\xff"}')),
             r"not utf-8 text"),
        Case("png 17 MB uncompressed iTXt", ".png", png_with(png_chunk(b"iTXt", key + b"\0\0\0\0" + b" " * (17 * MiB))),
             r"more than the 16 MiB"),
        # JPEG
        Case("jpeg segment length past end", ".jpg", _plain("JPEG")[:2] + app1(XMP_HEADER + good_xmp[:100], 60_000),
             r"says 60000 bytes.*cut off"),
        Case("jpeg segment length 0", ".jpg", _plain("JPEG")[:2] + b"\xff\xe1\x00\x00" + b"\x00" * 64,
             r"says 0 bytes"),
        Case("jpeg XMP repeats its opening tag (64 KB)", ".jpg",
             jpeg_with(app1(XMP_HEADER + ("<pp:promptpaint>" * 4000).encode())), r"not well-formed"),
        Case("jpeg extended XMP 4 MB repeating its opening tag", ".jpg",
             jpeg_with(app1(XMP_HEADER + ext_std), *ext_segments(ext_body, guid)), r"nests elements more than 100 deep"),
        Case("jpeg extended XMP claims 4 GiB", ".jpg",
             jpeg_with(app1(XMP_HEADER + small_std), *ext_segments(small_ext, small_guid, total=0xFFFFFFFF)),
             r"more than the 16 MiB"),
        Case("jpeg extended XMP missing", ".jpg", jpeg_with(app1(XMP_HEADER + small_std)), r"no segment of it"),
        Case("jpeg extended XMP with a gap", ".jpg",
             jpeg_with(app1(XMP_HEADER + ext_std), *ext_segments(ext_body, guid, skip=3)), r"do not fit together"),
        Case("jpeg extended XMP altered", ".jpg",
             jpeg_with(app1(XMP_HEADER + small_std), *ext_segments(small_ext.replace(b"lighthouse", b"lighthousE"),
                                                                     small_guid)), r"does not match the digest"),
        Case("jpeg XMP with a DTD (billion laughs)", ".jpg", jpeg_with(app1(XMP_HEADER + billion_laughs)),
             r"declares a DTD"),
        Case("jpeg bad EXIF, no XMP", ".jpg", jpeg_with(bad_exif), None),
        Case("jpeg bad EXIF, good XMP", ".jpg", jpeg_with(bad_exif, app1(XMP_HEADER + good_xmp)), None, story=True),
        Case("jpeg XMP not UTF-8 and not XML", ".jpg", jpeg_with(app1(XMP_HEADER + b"<pp:promptpaint>\xff\xfe")),
             r"not well-formed"),
        Case("jpeg good XMP, then a segment cut off", ".jpg",
             _plain("JPEG")[:2] + app1(XMP_HEADER + good_xmp) + b"\xff\xe2\xff\xff", None, story=True),
        # WebP
        Case("webp XMP repeats its opening tag (1 MB)", ".webp", webp_with((b"XMP ", repeated)), r"not well-formed"),
        Case("webp XMP 1 MB deep, namespace bound", ".webp",
             webp_with((b"XMP ", xmp_packet("")[:-len("</rdf:Description></rdf:RDF></x:xmpmeta>")] + repeated)),
             r"nests elements more than 100 deep"),
        Case("webp XMP 15 MB of sibling elements", ".webp",
             webp_with((b"XMP ", xmp_packet("<pp:x/>" * (15 * MiB // 7)))), r"more than 10,000 elements"),
        Case("webp XMP 15 MB of entity references", ".webp",
             webp_with((b"XMP ", xmp_packet("<pp:promptpaint>" + "&amp;" * (15 * MiB // 5) + "</pp:promptpaint>"))),
             r"not valid JSON"),
        Case("webp XMP of 17 MB", ".webp", webp_with((b"XMP ", b" " * (17 * MiB))), r"more than the 16 MiB"),
        Case("webp chunk length past end", ".webp", webp_with() + b"XMP " + struct.pack("<I", 99_999),
             r"says 99999 bytes.*cut off"),
        Case("webp XMP story broken JSON", ".webp",
             webp_with((b"XMP ", xmp_packet('<pp:promptpaint>{"prompt": </pp:promptpaint>'))), r"not valid JSON"),
        # sidecars beside a PNG with no story
        Case("sidecar broken JSON", ".png", _plain("PNG"), r"sidecar .* not valid JSON", sidecar=b'{"prompt": "x'),
        Case("sidecar a JSON string", ".png", _plain("PNG"), r"sidecar .* JSON str, not an object",
             sidecar=b'"a story"'),
        Case("sidecar a JSON list", ".png", _plain("PNG"), r"JSON list, not an object", sidecar=b"[]"),
        Case("sidecar not UTF-8", ".png", _plain("PNG"), r"sidecar .* not valid JSON", sidecar=b"\xff\xfe\xfa{}"),
        Case("sidecar nested 100,000 deep", ".png", _plain("PNG"), r"nests too deeply|not valid JSON",
             sidecar=b"[" * 100_000),
        Case("sidecar of 17 MB", ".png", _plain("PNG"), r"over 16 MiB", sidecar=b" " * (17 * MiB)),
    ]


# -- reading one file in this process: python hostile_files.py PATH... ----------------------
def _peak_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def read(paths: list[str]) -> list[dict]:
    """For each path: seconds, whether a story came back, the notices, and the peak RSS (VmHWM)
    above the baseline taken after a warm-up read (imports, the empty ledger)."""
    import warnings

    import promptpaint as pp
    from promptpaint.imagemeta import ProvenanceNotice

    warm = io.BytesIO()
    Image.new("RGB", (2, 2)).save(warm, format="PNG")
    pp.provenance(warm.getvalue())
    out = []
    for path in paths:
        base = _peak_mib()
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = pp.provenance(path)
        out.append({"path": path, "seconds": time.perf_counter() - t, "story": got is not None,
                    "notices": [str(w.message) for w in caught
                                if issubclass(w.category, ProvenanceNotice)],
                    "peak_mib_above_base": _peak_mib() - base, "base_mib": base})
    return out


if __name__ == "__main__":
    print(json.dumps(read(sys.argv[1:])))
