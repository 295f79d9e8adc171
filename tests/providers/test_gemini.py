"""The Gemini client against the local server that speaks generateContent."""

import base64
import io
import json
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, colour_for


@pytest.fixture
def client(gemini_client):
    return gemini_client(model="gemini-3.1-flash-image")


def test_generate_request_fields_and_image(fake, client):
    r = client.generate("a serene landscape at sunrise", aspect_ratio="16:9", seed=7, temperature=0.4,
                        top_p=0.9, top_k=20, max_output_tokens=4000, stop_sequences=["END"],
                        image_size="1K",
                        safety_settings=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}])
    req = fake.last("gemini")
    assert req.path == "/v1beta/models/gemini-3.1-flash-image:generateContent"
    assert req.headers["x-goog-api-key"] == GEMINI_KEY and "key" not in req.query
    body = req.json
    assert body["contents"] == [{"role": "user", "parts": [{"text": "a serene landscape at sunrise"}]}]
    cfg = body["generationConfig"]
    assert cfg["responseModalities"] == ["TEXT", "IMAGE"]
    assert cfg["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "1K"}
    assert (cfg["seed"], cfg["temperature"], cfg["topP"], cfg["topK"]) == (7, 0.4, 0.9, 20)
    assert cfg["maxOutputTokens"] == 4000 and cfg["stopSequences"] == ["END"]
    assert body["safetySettings"][0]["threshold"] == "BLOCK_NONE"
    w, h = r.images[0].size
    assert abs(w / h - 16 / 9) < 0.01
    assert r.images[0].convert("RGB").getpixel((w // 2, h // 2)) == colour_for("a serene landscape at sunrise")
    assert r.text  # the model's words come back too


def test_cost_by_modality(fake, client):
    r = client.generate("a fox")
    # 6 text in at $0.50, 9 text out and 900 thought tokens (Gemini 3 thinks by default) at $3,
    # 1120 image out at $60 per 1M
    assert r.usage.output_image_tokens == 1120 and r.usage.output_text_tokens == 9
    assert r.usage.thinking_tokens == 900
    assert r.cost == Decimal("0.06993") == fake.bill_total()
    assert pp.ledger().total() == Decimal("0.06993")


def test_thinking_tokens_are_billed(fake, client):
    fake.usage["gemini"] = {**fake.usage["gemini"], "thoughts_tokens": 200}
    r = client.generate("a fox")
    assert r.usage.thinking_tokens == 200
    assert r.cost == Decimal("0.06993") - Decimal(700 * 3) / 1_000_000 == fake.bill_total()


def test_masked_edit_sends_image_then_mask_and_keeps_the_rest(fake, client):
    src = Image.new("RGB", (640, 480), (10, 200, 30))
    mask = Image.new("L", (640, 480), 0)
    mask.paste(255, (0, 0, 320, 240))
    r = client.edit("make it a night sky", image=src, mask=mask)
    parts = fake.last("gemini").json["contents"][-1]["parts"]
    assert parts[0]["text"].startswith("make it a night sky") and "mask" in parts[0]["text"]
    first = Image.open(io.BytesIO(base64.b64decode(parts[1]["inlineData"]["data"])))
    sent_mask = Image.open(io.BytesIO(base64.b64decode(parts[2]["inlineData"]["data"])))
    assert first.size == (640, 480) and sent_mask.size == (640, 480)
    assert sent_mask.convert("L").getpixel((10, 10)) == 255 and sent_mask.convert("L").getpixel((600, 400)) == 0
    out = np.asarray(r.images[0].convert("RGB"))
    assert out.shape == (480, 640, 3)
    assert (out[240:, :] == [10, 200, 30]).all() and (out[:, 320:] == [10, 200, 30]).all()
    # input images are billed too: 2 images (source and mask) at ~1120 tokens each on Gemini 3
    assert r.usage.input_image_tokens == 2240


def test_multi_turn_replays_model_images_and_thought_signatures(fake, client):
    chat = client.chat()
    chat.send("a lighthouse on a cliff")
    first_answer = fake.last("gemini").response_json["candidates"][0]["content"]
    chat.send("now make it night")
    body = fake.last("gemini").json
    roles = [c["role"] for c in body["contents"]]
    assert roles == ["user", "model", "user"]
    assert body["contents"][1]["parts"] == first_answer["parts"]  # signature and image, as sent
    assert any("thoughtSignature" in p for p in body["contents"][1]["parts"])
    assert fake.last("gemini").status == 200
    # the conversation keeps store ids, not megabytes of base64, between turns
    assert '"data"' not in json.dumps([t.model for t in chat.turns] + [t.user for t in chat.turns])
    # branch from the first turn: the second turn is not replayed
    branch = chat.branch(0)
    branch.send("make it foggy instead")
    body = fake.last("gemini").json
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][2]["parts"][0]["text"] == "make it foggy instead"
    assert [r["kind"] for r in pp.ledger().entries(3)] == ["chat", "chat", "generate"]


def test_file_uri_inputs_go_as_file_data(fake, client):
    uri = "https://generativelanguage.googleapis.com/v1beta/files/abc123"
    try:
        client.edit("describe and restyle", image=uri)
    except pp.PromptpaintError:
        pass  # the stand-in may not be able to fetch it; the request shape is what matters
    part = fake.last("gemini").json["contents"][0]["parts"][1]
    assert part == {"fileData": {"mimeType": "image/png", "fileUri": uri}}


def test_google_api_key_env_and_base_url(fake, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.gemini_base)
    c = pp.Client()
    assert c.provider_name == "gemini" and c.model.id == "gemini-3.1-flash-image"
    assert c.generate("a fox").images
