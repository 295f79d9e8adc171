"""The Studio streams previews to the front end as binary messages, labelled, never stored."""

import io

from PIL import Image

import promptpaint as pp
from fakes import OPENAI_KEY
from helpers import Front


def previews(front):
    return [(c, b) for c, b in front.sent if c.get("kind") == "preview"]


def test_previews_reach_the_front_end_in_order_and_are_not_stored(fake):
    studio = pp.Studio("openai", model="gpt-image-2", api_key=OPENAI_KEY, base_url=fake.openai_base)
    front = Front(studio)
    assert studio.previews is True                       # on by default where the model streams
    front.run("generate", "a red fox")
    got = previews(front)
    assert [c["label"] for c, _ in got] == ["preview 1 of 2", "preview 2 of 2"]
    for content, [data] in got:
        im = Image.open(io.BytesIO(data))
        assert content["mime"] == Image.MIME[im.format] and list(im.size) == studio.image_size
    assert studio.image_id and len(studio.history) == 1
    stored = {p.stem for p in studio.session.store.root.iterdir()}
    assert stored == {studio.image_id}                    # the final image only
    assert fake.last("openai").json["partial_images"] == 2
    state = studio.get_state()                           # nor in the widget's state
    assert not any(isinstance(v, (bytes, memoryview)) for v in state.values())
    assert [t["images"] for t in state["turns"]] == [[studio.image_id]]


def test_previews_off_means_no_stream(fake):
    studio = pp.Studio("openai", model="gpt-image-2", api_key=OPENAI_KEY, base_url=fake.openai_base)
    front = Front(studio)
    studio.set_state({"previews": False})                # the front end's setting
    front.run("generate", "a red fox")
    assert previews(front) == [] and "stream" not in fake.last("openai").json
    assert studio.image_id


def test_offline_studio_shows_previews_too():
    studio = pp.Studio("offline")
    front = Front(studio)
    front.run("generate", "a kite")
    assert [c["index"] for c, _ in previews(front)] == [0, 1]


def test_download_carries_the_story_and_a_c2pa_image_stays_unchanged(fake):
    from promptpaint import imagemeta

    studio = pp.Studio("openai", model="gpt-image-2", api_key=OPENAI_KEY, base_url=fake.openai_base)
    front = Front(studio)
    studio.set_state({"previews": False})
    front.run("generate", "a red fox")
    front.msg({"kind": "fetch", "id": studio.image_id, "thumb": False, "download": True, "request": 5})
    [(reply, [data])] = [(c, b) for c, b in front.sent if c.get("kind") == "image" and c.get("request") == 5]
    story = pp.provenance(data)
    assert story["found_in"] == "embedded" and story["prompt"] == "a red fox"
    assert story["ledger_id"] == pp.ledger().entries(limit=1)[0]["id"] and "note" not in reply
    # the plain fetch (what the viewer shows) is the stored bytes, untouched
    front.msg({"kind": "fetch", "id": studio.image_id, "thumb": False, "request": 6})
    [(_, [plain])] = [(c, b) for c, b in front.sent if c.get("kind") == "image" and c.get("request") == 6]
    assert plain == studio.session.store.read(studio.image_id)
    # an image with a C2PA manifest downloads byte for byte, and the reply says why
    import struct
    import zlib
    body = b"\x00\x00\x00\x08jumb"
    chunk = struct.pack(">I", len(body)) + b"caBX" + body + struct.pack(">I", zlib.crc32(b"caBX" + body))
    signed = plain[:33] + chunk + plain[33:]
    assert imagemeta.has_c2pa(signed)
    from promptpaint.ledger import Attempt
    from promptpaint.store import sha256

    led = pp.ledger()  # a call whose answer carried a manifest
    row = led.reserve(Attempt(provider="openai", model="gpt-image-2", kind="generate", prompt="signed fox",
                              params={}, price_version=None), None, [])
    led.settle(row, status="ok", cost=None, images=[sha256(signed)])
    out, note = imagemeta.for_download(signed, led)
    assert out == signed and "C2PA" in note
    assert pp.provenance(signed)["prompt"] == "signed fox"  # found in the ledger by its bytes


def _strokes_png(size):
    from PIL import ImageDraw

    im = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(im).line([(10, 10), (60, 60)], fill=(230, 30, 40, 255), width=8)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_markup_from_the_front_end_goes_to_the_edit_as_markup(fake):
    studio = pp.Studio("openai", model="gpt-image-2.5-sunburst", api_key=OPENAI_KEY, base_url=fake.openai_base)
    front = Front(studio)
    studio.set_state({"previews": False})
    front.run("generate", "a red fox")
    front.msg({"kind": "markup"}, [_strokes_png(tuple(studio.image_size))])
    front.run("edit", "add a hat")
    assert studio.error == {}
    [(_, _, sent)] = fake.last("openai").files["markup"]
    assert Image.open(io.BytesIO(sent)).getpixel((30, 30))[3] > 0
    assert "mask" not in fake.last("openai").files
    # a new image starts without strokes
    front.run("edit", "now blue")
    assert "markup" not in fake.last("openai").files


def test_markup_of_the_wrong_size_is_refused_clearly():
    studio = pp.Studio("offline")
    front = Front(studio)
    front.run("generate", "a kite")
    front.msg({"kind": "markup"}, [_strokes_png((7, 7))])
    assert "size of the image" in studio.error["message"]


def test_gemini_studio_streams_previews_and_books_what_was_billed(fake):
    from fakes import GEMINI_KEY

    studio = pp.Studio("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base)
    front = Front(studio)
    front.run("generate", "a red fox")
    assert [c["label"] for c, _ in previews(front)] == ["preview 1 of 2", "preview 2 of 2"]
    assert fake.last("gemini").path.endswith(":streamGenerateContent")
    assert studio.cost == fake.bill_total("gemini") == pp.ledger().total()
