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


# -- through pp.Client, against the fake ------------------------------------------------------
import promptpaint as pp  # noqa: E402
from fakes import GEMINI_KEY, OPENAI_KEY  # noqa: E402


def _png_bytes(im):
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_a_model_that_takes_markup_gets_it_as_the_markup_file(fake):
    client = pp.Client("openai", model="gpt-image-2.5-sunburst", api_key=OPENAI_KEY, base_url=fake.openai_base)
    assert client.takes_markup
    r = client.edit("add a red balloon", image=_photo(), markup=_strokes((400, 240)))
    sent = fake.last("openai")
    [(_, _, data)] = sent.files["markup"]
    layer = Image.open(io.BytesIO(data))
    assert layer.mode == "RGBA" and layer.size == (200, 120)        # the first image's exact size
    assert layer.getpixel((190, 5))[3] == 0 and layer.getpixel((20, 20))[3] > 0  # rescaled strokes
    assert sent.form["prompt"] == ["add a red balloon"]             # no instruction: the model knows
    [(_, _, image)] = sent.files["image[]"]
    assert Image.open(io.BytesIO(image)).convert("RGB").getpixel((40, 40)) == (40, 90, 200)  # untouched
    assert r.prompt == "add a red balloon"


@pytest.mark.parametrize("name", ["gemini", "openai"])
def test_other_models_get_the_strokes_drawn_on_with_an_instruction(fake, name):
    if name == "gemini":
        client = pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base)
    else:
        client = pp.Client("openai", model="gpt-image-2", api_key=OPENAI_KEY, base_url=fake.openai_base)
    assert not client.takes_markup
    r = client.edit("add a red balloon", image=_png_bytes(_photo()), markup=_strokes())
    sent = fake.last(name)
    if name == "gemini":
        parts = sent.json["contents"][-1]["parts"]
        prompt = parts[0]["text"]
        import base64
        image = base64.b64decode(parts[1]["inlineData"]["data"])
    else:
        assert "markup" not in sent.files
        prompt = sent.form["prompt"][0]
        [(_, _, image)] = sent.files["image[]"]
    assert prompt == markup.with_instruction("add a red balloon")
    drawn = Image.open(io.BytesIO(image)).convert("RGB")
    assert drawn.getpixel((40, 40)) == (255, 0, 0) and drawn.getpixel((150, 100)) == (40, 90, 200)
    assert r.prompt == "add a red balloon"  # the ledger and the result keep what the user typed
    assert pp.ledger().entries(limit=1)[0]["prompt"] == "add a red balloon"


def test_markup_with_a_mask_is_a_clear_error_before_anything_is_sent(fake):
    client = pp.Client("openai", model="gpt-image-2.5-sunburst", api_key=OPENAI_KEY, base_url=fake.openai_base)
    mask = Image.new("L", (200, 120), 255)
    with pytest.raises(InvalidRequest, match="either a mask .* or markup"):
        client.edit("x", image=_photo(), mask=mask, markup=_strokes())
    assert fake.requests == []


def test_offline_client_follows_markup_at_no_cost():
    client = pp.Client("offline")
    r = client.edit("a red balloon", image=_photo(), markup=_strokes())
    out = r.image.convert("RGB")
    assert out.getpixel((40, 40))[0] > 150 and out.getpixel((190, 5)) == (40, 90, 200)
    assert r.cost == 0
