"""The widget's kernel side, driven through the same custom messages the front end sends."""

import io
import json
import subprocess
import sys
import time
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

import promptpaint as pp
from fakeserver import GEMINI_KEY, OPENAI_KEY


class Front:
    """Stands in for the browser: sends messages, records what the kernel sends back."""

    def __init__(self, studio):
        self.studio = studio
        self.sent = []
        studio.send = lambda content, buffers=None: self.sent.append((content, buffers or []))

    def msg(self, content, buffers=None):
        self.studio._handle_custom_msg(content, buffers or [])

    def run(self, action, prompt=None):
        if prompt is not None:
            self.studio.prompt = prompt
        self.msg({"kind": "run", "action": action})
        self.wait()

    def wait(self, timeout=20):
        w = self.studio._worker
        if w is not None:
            w.join(timeout)
        deadline = time.time() + timeout
        while self.studio.status != "idle" and time.time() < deadline:
            time.sleep(0.01)

    def fetch(self, image_id, thumb=False):
        self.sent.clear()
        self.msg({"kind": "fetch", "id": image_id, "thumb": thumb})
        (content, buffers), = self.sent
        return content, buffers


def png(im):
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def offline():
    studio = pp.Studio("offline")
    return studio, Front(studio)


def test_import_promptpaint_loads_no_widget_library():
    code = ("import sys, promptpaint as pp; "
            "print(sorted(m for m in ('ipywidgets', 'anywidget', 'traitlets', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_generate_from_the_ui_then_fetch_bytes_as_a_binary_buffer(offline):
    studio, front = offline
    front.run("generate", "a red fox in snow")
    assert studio.error == {}
    assert len(studio.turns) == 1 and studio.turns[0]["prompt"] == "a red fox in snow"
    assert studio.current == {"turn": 1, "index": 0}
    content, (buf,) = front.fetch(studio.image_id)
    assert content == {"kind": "image", "id": studio.image_id, "thumb": False, "mime": "image/png"}
    stored = pp.Client("offline").store.read(studio.image_id)
    assert bytes(buf) == stored  # the PNG itself, not base64
    assert studio.image.size == tuple(studio.image_size) == (512, 512)
    _, (thumb,) = front.fetch(studio.image_id, thumb=True)
    assert max(Image.open(io.BytesIO(thumb)).size) <= 160


def test_masked_edit_from_the_ui_changes_only_painted_pixels(offline):
    studio, front = offline
    front.run("generate", "a lighthouse")
    before = np.asarray(studio.image.convert("RGB"))
    brush = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
    brush.paste((255, 255, 255, 255), (100, 100, 300, 250))
    front.msg({"kind": "mask"}, [memoryview(png(brush))])  # bytes from JS arrive as memoryview
    assert studio.has_mask and studio.mask.mode == "L" and studio.mask.size == (512, 512)
    front.run("edit", "make it night")
    after = np.asarray(studio.image.convert("RGB"))
    changed = (before != after).any(axis=-1)
    painted = np.asarray(brush.getchannel("A")) > 0
    assert not changed[~painted].any() and changed[painted].any()
    assert studio.turns[-1]["parent"] == 1 and studio.turns[-1]["kind"] == "edit"
    assert studio.mask is None  # a new picture starts with a clean mask


def test_python_api_is_the_same_path(offline):
    studio, front = offline
    r = studio.generate("a red fox in snow", seed=3)
    assert studio.image_id == r.ids[0] and studio.prompt == "a red fox in snow" and studio.params["seed"] == 3
    studio.mask = np.pad(np.ones((10, 10), dtype=np.uint8), ((0, 502), (0, 502)))
    r2 = studio.edit("make it night")
    assert studio.image_id == r2.ids[0]
    assert len(studio.history) == 2 and studio.history[1].parent == 1
    assert studio.history[1].images[0].size == (512, 512)
    assert studio.cost == 0


@pytest.mark.parametrize("message, buffers, words", [
    ({"kind": "mask"}, [png(Image.new("L", (100, 50), 255))], "is 100x50"),
    ({"kind": "upload", "name": "notes.txt"}, [b"hello, not an image"], "not an image"),
    ({"kind": "upload", "name": "huge.png"}, [b"\0" * (21 * 1024 * 1024)], "20 MB"),
    ({"kind": "fetch", "id": "0" * 64}, [], "not in the store"),
    ({"kind": "launch_missiles"}, [], "Unknown message"),
])
def test_bad_input_from_the_front_end_is_a_clear_message_and_changes_nothing(offline, message, buffers, words):
    studio, front = offline
    front.run("generate", "a fox")
    before = (studio.image_id, list(studio.turns), studio.has_mask)
    front.msg(message, buffers)
    assert words in studio.error["message"]
    assert "Traceback" not in json.dumps(studio.error)
    assert (studio.image_id, list(studio.turns), studio.has_mask) == before


def test_unknown_model_and_out_of_range_values_are_refused(offline):
    studio, front = offline
    studio.model = "no-such-model"
    assert studio.model == "offline-sketch" and "Unknown model" in studio.error["message"]
    studio.params = {**studio.params, "n": 99}
    assert studio.params["n"] == 1 and "n=99" in studio.error["message"]
    studio.provider = "openai"  # no key in this test: refused, provider unchanged
    assert studio.provider == "offline" and studio.error["kind"] == "AuthError"


def test_upload_then_edit(offline):
    studio, front = offline
    src = Image.new("RGB", (320, 200), (1, 2, 3))
    front.msg({"kind": "upload", "name": "photo.png"}, [memoryview(png(src))])
    assert studio.turns[-1]["kind"] == "upload" and studio.image_size == [320, 200]
    front.run("edit", "add a moon")
    assert studio.turns[-1]["parent"] == 1 and studio.image.size == (320, 200)


def openai_studio(fake, monkeypatch, **kw):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    studio = pp.Studio("openai", model="gpt-image-2", backoff=0.01, **kw)
    return studio, Front(studio)


def test_state_holds_no_key_and_no_image_bytes(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    for i in range(3):
        front.run("generate", f"fox {i}")
    state = json.dumps(studio.get_state(), default=lambda b: f"<{len(b)} bytes>")
    assert OPENAI_KEY not in state and OPENAI_KEY[-8:] not in state
    assert "iVBORw0KGgo" not in state  # no base64 PNG anywhere
    assert all(not isinstance(v, (bytes, memoryview)) for k, v in studio.get_state().items() if k != "_esm")
    assert [p["configured"] for p in studio.providers if p["name"] == "openai"] == [True]
    assert "$OPENAI_API_KEY" in studio.code["curl"] and OPENAI_KEY not in studio.code["curl"]
    assert "os.environ" in studio.code["python"] and OPENAI_KEY not in studio.code["python"]


def test_costs_shown_equal_the_ledger(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch, budget=1.0)
    front.run("generate", "fox one")
    front.run("generate", "fox two")
    # each: 11 text at $5 + 1767 (gpt-image-2 medium 1024x1024) at $30 per 1M
    assert studio.cost == Decimal("0.10613") == fake.bill_total()
    assert Decimal(studio.costs["widget"]) == studio.cost == pp.ledger().total()
    assert Decimal(studio.costs["all_time"]) == pp.ledger().total()
    assert Decimal(studio.costs["last"]) == Decimal("0.053065")
    assert Decimal(studio.costs["budget_left"]) == Decimal("1") - studio.cost
    assert Decimal(studio.costs["estimate"]) > 0


def test_double_click_pays_once(fake, monkeypatch):
    fake.latency = 0.3
    studio, front = openai_studio(fake, monkeypatch)
    studio.prompt = "one fox"
    front.msg({"kind": "run", "action": "generate"})
    front.msg({"kind": "run", "action": "generate"})
    front.wait()
    assert len(fake.by_provider("openai")) == 1 and len(studio.turns) == 1


def test_errors_reach_the_card_without_a_traceback_or_key(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    fake.fault("openai", "auth")
    front.run("generate", "a fox")
    assert studio.error["kind"] == "AuthError" and studio.status == "idle"
    assert OPENAI_KEY[-4:] not in studio.error["message"] and "Traceback" not in studio.error["message"]
    fake.fault("openai", "rate_limit", retry_after=300)
    front.run("generate", "a fox")
    assert studio.error["kind"] == "RateLimited" and studio.error["retry_after"] == 300


def test_cancel_frees_the_ui_and_the_paid_result_still_lands(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    fake.fault("openai", "slow", seconds=0.5)
    studio.prompt = "a slow fox"
    front.msg({"kind": "run", "action": "generate"})
    time.sleep(0.1)
    assert studio.status == "running" and studio.started_at > 0
    slow = studio._worker
    front.msg({"kind": "cancel"})
    assert studio.status == "idle"
    front.run("generate", "a quick fox")  # no need to wait for the cancelled call
    assert studio.status == "idle" and studio.turns[-1]["prompt"] == "a quick fox"
    slow.join(5)
    assert [t["prompt"] for t in studio.turns] == ["a quick fox", "a slow fox"]
    assert studio.turns[0]["images"][0] == studio.image_id  # the cancelled one is listed, not shown
    assert [e["status"] for e in pp.ledger().entries(2)] == ["ok", "ok"]


def test_editing_an_older_turn_branches_the_gemini_conversation(fake, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.gemini_base)
    studio = pp.Studio("gemini")
    front = Front(studio)
    front.run("generate", "a lighthouse")
    front.run("edit", "make it night")
    assert [c["role"] for c in fake.last("gemini").json["contents"]] == ["user", "model", "user"]
    front.run("edit", "add fog")
    assert len(fake.last("gemini").json["contents"]) == 5
    studio.current = {"turn": 1, "index": 0}
    front.run("edit", "make it sunny instead")
    contents = fake.last("gemini").json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[2]["parts"][0]["text"] == "make it sunny instead"
    assert studio.turns[-1]["parent"] == 1


def test_fetching_a_missing_image_settles_the_request_with_an_empty_reply(offline):
    studio, front = offline
    front.msg({"kind": "fetch", "id": "f" * 64, "thumb": True})
    assert front.sent == [({"kind": "image", "id": "f" * 64, "thumb": True, "mime": None}, [])]
    assert "not in the store" in studio.error["message"]
