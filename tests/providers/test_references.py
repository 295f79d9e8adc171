"""Reference images: several input images for a generate or an edit, on both providers' real wire
formats (OpenAI edits' repeated image[] parts, Gemini's inlineData parts), within each model's limit,
each counted in the reservation."""

import base64
from decimal import Decimal

import pytest

import promptpaint as pp
from helpers import png_bytes


def refs(n, size=(48, 32)):
    return [png_bytes(size, (10 * i % 256, 40, 200 - i)) for i in range(n)]


def test_openai_generate_with_references_sends_each_file_to_images_edits(openai_client, fake):
    client = openai_client(model="gpt-image-2")
    subject, style = refs(2)
    result = client.generate("the subject in the style of the second", images=[subject, style], quality="low")
    req, = fake.by_provider("openai")
    assert req.path == "/v1/images/edits"  # images/generations takes no image files
    assert [data for _, _, data in req.files["image[]"]] == [subject, style]
    assert req.form["prompt"] == ["the subject in the style of the second"]
    assert result.kind == "generate" and result.usage.input_images == 2
    row = pp.ledger().entries(1)[0]
    assert row["kind"] == "generate" and row["cost"] == result.cost


def test_gemini_generate_and_edit_send_every_reference_as_inline_data(gemini_client, fake):
    client = gemini_client()
    subject, style, extra = refs(3)
    client.generate("the subject, painted like the style", images=[subject, style])
    client.edit("put the hat from the third on it", subject, images=[style, extra])
    sent = []
    for req in fake.by_provider("gemini"):
        parts = req.json["contents"][-1]["parts"]
        sent.append([base64.b64decode(p["inlineData"]["data"]) for p in parts if "inlineData" in p])
    assert sent == [[subject, style], [subject, style, extra]]


def test_openai_edit_with_references_keeps_the_source_first(openai_client, fake):
    client = openai_client(model="gpt-image-2")
    source, ref = refs(2, (64, 64))
    client.edit("give it the colours of the second", source, images=[ref], quality="low")
    req, = fake.by_provider("openai")
    assert [data for _, _, data in req.files["image[]"]] == [source, ref]


@pytest.mark.parametrize("provider, model, limit", [("openai", "gpt-image-2", 16),
                                                     ("gemini", "gemini-3.1-flash-image", 14)])
def test_more_references_than_the_model_takes_is_a_clear_error_before_anything_is_sent(
        fake, openai_client, gemini_client, provider, model, limit):
    client = (openai_client if provider == "openai" else gemini_client)(model=model)
    with pytest.raises(pp.InvalidRequest) as err:
        client.generate("too many", images=refs(limit + 1))
    assert f"at most {limit} input images" in str(err.value) and "Remove 1" in str(err.value)
    assert fake.by_provider(provider) == [] and pp.ledger().entries() == []
    client.generate("just enough", images=refs(limit))  # the limit itself is fine
    assert len(fake.by_provider(provider)) == 1


def test_a_gemini_mask_counts_as_one_of_its_input_images(gemini_client, fake):
    from PIL import Image
    client = gemini_client(model="gemini-3.1-flash-image")
    mask = Image.new("L", (48, 32), 0)
    mask.paste(255, (0, 0, 10, 10))
    with pytest.raises(pp.InvalidRequest, match="the mask counts as one"):
        client.edit("change the corner", refs(1)[0], images=refs(13), mask=mask)


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_each_reference_is_reserved_at_its_worst_case_tokens(fake, openai_client, gemini_client, provider):
    from promptpaint.plan import Request
    client = (openai_client if provider == "openai" else gemini_client)()
    params = {"quality": "low"} if provider == "openai" else {}
    bare = client.plan(Request("generate", "a cat", [], None, params)).worst
    with_two = client.plan(Request("generate", "a cat", refs(2), None, params)).worst
    wc, price = client.model.worst_case, client.price_today()
    per_image = Decimal(wc["input_image_tokens"]) * price.input_image / Decimal(1_000_000)
    assert with_two - bare == pytest.approx(2 * per_image, abs=Decimal("1e-6"))
    assert with_two == client.estimate("a cat", images=2, **params)
