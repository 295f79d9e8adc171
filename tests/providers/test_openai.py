"""The OpenAI client against the local server that speaks the Images API wire format."""

import io
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

import promptpaint as pp
from fakes import OPENAI_KEY, colour_for


@pytest.fixture
def client(openai_client):
    return openai_client(model="gpt-image-2")


def test_generate_sends_json_and_decodes_the_image(fake, client):
    r = client.generate("a red fox in snow", size="1536x1024", quality="low", n=2)
    req = fake.last("openai")
    assert req.path == "/v1/images/generations"
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert req.json == {"model": "gpt-image-2", "prompt": "a red fox in snow", "size": "1536x1024",
                        "quality": "low", "n": 2}
    assert "response_format" not in req.json
    assert len(r.images) == 2
    assert r.images[0].size == (1536, 1024)
    assert r.images[0].convert("RGB").getpixel((500, 500)) == colour_for("a red fox in snow")
    assert r.paths[0].exists() and r.paths[0].stem == r.ids[0]
    assert r.request_id and r.request_id.startswith("req_")


def test_cost_from_returned_usage_to_the_microdollar(fake, client):
    r = client.generate("a red fox in snow", n=2)
    # Today's gpt-image-2 counts (the old 17 + 1056 were gpt-image-1's): text 14 * $5 + output
    # 2 * 1767 (medium, 1024x1024) * $30 per 1M tokens, and exactly what the provider billed.
    assert r.usage.input_text_tokens == 14 and r.usage.output_image_tokens == 3534
    assert r.cost == Decimal("0.10609") == fake.bill_total()
    row = pp.ledger().entries(1)[0]
    assert row["cost"] == Decimal("0.10609") and row["status"] == "ok"
    assert row["request_id"] == r.request_id and row["images"] == r.ids
    assert pp.ledger().total() == Decimal("0.10609")


def test_edit_is_multipart_with_rgba_mask_of_the_images_size(fake, client):
    src = Image.new("RGB", (1024, 1024), (10, 200, 30))
    mask = np.zeros((512, 512), dtype=np.uint8)  # same proportions, half the resolution
    mask[0:256, 0:256] = 255
    ref = Image.new("RGB", (1024, 1024), (0, 0, 255))
    r = client.edit("a starry sky", image=src, images=[ref], mask=mask, quality="low")
    req = fake.last("openai")
    assert req.path == "/v1/images/edits"
    assert req.headers["content-type"].startswith("multipart/form-data")
    assert len(req.files["image[]"]) == 2
    fname, ctype, data = req.files["mask"][0]
    sent_mask = Image.open(io.BytesIO(data))
    assert sent_mask.format == "PNG" and sent_mask.mode == "RGBA" and sent_mask.size == (1024, 1024)
    alpha = np.asarray(sent_mask.getchannel("A"))
    assert (alpha[:512, :512] == 0).all() and (alpha[512:, 512:] == 255).all()
    assert req.form["prompt"] == ["a starry sky"] and req.form["model"] == ["gpt-image-2"]
    # 12 text at $5 + 2 * 765 image tokens (four 512-px tiles each) at $8 in, 200 out (low) at $30
    assert r.cost == Decimal("0.0183") == fake.bill_total()
    # preserve_unmasked: outside the painted square, the original pixels, exactly.
    out = np.asarray(r.images[0].convert("RGB"))
    assert (out[600:, 600:] == [10, 200, 30]).all()
    assert (out[100, 100] == colour_for("a starry sky")).all()


def test_mask_can_be_left_to_the_model(fake, client):
    src = Image.new("RGB", (1024, 1024), (10, 200, 30))
    mask = np.zeros((1024, 1024), dtype=bool)
    mask[:10, :10] = True
    r = client.edit("a starry sky", image=src, mask=mask, preserve_unmasked=False)
    assert np.asarray(r.images[0].convert("RGB"))[900, 900].tolist() == list(colour_for("a starry sky"))


def test_usage_details_as_a_plain_dict_or_missing(fake, client):
    # 200: gpt-image-2's low 1024x1024 image (272 was gpt-image-1's, above what this call can be
    # billed: the ledger would flag it for review and count the reservation instead).
    fake.usage["openai"] = {"text_tokens": 40, "image_tokens_per_input_image": 0, "output_tokens_per_image": 200}
    r = client.generate("cheap", quality="low")
    assert r.cost == Decimal(40 * 5 + 200 * 30) / 1_000_000


def test_near_shutdown_model_still_works_with_a_warning(fake, day):
    day("2026-11-20")
    with pytest.warns(pp.ShutdownWarning, match="2026-12-01"):
        c = pp.Client("openai", model="gpt-image-1-mini", api_key=OPENAI_KEY, base_url=fake.openai_base)
    r = c.generate("a fox")
    assert r.cost == Decimal(11 * 2 + 1375 * 8) / 1_000_000 == fake.bill_total()  # auto came out medium


def test_env_key_and_base_url(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    r = pp.Client("openai").generate("from the environment")
    assert r.images and fake.last("openai").json["model"] == "gpt-image-2"
