"""The one place image bytes are judged: formats, limits, MIME, modes, empty parameters."""

import io

import pytest
from PIL import Image

import promptpaint as pp
from promptpaint import images


def encoded(mode, fmt, size=(8, 6)):
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt, mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                       ("WEBP", "image/webp"), ("GIF", "image/gif"),
                                       ("TIFF", None), ("PPM", None), ("BMP", None)])
def test_mime_comes_from_the_bytes(fmt, mime):
    assert images.mime_of(encoded("RGB", fmt)) == mime


def test_png_size_reads_only_the_header():
    data = encoded("RGB", "PNG", (123, 45))
    assert images.png_size(data) == (123, 45) and images.png_size(data[:24]) == (123, 45)
    assert images.png_size(encoded("RGB", "JPEG")) is None


@pytest.mark.parametrize("mode, out", [("L", "RGB"), ("P", "RGB"), ("LA", "RGBA"), ("CMYK", "RGB"),
                                       ("RGBA", "RGBA"), ("I;16", "RGB")])
def test_rgb_or_rgba(mode, out):
    assert images.rgb_or_rgba(Image.new(mode, (2, 2))).mode == out


def test_drop_empty_keeps_zero_and_false():
    assert images.drop_empty({"a": None, "b": "", "c": 0, "d": False, "e": "x"}) == {"c": 0, "d": False, "e": "x"}


def test_the_client_takes_the_same_formats_and_limit_as_the_widget():
    client = pp.Client("offline")
    with pytest.raises(pp.InvalidRequest, match="PNG, JPEG, WebP or GIF"):
        client.edit("x", image=encoded("RGB", "TIFF"))
    with pytest.raises(pp.InvalidRequest, match="the limit is 20 MB"):
        client.edit("x", image=b"\x89PNG\r\n\x1a\n" + b"\0" * (21 * 2**20))
    r = client.edit("x", image=encoded("P", "GIF", (32, 32)))
    assert r.image.size == (32, 32)
