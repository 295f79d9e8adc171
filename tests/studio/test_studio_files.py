"""The Studio's reference images, provenance of its edits, and Save beside the notebook: what
reached the provider (the fake speaks each provider's wire format), and what a saved or
downloaded file says about itself."""

import base64
import io

import pytest
from PIL import Image

import promptpaint as pp
from helpers import Front, gemini_studio, openai_studio, png_bytes


def ref_png(i, size=(64, 64)):
    return png_bytes(size, (20 * i % 256, 90, 250 - i))


def sent_images(req):
    """The image bytes one request carried, in order, whichever provider it went to."""
    if req.provider == "openai":
        return [data for _, _, data in req.files.get("image[]", [])]
    parts = req.json["contents"][-1]["parts"]
    return [base64.b64decode(p["inlineData"]["data"]) for p in parts if "inlineData" in p]


@pytest.mark.parametrize("make", [openai_studio, gemini_studio], ids=["openai", "gemini"])
def test_reference_chips_reach_the_provider_with_the_next_generate_and_edit(fake, monkeypatch, make):
    studio, front = make(fake, monkeypatch)
    subject, style = ref_png(1), ref_png(2)
    front.msg({"kind": "reference", "name": "cat.png"}, [subject])
    front.msg({"kind": "reference", "name": "style.png"}, [style])
    assert [r["name"] for r in studio.references] == ["cat.png", "style.png"] and studio.error == {}
    front.run("generate", "the cat, painted in the style")
    assert studio.error == {}
    first = fake.requests[-1]
    assert sent_images(first) == [subject, style]
    if studio.provider == "openai":
        assert first.path == "/v1/images/edits"
    shown = studio.image_id
    source = studio.session.store.find(shown).read_bytes()
    front.msg({"kind": "remove_reference", "id": studio.references[0]["id"]})
    front.run("edit", "add a red scarf")
    assert studio.error == {}
    assert sent_images(fake.requests[-1])[0] == source or studio.provider == "gemini"
    assert sent_images(fake.requests[-1])[-1] == style and subject not in sent_images(fake.requests[-1])
    edit = studio.turns[-1]
    assert edit["kind"] == "edit" and edit["source"] == shown and edit["references"] == [studio.references[0]["id"]]


def test_a_history_card_becomes_a_reference_by_its_id(fake, monkeypatch):
    studio, front = gemini_studio(fake, monkeypatch)
    front.run("generate", "a red fox")
    fox = studio.image_id
    front.msg({"kind": "reference", "id": fox})
    assert studio.references == [{"id": fox, "name": "#1"}]
    front.msg({"kind": "reference", "id": fox})
    assert "already a reference" in studio.error["message"]
    front.run("generate", "the fox in a forest")
    assert sent_images(fake.requests[-1]) == [studio.session.store.find(fox).read_bytes()]


def test_references_beyond_the_models_limit_are_refused_before_anything_is_sent(fake, monkeypatch):
    studio, front = gemini_studio(fake, monkeypatch, model="gemini-3.1-flash-image")
    for i in range(15):
        front.msg({"kind": "reference", "name": f"r{i}.png"}, [ref_png(i + 3)])
    front.run("generate", "mix them all")
    assert "at most 14 input images" in studio.error["message"] and "Remove 1" in studio.error["message"]
    assert fake.requests == []
    front.msg({"kind": "reference", "name": "sixteen.png"}, [ref_png(41)])
    front.msg({"kind": "reference", "name": "three.png"}, [ref_png(42)])
    assert "At most 16 reference images" in studio.error["message"] and len(studio.references) == 16
    front.msg({"kind": "reference", "name": "not-an-image.txt"}, [b"hello"])
    assert len(studio.references) == 16


def test_the_estimate_counts_each_reference(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    studio.prompt = "a cat"
    bare = float(studio.costs["estimate"])
    front.msg({"kind": "reference", "name": "a.png"}, [ref_png(1)])
    front.msg({"kind": "reference", "name": "b.png"}, [ref_png(2)])
    per_image = studio.client.model.worst_case["input_image_tokens"] * float(studio.client.price_today().input_image) / 1e6
    assert float(studio.costs["estimate"]) == pytest.approx(bare + 2 * per_image, abs=1e-6)


def download(front, image_id):
    front.sent.clear()
    front.msg({"kind": "fetch", "id": image_id, "download": True})
    (reply, (data,)), = front.sent
    return data


def test_an_edits_provenance_says_edit_with_its_source_mask_and_references(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch)
    front.run("generate", "a lighthouse")
    source = studio.image_id
    ref = studio.add_reference(Image.new("RGB", (64, 64), "navy"), "night-sky.png")
    mask = Image.new("L", studio.image.size, 0)
    mask.paste(255, (0, 0, 200, 200))
    studio.mask = mask
    front.run("edit", "make the sky night")
    assert studio.error == {}
    story = pp.provenance(download(front, studio.image_id))
    assert story["kind"] == "edit" and story["prompt"] == "make the sky night"
    assert story["source"] == source and story["references"] == [ref["id"]]
    stored_mask = Image.open(studio.session.store.find(story["mask"]))
    assert stored_mask.size == mask.size and stored_mask.getpixel((10, 10)) == 255 and stored_mask.getpixel((300, 300)) == 0
    row = next(r for r in pp.ledger().entries(10) if r["id"] == story["ledger_id"])
    assert row["prompt"] == "make the sky night" and str(row["cost"]) == story["cost_usd"]


def test_a_download_tells_the_story_of_its_own_call_when_another_made_the_same_bytes():
    studio = pp.Studio("offline")
    front = Front(studio)
    first = studio.generate("a fox", seed=1)
    second = studio.generate("a fox", seed=1, size="512x512")  # the stand-in draws the same picture
    assert first.ids == second.ids and first.ledger_id != second.ledger_id
    studio.current = {"turn": 1, "index": 0}
    story = pp.provenance(download(front, first.ids[0]))
    assert story["ledger_id"] == first.ledger_id
    # A lookup by the bytes' hash finds the newest call that made them: the other one.
    assert pp.provenance(studio.session.store.find(first.ids[0]))["ledger_id"] == second.ledger_id


def test_save_writes_beside_the_notebook_named_from_the_prompt_with_its_story(tmp_path, monkeypatch):
    notebooks = tmp_path / "course" / "week1"
    notebooks.mkdir(parents=True)
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebooks / "task1.ipynb"))
    studio = pp.Studio("offline")
    with pytest.raises(pp.InvalidRequest, match="no image to save"):
        studio.save()
    result = studio.generate("A red fox, in the snow!")
    path = studio.save()
    assert path.parent == notebooks.resolve() and path.name == f"a-red-fox-in-the-snow-{result.ids[0][:8]}.png"
    story = pp.provenance(path)
    assert story["found_in"] == "embedded" and story["prompt"] == "A red fox, in the snow!"
    assert story["ledger_id"] == result.ledger_id and story["kind"] == "generate"
    assert Image.open(path).tobytes() == result.images[0].tobytes()
    assert studio.save() == path  # the same file again: nothing new
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert studio.save(other).parent == other.resolve()
    named = studio.save(other / "fox.png")
    assert named.name == "fox.png" and pp.provenance(named)["prompt"] == "A red fox, in the snow!"
    with pytest.raises(pp.InvalidRequest, match="No folder"):
        studio.save(tmp_path / "missing" / "fox.png")


def test_the_save_button_answers_with_the_path_and_says_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no notebook path known: the kernel's working directory
    studio = pp.Studio("offline")
    front = Front(studio)
    studio.generate("a boat")
    front.sent.clear()
    front.msg({"kind": "save", "request": 4})
    (reply, _), = front.sent
    assert reply["kind"] == "saved" and reply["request"] == 4
    assert reply["path"].startswith(str(tmp_path.resolve())) and "a-boat-" in reply["path"]
    assert "Saved a-boat-" in studio.notice
    assert pp.provenance(reply["path"])["prompt"] == "a boat"


def test_an_edit_with_markup_records_the_markup_layer_it_sent():
    studio = pp.Studio("offline")
    front = Front(studio)
    studio.generate("a cat on a chair")
    w, h = studio.image_size
    strokes = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    strokes.paste((255, 0, 0, 255), (10, 10, 60, 20))
    buf = io.BytesIO()
    strokes.save(buf, format="PNG")
    front.msg({"kind": "markup"}, [buf.getvalue()])
    front.run("edit", "add a red hat where drawn")
    assert studio.error == {}
    story = pp.provenance(download(front, studio.image_id))
    assert story["kind"] == "edit" and "mask" not in story and story["source"] == studio.turns[0]["images"][0]
    layer = Image.open(studio.session.store.find(story["markup"]))
    assert layer.size == (w, h) and layer.convert("RGBA").getpixel((20, 15))[:3] == (255, 0, 0)


def test_reference_chips_come_back_with_resume():
    studio = pp.Studio("offline")
    studio.generate("a fox")
    kept = studio.add_reference(Image.new("RGB", (32, 32), "teal"), "teal.png")
    again = pp.Studio("offline", resume=True)
    assert again.references == [kept]


def test_a_compare_cell_downloads_with_its_own_calls_story():
    studio = pp.Studio("offline")
    front = Front(studio)
    first = studio.generate("a fox", seed=4)
    studio.session.choose_params({**studio.params, "seed": 4})
    studio.prompt = "a fox"
    front.msg({"kind": "compare", "models": ["offline-sketch"], "qualities": [], "repeats": 1, "prompt": "a fox"})
    front.wait()
    cell = studio.turns[-1]
    assert cell["kind"] == "compare" and cell["images"] == first.ids  # the same bytes, another call
    studio.current = {"turn": cell["id"], "index": 0}
    story = pp.provenance(download(front, cell["images"][0]))
    assert story["ledger_id"] == cell["ledger_id"] != first.ledger_id and story["kind"] == "generate"
