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
