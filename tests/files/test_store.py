"""The image store: addressed only by sha256 ids, every image under its real extension with its
bytes untouched, and no partial file left behind by a failed write."""

import errno
import io
import os

import pytest
from PIL import Image

import promptpaint as pp
from promptpaint.store import ImageStore, sha256


def encoded(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 60)).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt, ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif")])
def test_each_format_is_stored_under_its_real_extension_byte_for_byte(tmp_path, fmt, ext):
    store = ImageStore(tmp_path)
    data = encoded(fmt)
    digest, path = store.put(data)
    assert digest == sha256(data) and path == tmp_path / f"{digest}.{ext}"
    assert path.read_bytes() == data and store.read(digest) == data
    assert store.open(digest).format == fmt


@pytest.mark.parametrize("fmt", ["TIFF", "PPM", "BMP"])
def test_other_formats_are_refused_not_stored_as_png(tmp_path, fmt):
    store = ImageStore(tmp_path)
    with pytest.raises(pp.InvalidRequest, match="PNG, JPEG, WEBP, GIF and SVG"):
        store.put(encoded(fmt))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [
    ".//./../secret/private",
    "../" * 21 + "x",
    "A" * 64,                        # upper case is not what sha256 hexdigest gives
    "a" * 63, "a" * 65,
    "a" * 64 + "\n",
    "a" * 60 + "/../",
    "a" * 32 + "/" + "a" * 31,
    "",
    None,
    123,
])
def test_only_sha256_ids_address_the_store(tmp_path, bad):
    store = ImageStore(tmp_path / "images")
    secret = tmp_path / "secret"
    secret.mkdir()
    Image.new("RGB", (2, 2)).save(secret / "private.png")
    for method in (store.find, store.read, store.open):
        with pytest.raises(pp.InvalidRequest, match="not an image id"):
            method(bad)


def test_a_long_bad_id_is_not_quoted_whole(tmp_path):
    with pytest.raises(pp.InvalidRequest) as exc:
        ImageStore(tmp_path).read("x" * 100_000)
    assert len(str(exc.value)) < 300


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    store = ImageStore(tmp_path)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.put(encoded("PNG"))
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    digest, path = store.put(encoded("PNG"))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
