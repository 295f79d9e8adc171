"""The widget's kernel side, driven through the same custom messages the front end sends."""

import io
import json
import time
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY
from helpers import ROOT, Front, gemini_studio, loaded_by, openai_studio, png


@pytest.fixture
def offline():
    studio = pp.Studio("offline")
    return studio, Front(studio)


def test_import_promptpaint_loads_no_widget_library():
    assert loaded_by("import promptpaint", ["ipywidgets", "anywidget", "traitlets", "numpy"]) == []


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


def start_slow_call_then_cancel(studio, front, fake, prompt="a slow fox"):
    """A call that reaches the provider, cancelled while it runs; returns its job to join."""
    # Long enough that a quick call made after the cancel lands first even on a loaded machine.
    fake.fault("openai", "slow", seconds=2)
    studio.prompt = prompt
    sent = len(fake.by_provider("openai"))
    front.msg({"kind": "run", "action": "generate"})
    fake.wait_for_requests(sent + 1, "openai")  # a call cancelled before sending is never billed
    assert studio.status == "running" and studio.started_at > 0
    job = studio._worker
    front.msg({"kind": "cancel"})
    return job


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
    # each: 11 text at $5 + 1767 (gpt-image-2 medium 1024x1024) at $30 per 1M, plus the two
    # previews the Studio streams by default, 100 output image tokens each (OpenAI's rule)
    assert studio.cost == Decimal("0.11813") == fake.bill_total()
    assert Decimal(studio.costs["widget"]) == studio.cost == pp.ledger().total()
    assert Decimal(studio.costs["all_time"]) == pp.ledger().total()
    assert Decimal(studio.costs["last"]) == Decimal("0.059065")
    assert Decimal(studio.costs["budget_left"]) == Decimal("1") - studio.cost
    assert Decimal(studio.costs["estimate"]) > 0


def test_next_call_is_shown_typical_and_at_most_and_last_call_waits_for_a_call(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    studio.params = {**studio.params, "quality": "auto", "size": "1024x1024", "n": 1}
    studio.prompt = "a fox"  # 5 characters: 2 text tokens at 4 characters a token
    assert studio.costs["calls"] == 0 and studio.costs["last"] is None
    # quality "auto" reserves the high-quality worst case, but usually renders at medium.
    # the figure is the call's reservation: the Studio streams two previews (100 tokens each)
    at = lambda quality: studio.client.estimate("a fox", size="1024x1024", n=1, quality=quality,  # noqa: E731
                                                partial_images=2)
    assert Decimal(studio.costs["estimate"]) == at("high")
    assert Decimal(studio.costs["estimate_typical"]) == at("medium") < at("high")
    studio.params = {**studio.params, "quality": "low"}
    assert studio.costs["estimate_typical"] == studio.costs["estimate"]
    front.run("generate")
    assert studio.costs["calls"] == 1 and Decimal(studio.costs["last"]) == pp.ledger().total() > 0


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
    slow = start_slow_call_then_cancel(studio, front, fake)
    assert studio.status == "idle"
    front.run("generate", "a quick fox")  # no need to wait for the cancelled call
    assert studio.status == "idle" and studio.turns[-1]["prompt"] == "a quick fox"
    slow.join(5)
    assert [t["prompt"] for t in studio.turns] == ["a quick fox", "a slow fox"]
    assert studio.turns[0]["images"][0] == studio.image_id  # the cancelled one is listed, not shown
    assert [e["status"] for e in pp.ledger().entries(2)] == ["ok", "ok"]


def test_editing_an_older_turn_branches_the_gemini_conversation(fake, monkeypatch):
    studio, front = gemini_studio(fake, monkeypatch)
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
    (reply, buffers), = front.sent
    assert buffers == [] and reply["mime"] is None and "not in the store" in reply["error"]
    assert {k: reply[k] for k in ("kind", "id", "thumb")} == {"kind": "image", "id": "f" * 64, "thumb": True}
    assert "not in the store" in studio.error["message"]


# -- issue 9: the front end cannot reach outside the store or write the kernel's state --------------

def encoded(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def test_the_front_end_may_write_only_the_traits_the_protocol_marks_writable(offline):
    studio, front = offline
    front.run("generate", "a fox")
    resent = set()
    studio.send_state = lambda key=None: resent.update([key] if isinstance(key, str) else key)
    before = {k: getattr(studio, k) for k in ("image_id", "image_size", "models", "costs", "status",
                                               "has_mask", "turns", "error", "code", "started_at")}
    studio.set_state({"image_id": "0" * 64, "image_size": [1, 1], "models": [], "status": "running",
                      "costs": {"budget_left": "1000"}, "has_mask": True, "turns": [], "code": {},
                      "started_at": 5.0, "prompt": "typed in the browser"})
    assert {k: getattr(studio, k) for k in before} == before
    assert studio.prompt == "typed in the browser"  # ↔: taken
    assert resent >= before.keys() - {"error"}  # the browser gets the kernel's values back


def test_a_value_of_the_wrong_type_from_the_front_end_is_refused_and_sent_back(offline):
    studio, front = offline
    resent = set()
    studio.send_state = lambda key=None: resent.update([key] if isinstance(key, str) else key)
    studio.set_state({"prompt": 12, "params": "n=4"})
    assert studio.prompt == "" and isinstance(studio.params, dict)
    assert resent >= {"params", "prompt"} and "wrong type" in studio.error["message"]


@pytest.mark.parametrize("bad", ["../../secret", ".//./" + "a" * 59, "F" * 64, "0" * 63, 42, None])
def test_fetch_answers_a_bad_id_with_an_error_and_never_reads_outside_the_store(offline, bad, tmp_path):
    studio, front = offline
    (studio.session.store.root.parent / "secret.png").write_bytes(png(Image.new("RGB", (4, 4))))
    front.sent.clear()
    front.msg({"kind": "fetch", "id": bad, "thumb": False, "request": 7})
    (reply, buffers), = front.sent
    assert buffers == [] and reply["request"] == 7 and reply["mime"] is None and reply["error"]
    assert "64 hex" in studio.error["message"]


def test_every_fetch_gets_exactly_one_reply_carrying_its_request_id(offline):
    studio, front = offline
    front.run("generate", "a fox")
    good = studio.image_id
    front.sent.clear()
    for request, image_id, thumb in [(1, good, False), ("r2", good, True), (3, "a" * 64, False)]:
        front.msg({"kind": "fetch", "id": image_id, "thumb": thumb, "request": request})
    assert [c["request"] for c, _ in front.sent] == [1, "r2", 3]
    assert [c["mime"] for c, _ in front.sent] == ["image/png", "image/png", None]


def test_a_corrupt_file_in_the_store_gets_an_error_reply_not_silence(offline):
    studio, front = offline
    front.run("generate", "a fox")
    path = studio.session.store.find(studio.image_id)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # a PNG signature, then garbage
    front.sent.clear()
    front.msg({"kind": "fetch", "id": studio.image_id, "thumb": True, "request": 9})
    (reply, buffers), = front.sent
    assert reply["request"] == 9 and buffers == [] and "damaged" in reply["error"]
    assert "damaged" in studio.error["message"]


def test_the_thumbnail_cache_is_bounded(offline):
    studio, front = offline
    studio.session.thumb_cache_size = 2
    for i in range(4):
        front.msg({"kind": "upload", "name": f"{i}.png"}, [png(Image.new("RGB", (30, 20), (i, 0, 0)))])
    ids = [t["images"][0] for t in studio.turns]
    for image_id in ids:
        _, (thumb,) = front.fetch(image_id, thumb=True)
        assert Image.open(io.BytesIO(thumb)).size == (30, 20)
    assert list(studio.session._thumbs) == ids[-2:]


@pytest.mark.parametrize("fmt, mode, ext, mime", [
    ("JPEG", "L", "jpg", "image/jpeg"),
    ("GIF", "P", "gif", "image/gif"),
    ("WEBP", "RGB", "webp", "image/webp"),
    ("PNG", "LA", "png", "image/png"),
])
def test_an_upload_is_stored_as_it_came_under_its_real_extension(offline, fmt, mode, ext, mime):
    studio, front = offline
    data = encoded(Image.new(mode, (40, 30)), fmt)
    front.msg({"kind": "upload", "name": f"photo.{ext}"}, [memoryview(data)])
    assert studio.error == {}
    path = studio.session.store.find(studio.image_id)
    assert path.suffix == f".{ext}" and path.read_bytes() == data
    content, (buf,) = front.fetch(studio.image_id)
    assert content["mime"] == mime and bytes(buf) == data


@pytest.mark.parametrize("fmt", ["TIFF", "PPM", "BMP", "ICO"])
def test_uploads_in_other_formats_are_refused_before_pillow_opens_them(offline, fmt, monkeypatch):
    studio, front = offline
    data = encoded(Image.new("RGB", (16, 16)), fmt)
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    front.msg({"kind": "upload", "name": f"x.{fmt.lower()}"}, [data])
    assert "PNG, JPEG, WebP or GIF" in studio.error["message"] and studio.turns == [] and opened == []


def test_an_edit_of_an_uploaded_gif_sends_the_provider_a_png(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    gif = encoded(Image.new("P", (64, 64), 3), "GIF")
    front.msg({"kind": "upload", "name": "anim.gif"}, [gif])
    front.run("edit", "make it red")
    assert studio.error == {}
    (filename, mime, data), = fake.last("openai").files["image[]"]
    assert mime == "image/png" and Image.open(io.BytesIO(data)).format == "PNG"


def ihdr_only_png(width, height):
    import struct
    import zlib
    body = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + body
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(body)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_the_mask_size_is_checked_from_the_header_before_any_decoding(offline, monkeypatch):
    from PIL import PngImagePlugin
    studio, front = offline
    front.run("generate", "a fox")
    decoded = []
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", lambda self: decoded.append(self.size))
    front.msg({"kind": "mask"}, [ihdr_only_png(13000, 13000)])
    assert "is 13000x13000" in studio.error["message"] and not studio.has_mask
    assert decoded == []


def test_edit_when_the_source_file_is_gone_is_an_error_not_a_paid_generate(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    front.run("generate", "a fox")
    studio.session.store.find(studio.image_id).unlink()
    front.run("edit", "give it a hat")
    assert "missing from the store" in studio.error["message"]
    assert len(fake.by_provider("openai")) == 1 and len(studio.turns) == 1
    assert [e["kind"] for e in pp.ledger().entries()] == ["generate"]
    with pytest.raises(pp.InvalidRequest, match="missing from the store"):
        studio.edit("give it a hat")


def test_error_cards_carry_a_title_in_words(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    fake.fault("openai", "rate_limit", retry_after=300)
    front.run("generate", "a fox")
    assert studio.error["kind"] == "RateLimited" and studio.error["title"] == "Rate limited"


def test_a_failure_inside_a_message_handler_reaches_the_error_card(offline, monkeypatch):
    studio, front = offline
    monkeypatch.setattr(studio.session, "upload", lambda *a: 1 / 0)
    front.msg({"kind": "upload", "name": "a.png"}, [b"x"])
    assert studio.error["kind"] == "ZeroDivisionError" and "Traceback" not in studio.error["message"]


# -- issue 12: state that never lies ------------------------------------------------------------

def test_a_retried_rate_limit_is_shown_while_it_waits_and_cleared_after(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    seen = []
    studio.observe(lambda c: seen.append(dict(c["new"])), names="retry")
    fake.fault("openai", "rate_limit", retry_after_ms=20)
    front.run("generate", "a fox")
    assert studio.error == {} and len(studio.turns) == 1
    shown, cleared = seen
    assert shown["title"] == "Rate limited" and (shown["attempt"], shown["attempts"]) == (2, 3)
    assert shown["text"].startswith("Rate limited — retrying in ") and shown["text"].endswith("(attempt 2 of 3)")
    assert cleared == {} and studio.retry == {}


def test_a_studio_replaced_by_a_newer_one_from_the_same_cell_refuses_runs(offline, monkeypatch):
    from promptpaint.studio import reruns
    run = ["run-1"]
    monkeypatch.setattr(reruns, "cell_run", lambda: ("cell-7", run[0]))
    old, beside = pp.Studio("offline"), pp.Studio("offline")  # one run of a cell may make two
    old_front = Front(old)
    assert old.closed == beside.closed == ""
    run[0] = "run-2"  # the cell is run again
    new = pp.Studio("offline")
    assert old.closed == beside.closed == "replaced" and new.closed == ""
    assert "replaced by a newer one" in old.notice
    old_front.run("generate", "a fox")
    assert "replaced by a newer one" in old.error["message"] and old.turns == []
    with pytest.raises(pp.InvalidRequest, match="replaced"):
        old.generate("a fox")
    Front(new).run("generate", "a fox")
    assert len(new.turns) == 1 and pp.ledger().entries(5)[0]["prompt"] == "a fox"
    assert len(pp.ledger().entries(5)) == 1


def test_a_closed_studio_says_so_and_refuses_runs(offline):
    studio, front = offline
    studio.close()
    assert studio.closed == "closed"
    with pytest.raises(pp.InvalidRequest, match="closed"):
        studio.generate("a fox")


def test_a_notice_belongs_to_its_call_and_clears_when_the_next_starts(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    slow = start_slow_call_then_cancel(studio, front, fake)
    assert "Cancelled" in studio.notice
    front.run("generate", "a quick fox")
    assert studio.notice == ""
    slow.join(5)
    assert studio.notice == ""  # the cancelled call landing does not bring it back


def test_a_cancelled_call_that_lands_is_marked_with_what_it_cost(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    slow = start_slow_call_then_cancel(studio, front, fake)
    slow.join(5)
    turn, = studio.turns
    assert turn["cancelled"] is True and Decimal(turn["cost"]) == pp.ledger().total() > 0
    assert studio.image_id == ""  # landed in the history, not shown over what the user looks at


def test_a_refused_call_gets_a_card_with_its_cost_and_reason(fake, monkeypatch):
    studio, front = gemini_studio(fake, monkeypatch)
    fake.fault("gemini", "image_safety")
    front.run("generate", "something it will not draw")
    turn, = studio.turns
    assert turn["refused"] is True and turn["images"] == [] and turn["text"]
    assert Decimal(turn["cost"]) == pp.ledger().total() and studio.error["kind"] == "Refused"
    assert studio.costs["calls"] == 1 and studio.image_id == ""


def test_fetch_mask_returns_exactly_the_mask_edit_will_use(offline):
    studio, front = offline
    front.run("generate", "a fox")
    front.sent.clear()
    front.msg({"kind": "fetch_mask", "request": 4})
    assert front.sent == [({"kind": "mask", "image_id": studio.image_id, "request": 4}, [])]
    brush = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
    brush.paste((255, 0, 110, 255), (10, 20, 200, 100))
    front.msg({"kind": "mask"}, [png(brush)])
    front.sent.clear()
    front.msg({"kind": "fetch_mask", "request": 5})
    (reply, (data,)), = front.sent
    assert reply == {"kind": "mask", "image_id": studio.image_id, "request": 5}
    shown = np.asarray(Image.open(io.BytesIO(data)).getchannel("A"))
    assert (shown > 0).tolist() == (np.asarray(studio.mask) > 0).tolist()
    assert (shown > 0).sum() == 190 * 80
    front.sent.clear()
    studio.mask = np.ones((512, 512), dtype=np.uint8)  # Python's mask reaches every view at once
    (pushed, (_,)), = front.sent
    assert pushed == {"kind": "mask", "image_id": studio.image_id}


# -- one budget per Studio ---------------------------------------------------------------------

def test_switching_models_never_resets_the_studios_budget(fake, monkeypatch, day):
    day("2026-11-20")
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    budget = Decimal("0.29")
    with pytest.warns(pp.ShutdownWarning):  # a cheap model near shutdown: the widget still offers it
        studio = pp.Studio("openai", model="gpt-image-1-mini", budget=float(budget))
    front = Front(studio)
    front.run("generate", "fox one")
    spent = pp.ledger().total()
    assert studio.error == {} and spent > 0
    assert Decimal(studio.costs["budget_left"]) == budget - spent
    studio.model = "gpt-image-2"  # a new Client under the hood: it must book against the same cap
    assert studio.error == {} and studio.model == "gpt-image-2"
    assert Decimal(studio.costs["budget_left"]) == budget - spent
    # An edit's worst case fits a fresh $0.29 budget, but not what is left of this one.
    assert budget - spent < Decimal(studio.costs["estimate"]) <= budget
    front.run("edit", "give the fox a hat")
    assert studio.error["kind"] == "BudgetExceeded"
    assert len(fake.by_provider("openai")) == 1 and pp.ledger().total() == spent
    assert {row["budget"] for row in pp.ledger().entries()} == {studio.session.budget_id}


def test_budget_left_comes_from_the_ledger_and_counts_unknown_costs(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch, budget=1.0)
    studio.set_state({"previews": False})  # a plain JSON answer, for the "truncated" fault
    front.run("generate", "fox one")
    ledger = pp.ledger()
    assert Decimal(studio.costs["budget_left"]) == Decimal(1) - ledger.spent(budget=studio.session.budget_id)
    fake.fault("openai", "truncated")  # the answer breaks off: may have been billed, cost unknown
    front.run("generate", "fox two")
    held = ledger.spent(budget=studio.session.budget_id)
    assert held > ledger.total()  # the unknown call still counts at its reservation
    assert Decimal(studio.costs["budget_left"]) == Decimal(1) - held


def test_the_cost_panel_counts_calls_of_unknown_cost_apart_never_as_free(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    front.run("generate", "fox one")
    known = Decimal(studio.costs["widget"])
    assert known > 0 and studio.costs["widget_unknown"] == 0 and studio.costs["all_time_note"] == ""
    fake.fault("openai", "truncated")  # billed by the provider, but the answer breaks off
    front.run("generate", "fox two")
    costs = studio.costs
    assert costs["last"] is None and costs["calls"] == 2
    assert Decimal(costs["widget"]) == known and costs["widget_unknown"] == 1
    assert costs["all_time_unknown"] == 1
    reserved = pp.ledger().summary().unknown_reserved
    assert reserved > 0 and "1 call of unknown cost, up to $" in costs["all_time_note"]


def test_the_typical_cost_is_what_such_calls_really_cost(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    studio.prompt = "fox one"
    modelled = Decimal(studio.costs["estimate_typical"])  # before any call: the price tables' guess
    front.run("generate")
    last = Decimal(studio.costs["last"])
    assert last != modelled  # measured beats modelled once such a call exists
    assert Decimal(studio.costs["estimate_typical"]) == last < Decimal(studio.costs["estimate"])
    studio.params = {**studio.params, "quality": "high"}  # other settings: no such call yet
    assert Decimal(studio.costs["estimate_typical"]) == Decimal(studio.costs["estimate"])


def test_help_documents_every_argument_and_they_all_work(tmp_path):
    import inspect
    doc = pp.Studio.__doc__
    client_args = [n for n in inspect.signature(pp.Client.__init__).parameters if n not in ("self", "budget_id")]
    for name in client_args + ["resume"]:
        assert f":param {name}:" in doc, name
    ledger = pp.SQLiteLedger(tmp_path / "l.sqlite3")
    from promptpaint.store import ImageStore
    store = ImageStore(tmp_path / "imgs")
    studio = pp.Studio("offline", model="offline-sketch", budget=1, resume=False, cache=True, timeout=30,
                       max_retries=1, retry_on_timeout=False, backoff=0.1, ledger=ledger, store=store,
                       ceiling=0.5)
    r = studio.generate("a fox")
    assert store.find(r.ids[0]) is not None and ledger.entries()[0]["prompt"] == "a fox"


def test_show_code_offers_client_code_that_runs_as_pasted_with_image_mask_and_ledger(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    studio.set_state({"previews": False})  # the snippet makes the plain call; previews only stream it
    front.run("generate", "a fox")
    w, h = studio.image_size
    brush = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    brush.paste((255, 255, 255, 255), (w // 4, h // 4, w // 2, h // 2))
    front.msg({"kind": "mask"}, [png(brush)])
    front.run("edit", "give the fox a blue hat")
    snippet = studio.code["promptpaint"]
    assert OPENAI_KEY not in snippet and "api_key" not in snippet
    spent = pp.ledger().total()
    from_widget = fake.last("openai")
    namespace = {}
    exec(snippet, namespace)  # what pasting it into a cell does
    sent = fake.last("openai")
    assert sent is not from_widget and sent.path == "/v1/images/edits"
    assert sent.form == from_widget.form, "the same prompt and settings"
    pixels = lambda part: np.asarray(Image.open(io.BytesIO(part[0][2])).convert("RGBA"))  # noqa: E731
    for field in ("image[]", "mask"):
        assert (pixels(sent.files[field]) == pixels(from_widget.files[field])).all(), f"the same {field}"
    result = namespace["result"]
    assert result.cost > 0 and pp.ledger().total() == spent + result.cost, "booked like any call"
    assert Image.open(result.paths[0]).size == (w, h)


def test_a_front_end_change_is_checked_even_while_the_worker_applies_a_result(offline):
    import threading
    studio, front = offline
    inside, release = threading.Event(), threading.Event()

    def worker_applying():  # what the worker thread does while it copies a result into traits
        studio._applying = True
        inside.set()
        release.wait(5)
        studio._applying = False

    t = threading.Thread(target=worker_applying)
    t.start()
    inside.wait(5)
    studio.set_state({"prompt": "typed meanwhile", "model": "no-such-model"})
    release.set()
    t.join()
    assert studio.session.prompt == "typed meanwhile"
    assert studio.model == "offline-sketch" and "Unknown model" in studio.error["message"]


def test_one_update_switching_provider_and_model_is_checked_in_dependency_order(fake, monkeypatch, day):
    day("2026-11-20")
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    studio = pp.Studio("gemini")
    studio.send_state = lambda key=None: None
    # What clicking an OpenAI card sends; the browser may list the model before the provider.
    with pytest.warns(pp.ShutdownWarning):
        studio.set_state({"model": "gpt-image-1-mini", "params": {"size": "1024x1024", "n": 1},
                          "provider": "openai"})
    assert studio.error == {}
    assert (studio.provider, studio.model) == ("openai", "gpt-image-1-mini")
    assert studio.client.model.id == "gpt-image-1-mini" and studio.params["size"] == "1024x1024"


def test_one_budget_per_studio_whatever_model_it_calls(fake, monkeypatch, day):
    day("2026-11-20")
    # Switching models used to give each (provider, model) its own Client budget: $0.37 spent
    # against $0.15. One Studio is one budget, and "Budget left" is read from the ledger.
    studio, front = openai_studio(fake, monkeypatch, budget=0.25)
    front.run("generate", "fox one")
    studio.model = "gpt-image-1-mini"
    front.run("generate", "fox two")  # mini reserves ~$0.036 per image at worst: fits
    studio.model = "gpt-image-2.5-flare"
    front.run("generate", "fox three")  # $0.211 more would pass $0.25 in total: refused
    assert len(fake.by_provider("openai")) == 2
    spent = pp.ledger().spent()
    assert fake.bill_total() == spent <= Decimal("0.25")
    assert Decimal(studio.costs["budget_left"]) == Decimal("0.25") - spent


def test_a_mask_that_cannot_be_stored_for_show_code_costs_only_the_snippet(offline, monkeypatch):
    studio, front = offline
    front.run("generate", "a lighthouse")
    brush = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
    brush.paste((255, 255, 255, 255), (100, 100, 300, 250))
    front.msg({"kind": "mask"}, [png(brush)])

    put = studio.session.store.put

    def disk_full_for_masks(data, *args, **kwargs):  # the edit's own result still stores
        if Image.open(io.BytesIO(bytes(data))).mode == "L":
            raise OSError(28, "No space left on device")
        return put(data, *args, **kwargs)

    monkeypatch.setattr(studio.session.store, "put", disk_full_for_masks)
    front.run("edit", "make it night")
    assert studio.status == "idle" and len(studio.turns) == 2 and studio.error == {}
    assert studio.code["curl"] and "promptpaint" not in studio.code


# -- Compare: several models / qualities / repeats as one grid ------------------------------------

def compare(front, models, qualities=None, repeats=1, prompt="a fox in snow"):
    front.studio.prompt = prompt
    front.msg({"kind": "compare", "models": models, "qualities": qualities or [], "repeats": repeats})
    front.wait()
    return front.studio.compare["cells"]


def test_compare_estimate_names_the_cells_and_the_worst_case(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    studio.prompt = "a fox in snow"
    front.msg({"kind": "compare_estimate", "models": ["gpt-image-2", "gpt-image-2.5-flare"],
               "qualities": ["low", "high"], "repeats": 2, "request": 5})
    (reply, _), = front.sent
    assert reply["request"] == 5 and reply["calls"] == 8 and "error" not in reply
    assert [c["label"] for c in reply["cells"][:3]] == [
        "gpt-image-2 · low · #1", "gpt-image-2 · low · #2", "gpt-image-2 · high · #1"]
    worst = sum(pp.Client("openai", model=m).estimate("a fox in snow", quality=q, size="1024x1024", n=1)
                for m in ("gpt-image-2", "gpt-image-2.5-flare") for q in ("low", "high")) * 2
    assert Decimal(reply["worst_case"]) == worst
    assert fake.requests == [] and studio.turns == []  # an estimate spends nothing
    # qualities apply to the models that take one; the offline stand-in gets one cell per repeat
    front.msg({"kind": "compare_estimate", "models": ["gpt-image-2", "offline-sketch"],
               "qualities": ["low", "high"], "repeats": 2, "request": 6})
    reply = front.sent[-1][0]
    assert [c["label"] for c in reply["cells"]] == [
        "gpt-image-2 · low · #1", "gpt-image-2 · low · #2", "gpt-image-2 · high · #1",
        "gpt-image-2 · high · #2", "offline-sketch · #1", "offline-sketch · #2"]


@pytest.mark.parametrize("content, words", [
    ({"models": ["gpt-image-9"]}, "Unknown model 'gpt-image-9'"),
    ({"models": ["gemini-3.1-flash-image"]}, "Unknown model"),  # no Gemini key in this test
    ({"models": []}, "at least one model"),
    ({"models": ["gpt-image-2"], "repeats": 0}, "from 1 to 4"),
    ({"models": ["gpt-image-2"], "repeats": 5}, "from 1 to 4"),
    ({"models": ["gpt-image-2"], "repeats": True}, "from 1 to 4"),
    ({"models": ["gpt-image-2"], "repeats": "2"}, "from 1 to 4"),
    ({"models": ["gpt-image-2", "gpt-image-2"]}, "picked once"),
    ({"models": ["gpt-image-2"], "qualities": ["ultra"]}, "does not take quality 'ultra'"),
    ({"models": ["offline-sketch"], "qualities": ["low"]}, "takes a quality"),
    ({"models": ["gpt-image-2", "gpt-image-2.5-flare"], "qualities": ["low", "medium", "high"], "repeats": 3},
     "18 calls; a comparison has at most 12"),
    ({"models": "gpt-image-2"}, "list of names"),
])
def test_compare_refuses_a_bad_choice_with_a_clear_error_and_spends_nothing(fake, monkeypatch, content, words):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    studio, front = openai_studio(fake, monkeypatch)
    studio.prompt = "a fox"
    front.msg({"kind": "compare_estimate", "repeats": 1, "request": 1, **content})
    (reply, _), = front.sent
    assert words in reply["error"] and reply["cells"] == []
    front.msg({"kind": "compare", "repeats": 1, **content})
    assert words in studio.error["message"] and studio.status == "idle"
    assert fake.requests == [] and studio.turns == [] and studio.compare == {}


def test_compare_runs_each_cell_into_the_history_at_the_cost_billed(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch, budget=2.0)
    studio.params = {**studio.params, "n": 3}  # a cell is one image whatever the Images setting
    cells = compare(front, ["gpt-image-2", "gpt-image-2.5-flare"], ["low", "high"])
    assert [c["status"] for c in cells] == ["ok"] * 4 and studio.compare["running"] is False
    sent = [(r.json["model"], r.json["quality"], r.json["n"]) for r in fake.by_provider("openai")]
    assert sent == [("gpt-image-2", "low", 1), ("gpt-image-2", "high", 1),
                    ("gpt-image-2.5-flare", "low", 1), ("gpt-image-2.5-flare", "high", 1)]
    assert [Decimal(c["cost"]) for c in cells] == [b.cost for b in fake.billed]
    assert sum(Decimal(c["cost"]) for c in cells) == fake.bill_total() == studio.cost
    # every image is a turn of its own, stored, and none replaced the image being edited
    assert [t["kind"] for t in studio.turns] == ["compare"] * 4 and studio.image_id == ""
    for cell, turn in zip(cells, studio.turns):
        assert cell["turn"] == turn["id"] and turn["images"] == [cell["image"]]
        assert Decimal(turn["cost"]) == Decimal(cell["cost"]) and turn["model"] == cell["model"]
        assert studio.session.store.find(cell["image"]) is not None
    # the Studio's one budget: every cell's ledger row counts against it
    rows = pp.ledger().entries(4)
    assert {r["budget"] for r in rows} == {studio.session.budget_id}
    assert Decimal(studio.costs["budget_left"]) == Decimal(2) - fake.bill_total()
    # clicking a cell: the front end sets current to its turn, and that image is the one to edit
    studio.set_state({"current": {"turn": cells[2]["turn"], "index": 0}})
    assert studio.image_id == cells[2]["image"] and studio.error == {}
    front.run("edit", "add a moon")
    assert studio.turns[-1]["parent"] == cells[2]["turn"]


def test_compare_keeps_a_failed_cell_and_skips_what_the_budget_cannot_cover(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    one = pp.Client("openai", model="gpt-image-2").estimate("a fox in snow", quality="low", size="1024x1024", n=1)
    studio, front = openai_studio(fake, monkeypatch, budget=float(one) * 1.2)
    fake.fault("openai", "auth")
    cells = compare(front, ["gpt-image-2"], ["low"], repeats=3)
    assert [c["status"] for c in cells] == ["error", "ok", "skipped"]
    assert cells[0]["error"] == "Key or access problem" and cells[0]["turn"] is None
    assert cells[2]["error"] == "Budget exceeded" and cells[2]["cost"] is None
    assert len(fake.by_provider("openai")) == 2  # the skipped cell sent nothing
    assert Decimal(cells[1]["cost"]) == fake.bill_total() and len(studio.turns) == 1
    assert studio.status == "idle" and studio.error == {}  # the grid says it, cell by cell


def test_cancel_skips_the_comparison_cells_not_yet_started(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    fake.fault("openai", "slow", seconds=0.5)
    studio.prompt = "a slow fox"
    front.msg({"kind": "compare", "models": ["gpt-image-2"], "qualities": ["low"], "repeats": 3})
    fake.wait_for_requests(1, "openai")  # the first cell's call is at the provider
    job = studio._worker
    assert studio.status == "running" and studio.compare["cells"][0]["status"] == "running"
    front.msg({"kind": "cancel"})
    assert studio.status == "idle"
    job.join(5)
    cells = studio.compare["cells"]
    assert [c["status"] for c in cells] == ["ok", "skipped", "skipped"] and cells[1]["error"] == "Cancelled"
    assert len(fake.by_provider("openai")) == 1
    assert studio.turns[0]["cancelled"] is True and Decimal(studio.turns[0]["cost"]) == fake.bill_total()


def test_compare_offline_repeats_make_free_cells(offline):
    studio, front = offline
    cells = compare(front, ["offline-sketch"], repeats=2)
    assert [c["label"] for c in cells] == ["offline-sketch · #1", "offline-sketch · #2"]
    assert [c["cost"] for c in cells] == ["0", "0"] and len(studio.turns) == 2
    assert studio.compare["worst_case"] == "0"


def test_a_cancelled_comparison_finishing_late_leaves_the_newer_grid_alone(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    fake.fault("openai", "slow", seconds=0.5)   # the first comparison's first cell
    fake.fault("openai", "slow", seconds=1.5)   # the second's: still running when the first lands
    studio.prompt = "a slow fox"
    front.msg({"kind": "compare", "models": ["gpt-image-2"], "qualities": ["low"], "repeats": 2})
    fake.wait_for_requests(1, "openai")  # the first cell's call is at the provider
    old = studio._worker
    front.msg({"kind": "cancel"})
    studio.prompt = "a quick fox"
    front.msg({"kind": "compare", "models": ["gpt-image-2"], "qualities": ["high"], "repeats": 2})
    old.join(5)
    assert studio.status == "running" and studio.compare["running"] is True
    front.wait()
    assert studio.compare["prompt"] == "a quick fox" and studio.compare["running"] is False
    assert [c["status"] for c in studio.compare["cells"]] == ["ok", "ok"]
    assert [c["quality"] for c in studio.compare["cells"]] == ["high", "high"]
    assert sorted(t["prompt"] for t in studio.turns) == ["a quick fox", "a quick fox", "a slow fox"]


def test_every_request_id_gets_one_answer_even_from_a_message_without_a_reply_of_its_own(offline):
    studio, front = offline
    front.msg({"kind": "hide_past", "id": "../" * 30, "request": 11})  # refused: the drawer still hears back
    (reply, buffers), = front.sent
    assert reply["kind"] == "past" and reply["request"] == 11 and reply["items"] == [] and buffers == []
    assert "64 hexadecimal" in reply["error"] and "64 hexadecimal" in studio.error["message"]
    front.sent.clear()
    front.msg({"kind": "run", "action": "generate", "prompt": "", "request": "r1"})
    (ack, _), = front.sent
    assert ack["kind"] == "ack" and ack["of"] == "run" and ack["request"] == "r1" and "prompt" in ack["error"]
    front.sent.clear()
    front.msg({"kind": "cancel"})  # no request id: nothing to answer
    assert front.sent == []


def test_the_session_facade_and_the_old_import_paths_need_no_widget_library():
    code = ("from promptpaint.studio import Session; from promptpaint.session import Session as Old; "
            "from promptpaint import past, compare; assert Old is Session")
    assert loaded_by(code, {"ipywidgets", "anywidget"}) == []
    assert pp.Studio is __import__("promptpaint.studio", fromlist=["Studio"]).Studio


def test_every_message_kind_the_kernel_handles_is_in_the_protocol_document():
    from pathlib import Path

    from promptpaint.studio.protocol import MESSAGES

    doc = (ROOT / "docs" / "widget-protocol.md").read_text(encoding="utf-8")
    missing = [kind for kind in MESSAGES if f'{{"kind": "{kind}"' not in doc]
    assert missing == []
    for method, _reply in MESSAGES.values():
        assert callable(getattr(pp.Studio, method)), method


def test_a_provider_without_a_key_says_what_to_set_and_keeps_the_settings_it_had():
    studio = pp.Studio("offline")
    before = (studio.provider, studio.model, dict(studio.params))
    # What the Provider picker sends in one update: the provider, its first model, that model's settings.
    studio.set_state({"provider": "openai", "model": "gpt-image-2",
                      "params": {"size": "1024x1024", "quality": "low", "n": 1}})
    assert studio.error["message"].startswith("No openai API key: set OPENAI_API_KEY")
    assert "does not take" not in studio.error["message"]
    assert (studio.provider, studio.model, dict(studio.params)) == before  # Size and Images stay the offline model's
    studio.set_state({"params": {**studio.params, "n": 2}})  # the next choice is checked as usual again
    assert studio.params["n"] == 2


def test_an_offline_studio_says_so_in_the_widget_not_in_a_warning(recwarn):
    studio = pp.Studio()
    assert studio.provider == "offline" and "OPENAI_API_KEY" in studio.notice
    assert not [w for w in recwarn if issubclass(w.category, pp.OfflineNotice)]
