"""The Studio streams previews to the front end as binary messages, labelled, never stored."""

import io

from PIL import Image

import promptpaint as pp
from fakeserver import OPENAI_KEY
from test_studio import Front


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
