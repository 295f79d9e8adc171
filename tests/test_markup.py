import io

import pytest
from PIL import Image, ImageDraw

from promptpaint import markup
from promptpaint.errors import InvalidRequest
from promptpaint.providers import Call
from promptpaint.providers.offline import OfflineProvider
from promptpaint.registry import get


def _photo(size=(200, 120), colour=(40, 90, 200)):
    return Image.new("RGB", size, colour)


def _strokes(size=(200, 120), colour=(255, 0, 0, 255)):
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(im).line([(20, 20), (60, 60)], fill=colour, width=6)
    return im


def test_layer_checks_transparency_emptiness_and_shape():
    with pytest.raises(InvalidRequest, match="transparent PNG"):
        markup.layer(_photo(), (200, 120))
    with pytest.raises(InvalidRequest, match="empty"):
        markup.layer(Image.new("RGBA", (200, 120)), (200, 120))
    with pytest.raises(InvalidRequest, match="200x200 but the image is 200x120"):
        markup.layer(_strokes((200, 200)), (200, 120))
    assert markup.layer(_strokes((400, 240)), (200, 120)).size == (200, 120)  # same shape, rescaled


def test_composite_draws_the_strokes_onto_the_picture():
    out = Image.open(io.BytesIO(markup.composite(_photo(), _strokes())))
    assert out.mode == "RGB" and out.size == (200, 120)
    assert out.getpixel((40, 40)) == (255, 0, 0)        # on the stroke
    assert out.getpixel((150, 100)) == (40, 90, 200)    # untouched elsewhere
    assert markup.with_instruction("add a hat").startswith("add a hat\n\n")
    assert "do not reproduce" in markup.with_instruction("x")


def test_offline_stand_in_visibly_follows_markup():
    buf = io.BytesIO()
    _photo().save(buf, format="PNG")
    call = Call(kind="edit", prompt="a red balloon", params={}, images=[buf.getvalue()],
                markup=markup.layer(_strokes(), (200, 120)))
    answer = OfflineProvider().send(get("offline-sketch", "offline"), call)
    out = Image.open(io.BytesIO(answer.images[0])).convert("RGB")
    r, g, b = out.getpixel((40, 40))
    assert r > 150 and r > b                            # redrawn towards the strokes' colour
    assert out.getpixel((190, 5)) == (40, 90, 200)      # far from the strokes: the original
    assert out.getpixel((40, 40)) != (255, 0, 0)        # the strokes themselves are not copied
