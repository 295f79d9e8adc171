"""A fuzzed front end: random values for every synced trait and every custom message kind.

Afterwards the kernel must hold only states it could have reached itself, and a normal
generate/edit must still work. Seeded, so a failure reproduces.
"""

import io
import random

import pytest
from PIL import Image

import promptpaint as pp
from helpers import Front, png

BIG = "x" * 100_000


def junk(rng: random.Random, depth=0):
    choices = [
        lambda: None, lambda: True, lambda: rng.randint(-2**40, 2**40), lambda: rng.random() * 1e6,
        lambda: float("nan"), lambda: float("inf"), lambda: "", lambda: BIG, lambda: "../" * 20 + "etc",
        lambda: "0" * 64, lambda: "offline-sketch", lambda: "gpt-image-1", lambda: "openai",
        lambda: "\u202e\x00\ud800"[:2], lambda: [1, 2, 3],
    ]
    if depth < 2:
        choices += [lambda: {junk(rng, depth + 1) if False else "turn": junk(rng, depth + 1),
                             "index": junk(rng, depth + 1)},
                    lambda: {rng.choice(["n", "seed", "size", BIG, "quality"]): junk(rng, depth + 1)},
                    lambda: [junk(rng, depth + 1) for _ in range(3)]]
    return rng.choice(choices)()


def consistent(studio):
    """Whatever happened, the kernel's own traits tell one story."""
    s = studio.session
    assert studio.provider in ("gemini", "openai", "offline")
    assert studio.model in {m["id"] for m in studio.models} and studio.models == s.model_list()
    assert studio.turns == [t.as_state() for t in s.history]
    assert studio.image_id == s.image_id and studio.has_mask == (s.mask is not None)
    if studio.current:
        turn = s.turn(studio.current["turn"])
        assert turn.ids[studio.current["index"]] == studio.image_id
    assert studio.status in ("idle", "running")


@pytest.mark.parametrize("seed", range(3))
def test_a_fuzzed_front_end_leaves_the_widget_working(seed):
    rng = random.Random(seed)
    studio = pp.Studio("offline")
    front = Front(studio)
    studio.send_state = lambda key=None: None
    front.run("generate", "a fox")
    traits = [name for name in studio.keys if not name.startswith("_")]
    kinds = ["run", "cancel", "mask", "upload", "fetch", "fetch_mask", "past", "open_past", "hide_past",
             "nonsense", BIG, None, 5]
    small_png = png(Image.new("RGBA", (512, 512), (0, 0, 0, 0)))
    for _ in range(150):
        if rng.random() < 0.5:
            studio.set_state({rng.choice(traits): junk(rng) for _ in range(rng.randint(1, 3))})
        else:
            known = [i for t in studio.turns for i in t["images"]]
            content = {"kind": rng.choice(kinds), "action": junk(rng), "thumb": junk(rng), "name": junk(rng),
                       "request": junk(rng), "query": junk(rng), "limit": junk(rng),
                       "id": rng.choice(known) if known and rng.random() < 0.3 else junk(rng)}
            buffers = rng.choice([[], [b""], [BIG.encode()], [small_png], [b"\x89PNG\r\n\x1a\n" + BIG.encode()]])
            front.msg(content if rng.random() < 0.9 else junk(rng), buffers)
        front.wait()
        consistent(studio)
    # Still a working widget: a clean prompt generates, and an edit of that image works.
    studio.send_state = lambda key=None: None
    studio.error = {}
    front.run("generate", "a lighthouse")
    assert studio.error == {} and studio.turns[-1]["prompt"] == "a lighthouse"
    front.run("edit", "make it night")
    assert studio.error == {} and studio.turns[-1]["kind"] == "edit"
    consistent(studio)
    assert Image.open(io.BytesIO(studio.session.store.read(studio.image_id))).size == tuple(studio.image_size)
