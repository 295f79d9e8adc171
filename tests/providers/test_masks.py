import io

import numpy as np
import pytest
from PIL import Image

from promptpaint import InvalidRequest, masks
from promptpaint.providers.openai import masks as openai_masks


def test_masks_from_arrays_images_and_png_bytes_agree():
    arr = np.zeros((40, 60), dtype=bool)
    arr[10:20, 5:25] = True
    from_array = masks.normalise(arr, (60, 40))
    rgba = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    rgba.paste((255, 0, 0, 128), (5, 10, 25, 20))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    from_png = masks.normalise(buf.getvalue(), (60, 40))
    assert np.array_equal(np.asarray(from_array), np.asarray(from_png))
    assert np.asarray(from_array).sum() == 200 * 255


def test_mask_is_rescaled_to_the_image_but_not_reshaped():
    small = Image.new("L", (30, 20), 0)
    small.paste(255, (0, 0, 15, 20))
    big = masks.normalise(small, (300, 200))
    assert big.size == (300, 200)
    assert big.getpixel((100, 100)) == 255 and big.getpixel((200, 100)) == 0
    with pytest.raises(InvalidRequest, match="30x20"):
        masks.normalise(small, (300, 300))


def test_openai_mask_is_rgba_with_alpha_zero_where_painted():
    m = Image.new("L", (8, 8), 0)
    m.putpixel((2, 3), 255)
    png = Image.open(io.BytesIO(openai_masks.mask_png(m)))
    assert png.format == "PNG" and png.mode == "RGBA" and png.size == (8, 8)
    assert png.getpixel((2, 3))[3] == 0
    assert png.getpixel((0, 0))[3] == 255


def test_composite_keeps_every_pixel_outside_the_mask():
    rng = np.random.default_rng(1)
    original = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    edited = Image.new("RGB", (128, 128), (0, 255, 0))  # providers may answer at another size
    m = np.zeros((64, 64), dtype=np.uint8)
    m[20:40, 20:40] = 255
    out = masks.composite(original, edited, Image.fromarray(m), feather=4)
    a, b = np.asarray(original), np.asarray(out)
    outside = m == 0
    assert np.array_equal(a[outside], b[outside])
    assert (b[30, 30] == [0, 255, 0]).all()
