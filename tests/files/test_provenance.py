"""result.save() and pp.provenance(): the story travels with the image, or beside it, or in the ledger."""

import io
import json
import shutil
import struct
import zlib
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from promptpaint import imagemeta
from promptpaint.store import ImageStore, sha256


@pytest.fixture
def result():
    client = pp.Client("offline")
    return client.generate("a lighthouse at dusk, ünïcode ✓", seed=7, aspect_ratio="3:2")


def _check(story, result):
    assert story["prompt"] == result.prompt
    assert story["provider"] == "offline"
    assert story["model"] == result.model
    assert story["seed"] == 7
    assert story["parameters"]["aspect_ratio"] == "3:2"
    assert Decimal(story["cost_usd"]) == result.cost
    assert story["ledger_id"] == result.ledger_id
    assert story["image"] == result.ids[0]
    assert story["promptpaint"] == pp.__version__
    assert story["created"]


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_round_trip_through_each_format(result, tmp_path, suffix):
    path = result.save(tmp_path / f"out{suffix}")
    assert path.suffix == suffix
    with Image.open(path) as im:  # still an image every reader opens, at the right size
        assert im.format == {".png": "PNG", ".jpg": "JPEG", ".webp": "WEBP"}[suffix]
        assert im.size == result.image.size
        im.load()
    story = pp.provenance(path)
    assert story["found_in"] == "embedded"
    _check(story, result)
    assert pp.provenance(Image.open(path))["ledger_id"] == result.ledger_id


def test_png_pixels_untouched_and_parameters_chunk_readable_by_pillow(result, tmp_path):
    path = result.save(tmp_path / "out.png")
    original = result.paths[0].read_bytes()
    saved = path.read_bytes()
    # Only chunks were added: the stored bytes up to IEND come first, unchanged.
    assert saved.startswith(original[:-12])
    with Image.open(path) as im:
        im.load()
        text = im.text["parameters"]
        assert text.startswith(result.prompt + "\n")
        assert "Model: " + result.model in text and "Seed: 7" in text
        assert json.loads(im.text["promptpaint"])["prompt"] == result.prompt
        assert im.tobytes() == result.image.tobytes()


def test_jpeg_carries_xmp_and_exif_user_comment(result, tmp_path):
    path = result.save(tmp_path / "out.jpeg")
    with Image.open(path) as im:
        exif = im.getexif().get_ifd(0x8769)
        comment = exif[0x9286]
        assert result.prompt in (comment[8:].decode("utf-16-be") if isinstance(comment, bytes) else comment)
    assert b"http://ns.adobe.com/xap/1.0/\x00" in path.read_bytes()


def test_webp_source_keeps_its_image_data():
    buf = io.BytesIO()
    Image.new("RGBA", (40, 30), (10, 200, 30, 128)).save(buf, format="WEBP", lossless=True)
    data = buf.getvalue()
    with_story = imagemeta.embed(data, {"prompt": "p", "parameters": {}})
    with Image.open(io.BytesIO(with_story)) as im:
        assert im.size == (40, 30) and im.mode == "RGBA"
        assert im.getpixel((3, 3)) == (10, 200, 30, 128)
    assert imagemeta.read_embedded(with_story)["prompt"] == "p"
    # the VP8L image chunk is carried over byte for byte
    assert data[12 + 8:] in with_story


def test_via_the_ledger_by_sha256(result, tmp_path):
    plain = tmp_path / "copied.png"
    shutil.copyfile(result.paths[0], plain)  # the provider's bytes, no story inside, no sidecar
    story = pp.provenance(plain)
    assert story["found_in"] == "ledger"
    _check({**story, "promptpaint": pp.__version__, "created": story["created"]}, result)
    assert pp.provenance(plain.read_bytes())["ledger_id"] == result.ledger_id


def test_a_folder_or_missing_path_is_a_clear_error(tmp_path):
    for where in (tmp_path, tmp_path / "nope.png"):
        with pytest.raises(pp.InvalidRequest, match="No image file at"):
            pp.provenance(where)


def test_unknown_image_has_no_story(tmp_path):
    path = tmp_path / "x.png"
    Image.new("RGB", (4, 4)).save(path)
    assert pp.provenance(path) is None


def _with_cabx(png: bytes) -> bytes:
    # A C2PA manifest store sits in a caBX chunk before IDAT; its signature covers the file's bytes.
    body = b"\x00\x00\x00\x20jumb" + b"\x00" * 24  # a stand-in JUMBF box; only its presence matters here
    chunk = struct.pack(">I", len(body)) + b"caBX" + body + struct.pack(">I", zlib.crc32(b"caBX" + body))
    at = 8 + 25  # after the signature and IHDR
    return png[:at] + chunk + png[at:]


def test_c2pa_png_is_stored_and_saved_byte_identical_with_a_sidecar(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 0, 0)).save(buf, format="PNG")
    signed = _with_cabx(buf.getvalue())
    assert imagemeta.has_c2pa(signed)
    client = pp.Client("offline")
    r = client.edit("make it blue", image=signed)
    store = client.store
    # the input went to the store untouched
    digest, path = store.put(signed)
    assert path.read_bytes() == signed and digest == sha256(signed)
    # a Result whose image carries C2PA is saved unchanged, with its story beside it
    r.paths[0] = path
    r.ids[0] = digest
    with pytest.warns(imagemeta.ProvenanceNotice, match="C2PA"):
        out = r.save(tmp_path / "signed.png")
    assert out.read_bytes() == signed
    side = tmp_path / "signed.png.json"
    assert json.loads(side.read_text())["prompt"] == "make it blue"
    story = pp.provenance(out)
    assert story["found_in"] == "sidecar" and story["ledger_id"] == r.ledger_id
    with pytest.raises(pp.InvalidRequest, match="C2PA"):
        r.save(tmp_path / "signed.jpg")


def test_bad_suffix_is_a_clear_error(result, tmp_path):
    with pytest.raises(pp.InvalidRequest, match=r"\.png, \.jpg or \.webp"):
        result.save(tmp_path / "out.tiff")


# -- hostile files: bounded, linear, and a notice instead of an exception -----------------------
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402
from pathlib import Path  # noqa: E402

import hostile_files  # noqa: E402

HOSTILE_NAMES = [c.name for c in hostile_files.cases()]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Every hostile case written to disk once (with its sidecar), by name."""
    folder = tmp_path_factory.mktemp("hostile")
    out = {}
    for i, case in enumerate(hostile_files.cases()):
        path = folder / f"{i:02d}{case.suffix}"
        path.write_bytes(case.image)
        if case.sidecar is not None:
            imagemeta.sidecar_path(path).write_bytes(case.sidecar)
        case.image = None  # the file has it; do not hold 60 MB for the session
        out[case.name] = (case, path)
    return out


def _provenance_and_notices(source):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = pp.provenance(source)
    notices = [w for w in caught if issubclass(w.category, imagemeta.ProvenanceNotice)]
    assert all(w.filename == __file__ for w in notices)  # shown at the caller's line, not inside promptpaint
    return got, [str(w.message) for w in notices]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_file_gives_a_clear_notice_or_its_story_never_an_exception(hostile, name):
    case, path = hostile[name]
    got, notices = _provenance_and_notices(path)
    if case.story:  # the damage is elsewhere in the file: the story is whole and is read
        assert got["found_in"] == "embedded" and got["prompt"] == hostile_files.GOOD["prompt"]
    else:
        assert got is None  # nothing embedded that can be trusted, no sidecar, not in the ledger
    if case.notice is None:
        assert notices == []
    else:
        assert len(notices) == 1 and re.search(case.notice, notices[0]), notices
        assert len(notices[0]) < 400 and "ignored" in notices[0]  # says what happened, quotes no payload
    data = path.read_bytes()
    assert imagemeta.has_c2pa(data) is False  # the writer's check walks the same hostile bytes


def test_every_hostile_file_is_answered_in_a_fresh_process_well_within_the_timeout(hostile):
    # The 1 MB WebP that repeats its opening tag took the old regex minutes (312 KB: ~50 s): a
    # quadratic reader would blow this generous limit, a linear one answers all files in seconds.
    paths = [str(p) for _, p in hostile.values()]
    run = subprocess.run([sys.executable, hostile_files.__file__, *paths], capture_output=True, text=True,
                         timeout=120, check=True)
    answers = json.loads(run.stdout)
    assert [a["story"] for a in answers] == [c.story for c, _ in hostile.values()]
    assert [bool(a["notices"]) for a in answers] == [c.notice is not None for c, _ in hostile.values()]


@pytest.mark.parametrize("name", ["png zTXt bomb (1 MB -> 1 GiB)", "png iTXt bomb (1 MB -> 1 GiB)"])
def test_a_decompression_bomb_is_refused_in_bounded_memory(hostile, name):
    _, path = hostile[name]
    assert path.stat().st_size < 1_100_000
    run = subprocess.run([sys.executable, hostile_files.__file__, str(path)], capture_output=True, text=True,
                         timeout=60, check=True)
    [answer] = json.loads(run.stdout)
    assert not answer["story"] and "inflates past 16 MiB" in answer["notices"][0]
    assert answer["peak_mib_above_base"] < 100  # inflating it would take 1024 MiB


def test_the_bomb_builder_makes_a_valid_zlib_stream():
    bomb = hostile_files.zlib_bomb(8 << 20, unit=1 << 20)  # the same construction, smaller
    assert zlib.decompress(bomb) == bytes(8 << 20)  # so the 1 GiB one is a real bomb, not garbage


# -- saves carry a story of any length and any characters ----------------------------------------
LONG = ("a lighthouse at dusk, ünïcode ✓ & <tags> " * 2500)[:100_000]
CONTROL = "".join(map(chr, range(32))) * 20 + "\x7f\x85 <&> ]]> \ufffe\uffff \x1b[2K\r\n end"


def _xmp_packets(path: Path) -> list[bytes]:
    """The XMP a file carries, found by Pillow (not by promptpaint): JPEG standard + extended, WebP."""
    with Image.open(path) as im:
        if im.format == "WEBP":
            return [im.info["xmp"]]
        apps = [body for marker, body in im.applist if marker == "APP1"]
    std = [b[29:] for b in apps if b.startswith(b"http://ns.adobe.com/xap/1.0/\x00")]
    ext = sorted((b[35 + 36:35 + 40], b[35 + 40:]) for b in apps
                 if b.startswith(b"http://ns.adobe.com/xmp/extension/\x00"))
    return std + ([b"".join(piece for _, piece in ext)] if ext else [])


def _xml_story(packets: list[bytes]) -> dict:
    """Each packet parsed by an XML parser (so each is well-formed), and the story element's JSON."""
    found = [el.text for p in packets for el in ET.fromstring(p).iter(f"{{{imagemeta.XMP_NS}}}promptpaint")]
    assert len(found) == 1
    return json.loads(found[0])


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
@pytest.mark.parametrize("prompt", [LONG, CONTROL], ids=["100KB", "control-characters"])
def test_a_story_of_any_length_and_any_characters_round_trips(tmp_path, suffix, prompt):
    r = pp.Client("offline").generate(prompt, seed=3, aspect_ratio="3:2")
    saved = json.loads(json.dumps(imagemeta.story(r), default=str))
    assert saved["prompt"] == prompt
    with warnings.catch_warnings():
        warnings.simplefilter("error", imagemeta.ProvenanceNotice)
        path = r.save(tmp_path / f"out{suffix}")
        got = pp.provenance(path)
        from_pil = pp.provenance(Image.open(path))
    assert got.pop("found_in") == "embedded" and got == saved
    assert from_pil["prompt"] == prompt
    with Image.open(path) as im:
        im.load()
        assert im.size == r.image.size
        if suffix == ".png":
            assert json.loads(im.text["promptpaint"]) == saved
    if suffix != ".png":
        assert _xml_story(_xmp_packets(path)) == saved


def test_a_long_jpeg_story_is_split_as_extended_xmp(tmp_path):
    r = pp.Client("offline").generate(LONG, seed=3)
    data = r.save(tmp_path / "long.jpg").read_bytes()
    with Image.open(tmp_path / "long.jpg") as im:
        apps = [body for marker, body in im.applist if marker == "APP1"]
        comment = im.getexif().get_ifd(0x8769)[0x9286]
    std = [b for b in apps if b.startswith(b"http://ns.adobe.com/xap/1.0/\x00")]
    ext = [b for b in apps if b.startswith(b"http://ns.adobe.com/xmp/extension/\x00")]
    assert len(std) == 1 and len(ext) >= 2 and all(len(b) + 2 <= 0xFFFF for b in apps)
    # every piece names the same GUID and full length; the GUID is the MD5 of the whole, as XMP says
    whole = b"".join(b[75:] for b in sorted(ext, key=lambda b: struct.unpack(">I", b[71:75])[0]))
    import hashlib
    guid = hashlib.md5(whole).hexdigest().upper()
    assert {b[35:67].decode() for b in ext} == {guid}
    assert {struct.unpack(">I", b[67:71])[0] for b in ext} == {len(whole)}
    note = ET.fromstring(std[0][29:]).find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")
    assert note.get("{http://ns.adobe.com/xmp/note/}HasExtendedXMP") == guid
    # EXIF cannot span segments: its paragraph starts with the prompt and is cut with "…"
    text = comment[8:].decode("utf-16-be") if isinstance(comment, bytes) else comment
    assert text.startswith(LONG[:10_000]) and text.endswith("…")
    assert data.count(b"\xff\xe1") >= 4


def test_a_medium_jpeg_story_keeps_its_paragraph_in_the_standard_packet():
    # 40 KB: the JSON story moves to the extended packet, the paragraph fits in the standard one,
    # so a reader that knows only standard XMP still shows the prompt.
    prompt = "p" * 40_000
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, format="JPEG")
    out = imagemeta.embed(buf.getvalue(), {"prompt": prompt, "parameters": {}})
    with Image.open(io.BytesIO(out)) as im:
        root = ET.fromstring(im.info["xmp"])
    li = root.find(".//{http://purl.org/dc/elements/1.1/}description/*/*")
    assert li.text.startswith(prompt)
    assert root.find(f".//{{{imagemeta.XMP_NS}}}promptpaint") is None
    assert imagemeta.read_embedded(out)["prompt"] == prompt


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (20, 90, 200)).save(buf, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_characters_xml_cannot_hold_still_round_trip(fmt):
    # Lone surrogates and U+FFFE/U+FFFF cannot be in XML 1.0 (nor in UTF-8): the JSON escapes them.
    s = {"prompt": "lone \ud800 high, \udfff low, \ufffe\uffff, \x00\x1b]0;title\x07", "parameters": {"k": "\ud83d"}}
    out = imagemeta.embed(_image(fmt), s)
    assert imagemeta.read_embedded(out) == s
    if fmt != "PNG":
        with Image.open(io.BytesIO(out)) as im:
            ET.fromstring(im.info["xmp"])  # well-formed


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_download_of_a_long_prompt_carries_it_whole(fmt):
    # The Studio's Download embeds the ledger's story in the stored bytes: one file, no sidecar.
    from promptpaint.ledger import Attempt

    stored = _image(fmt)
    led = pp.ledger()
    row = led.reserve(Attempt(provider="openai", model="gpt-image-2", kind="generate", prompt=LONG,
                              params={"size": "1024x1024"}, price_version=None), None, [])
    led.settle(row, status="ok", cost=None, images=[sha256(stored)])
    out, note = imagemeta.for_download(stored, led)
    assert note is None and out != stored
    got = pp.provenance(out)
    assert got["found_in"] == "embedded" and got["prompt"] == LONG
    assert got["ledger_id"] == led.entries(limit=1)[0]["id"] and got["parameters"] == {"size": "1024x1024"}


def test_a_file_saved_before_xmp_was_escaped_still_gives_its_story():
    # Earlier versions wrote control characters raw into the paragraph: ill-formed XML whose JSON
    # story is intact. It is read (by a one-pass search), with a notice saying so.
    s = {"prompt": "bell \x07 here", "parameters": {}}
    blob = json.dumps(s).replace("&", "&amp;").replace("<", "&lt;")
    packet = hostile_files.xmp_packet(f"<dc:description>bell \x07 here</dc:description><pp:promptpaint>{blob}</pp:promptpaint>")
    data = hostile_files.jpeg_with(hostile_files.app1(hostile_files.XMP_HEADER + packet))
    with pytest.warns(imagemeta.ProvenanceNotice, match="not well-formed XML .*read from it as text"):
        assert imagemeta.read_embedded(data) == s


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_story_too_large_to_read_back_is_refused_when_saving(fmt):
    with pytest.raises(pp.InvalidRequest, match="more than the 16 MiB .*shorten the prompt"):
        imagemeta.embed(_image(fmt), {"prompt": "x" * (17 << 20), "parameters": {}})


def test_saving_into_a_damaged_image_is_a_clear_error():
    with pytest.raises(pp.InvalidRequest, match="The PNG is damaged: .*cut off"):
        imagemeta.embed(_image("PNG")[:-20], {"prompt": "p", "parameters": {}})
