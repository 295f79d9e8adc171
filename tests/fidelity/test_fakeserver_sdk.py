"""Keep the fake honest: the official SDKs must be able to talk to it, and it must be strict.

The SDKs (openai, google-genai) are test-only dependencies; promptpaint itself uses requests.
"""

import base64
import io
import json

import pytest
import requests
from PIL import Image

from fakes import GEMINI_KEY, OPENAI_KEY, FakeProviders, colour_for, marker_colour
from helpers import decode, png_bytes
from helpers import sdk_gemini as gm_client
from helpers import sdk_openai as oa_client

openai = pytest.importorskip("openai")
genai = pytest.importorskip("google.genai")
from google.genai import errors as genai_errors  # noqa: E402
from google.genai import types as genai_types  # noqa: E402


# ----------------------------------------------------------------------------- helpers
def mask_bytes(size=(64, 48)) -> bytes:
    img = Image.new("RGBA", size, (0, 0, 0, 255))
    img.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))  # transparent = area to edit
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def oa_post(fake, path, **kw):
    headers = kw.pop("headers", {"Authorization": f"Bearer {OPENAI_KEY}"})
    return requests.post(fake.openai_base + path, headers=headers, timeout=10, **kw)


def gm_post(fake, body, model="gemini-3.1-flash-image", headers=None, version="v1beta", params=None):
    headers = {"x-goog-api-key": GEMINI_KEY} if headers is None else headers
    return requests.post(f"{fake.gemini_base}/{version}/models/{model}:generateContent", json=body,
                         headers=headers, params=params, timeout=10)


def gm_body(text="a red fox", **gen):
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if gen:
        body["generationConfig"] = gen
    return body


@pytest.fixture(autouse=True)
def _no_fake_bugs(request):
    # resolve `fake` during setup so it is torn down after this check
    fake = request.getfixturevalue("fake") if "fake" in request.fixturenames else None
    yield
    if fake is not None:
        assert not fake.server_errors, fake.server_errors[0]


# ----------------------------------------------------------------------------- OpenAI via the SDK
def test_openai_sdk_generate(fake):
    result = oa_client(fake).images.generate(model="gpt-image-2", prompt="a lighthouse at dusk", size="1024x1024")
    img = decode(result.data[0].b64_json)
    assert img.size == (1024, 1024) and img.format == "PNG"
    assert img.convert("RGB").getpixel((512, 512)) == colour_for("a lighthouse at dusk")
    # Today's counts (providers.md, corrected 2026-11-25), not gpt-image-1's 17 + 1056: auto quality
    # came out medium, 1767 tokens at 1024x1024; the prompt is 9 + one token per 4 ASCII characters.
    assert result.usage.input_tokens_details.text_tokens == 9 + 5
    assert result.usage.input_tokens_details.image_tokens == 0
    assert result.usage.output_tokens == 1767 and result.usage.total_tokens == 14 + 1767
    assert result.usage.output_tokens_details.image_tokens == 1767
    assert (result.size, result.quality, result.output_format, result.background) == (
        "1024x1024", "medium", "png", "opaque")
    rec = fake.last("openai")
    assert rec.path == "/v1/images/generations" and rec.method == "POST"
    assert rec.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert rec.json == {"model": "gpt-image-2", "prompt": "a lighthouse at dusk", "size": "1024x1024"}
    assert rec.status == 200


def test_openai_sdk_generate_n_custom_size_jpeg(fake):
    fake.usage["openai"]["output_tokens_per_image"] = 100
    result = oa_client(fake).images.generate(model="gpt-image-2.5-flare", prompt="p", size="1536x864", n=3,
                                             quality="xhigh", output_format="jpeg", output_compression=80)
    assert len(result.data) == 3
    imgs = [decode(d.b64_json) for d in result.data]
    assert all(i.size == (1536, 864) and i.format == "JPEG" for i in imgs)
    assert len({d.b64_json for d in result.data}) == 3  # each image slightly different
    assert result.usage.output_tokens == 300
    assert result.quality == "xhigh"


def test_openai_sdk_edit_multipart_round_trip(fake, tmp_path):
    a, b, m = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "mask.png"
    a.write_bytes(png_bytes((64, 48)))
    b.write_bytes(png_bytes((32, 32), (0, 0, 255)))
    m.write_bytes(mask_bytes((64, 48)))
    with open(a, "rb") as fa, open(b, "rb") as fb, open(m, "rb") as fm:
        result = oa_client(fake).images.edit(model="gpt-image-2", image=[fa, fb], mask=fm, prompt="add a hat", n=2)
    assert len(result.data) == 2
    img = decode(result.data[1].b64_json)
    assert img.size == (64, 48)  # size absent -> the first input image's size
    rgb = colour_for("add a hat")
    assert img.convert("RGB").getpixel((40, 40)) == rgb
    assert img.convert("RGB").getpixel((12, 4)) == marker_colour(rgb)  # index 1 -> bar 16 px wide
    assert result.usage.input_tokens_details.image_tokens == 2 * (85 + 170)  # one 512-px tile each
    assert result.usage.input_tokens == 12 + 510
    rec = fake.last("openai")
    assert rec.path == "/v1/images/edits"
    assert rec.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert rec.json is None
    assert [f[0] for f in rec.files["image[]"]] == ["a.png", "b.png"]
    assert rec.files["mask"][0][2] == m.read_bytes()
    assert rec.form["prompt"] == ["add a hat"] and rec.form["n"] == ["2"] and rec.form["model"] == ["gpt-image-2"]


def test_openai_sdk_auth_fault_echoes_part_of_key(fake):
    fake.fault("openai", "auth")
    with pytest.raises(openai.AuthenticationError) as ei:
        oa_client(fake).images.generate(model="gpt-image-2", prompt="x")
    assert ei.value.code == "invalid_api_key"
    assert f"{OPENAI_KEY[:7]}{'*' * (len(OPENAI_KEY) - 11)}{OPENAI_KEY[-4:]}" in ei.value.message  # sent key, masked
    assert OPENAI_KEY not in ei.value.message
    bad = openai.OpenAI(api_key="sk-wrong-key-9999abcd", base_url=fake.openai_base, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as ei:
        bad.images.generate(model="gpt-image-2", prompt="x")
    assert "sk-wron" in ei.value.message and "abcd" in ei.value.message  # echoed like OpenAI does
    assert "sk-wrong-key-9999abcd" not in ei.value.message
    assert ei.value.response.headers["x-request-id"].startswith("req_")


def test_openai_sdk_rate_limit(fake):
    fake.fault("openai", "rate_limit", retry_after_ms=20)
    with pytest.raises(openai.RateLimitError) as ei:
        oa_client(fake).images.generate(model="gpt-image-2", prompt="x")
    h = ei.value.response.headers
    assert h["retry-after-ms"] == "20" and h["retry-after"] == "1"
    assert h["x-ratelimit-remaining-requests"] == "0"
    assert ei.value.code == "rate_limit_exceeded"
    # the fault was consumed: the next call succeeds
    assert oa_client(fake).images.generate(model="gpt-image-2", prompt="x").data


def test_openai_sdk_retries_honour_retry_after_ms(fake):
    fake.fault("openai", "rate_limit", retry_after_ms=10)
    fake.fault("openai", "rate_limit", retry_after_ms=10)
    client = openai.OpenAI(api_key=OPENAI_KEY, base_url=fake.openai_base, max_retries=2)
    client.images.generate(model="gpt-image-2", prompt="x")
    assert [r.status for r in fake.requests] == [429, 429, 200]
    assert [r.fault for r in fake.requests] == ["rate_limit", "rate_limit", None]


def test_openai_sdk_moderation_and_quota(fake):
    fake.fault("openai", "moderation")
    with pytest.raises(openai.BadRequestError) as ei:
        oa_client(fake).images.generate(model="gpt-image-2", prompt="x")
    assert ei.value.code == "moderation_blocked"
    assert ei.value.body["type"] == "image_generation_user_error"
    assert ei.value.response.headers["x-request-id"] in ei.value.message
    fake.fault("openai", "quota")
    with pytest.raises(openai.RateLimitError) as ei:
        oa_client(fake).images.generate(model="gpt-image-2", prompt="x")
    assert ei.value.code == "insufficient_quota"
    fake.fault("openai", "org_unverified")
    with pytest.raises(openai.PermissionDeniedError) as ei:
        oa_client(fake).images.generate(model="gpt-image-2", prompt="x")
    assert "must be verified" in ei.value.message and ei.value.code is None


def test_openai_sdk_retired_model_404(fake):
    with pytest.raises(openai.NotFoundError) as ei:
        oa_client(fake).images.generate(model="gpt-image-1", prompt="x")
    assert ei.value.code == "model_not_found"


def test_openai_sdk_stream(fake):
    stream = oa_client(fake).images.generate(model="gpt-image-2", prompt="s", stream=True, partial_images=2)
    events = list(stream)
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert decode(events[-1].b64_json).size == (1024, 1024)
    assert events[-1].usage.input_tokens == 9 + 1


# ----------------------------------------------------------------------------- OpenAI strictness
@pytest.mark.parametrize("extra, param, code", [
    ({"response_format": "b64_json"}, "response_format", "unknown_parameter"),
    ({"style": "vivid"}, "style", "unknown_parameter"),
    ({"foo": 1}, "foo", "unknown_parameter"),
    ({"n": 11}, "n", "integer_above_max_value"),
    ({"n": 0}, "n", "integer_below_min_value"),
    ({"size": "512x512", "model": "gpt-image-1.5"}, "size", "invalid_value"),  # DALL-E size
    ({"size": "1000x1008"}, "size", "invalid_value"),  # not divisible by 16
    ({"size": "3200x1008"}, "size", "invalid_value"),  # ratio > 3:1
    ({"size": "4096x2160"}, "size", "invalid_value"),  # beyond 3840x2160
    ({"quality": "hd"}, "quality", "invalid_value"),
    ({"quality": "xhigh"}, "quality", "invalid_value"),  # only 2.5/2.6 models
    ({"background": "transparent", "output_format": "jpeg"}, "background", None),
    ({"output_compression": 101, "output_format": "webp"}, "output_compression", "integer_above_max_value"),
    ({"prompt": "x" * 32001}, "prompt", "string_above_max_length"),
])
def test_openai_generate_rejects(fake, extra, param, code):
    body = {"model": "gpt-image-2", "prompt": "x", **extra}
    r = oa_post(fake, "/images/generations", json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert (err["param"], err["code"], err["type"]) == (param, code, "invalid_request_error")
    assert r.headers["x-request-id"].startswith("req_")


def test_openai_generate_missing_prompt_and_model_rules(fake):
    r = oa_post(fake, "/images/generations", json={"model": "gpt-image-2"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"
    r = oa_post(fake, "/images/generations", json={"model": "gpt-image-1.5", "prompt": "x", "size": "1536x864"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "size"  # custom sizes only on 2.x
    r = oa_post(fake, "/images/generations", json={"model": "dall-e-3", "prompt": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = oa_post(fake, "/images/generations", data="not json", headers={"Authorization": f"Bearer {OPENAI_KEY}"})
    assert r.status_code == 400 and "could not parse the JSON body" in r.json()["error"]["message"]
    r = oa_post(fake, "/images/generations", json={"model": "gpt-image-2", "prompt": "x"}, headers={})
    assert r.status_code == 401 and "didn't provide an API key" in r.json()["error"]["message"]


def test_openai_edit_rejects_json_body(fake):
    r = oa_post(fake, "/images/edits", json={"model": "gpt-image-2", "prompt": "x",
                                             "image": "data:image/png;base64," + base64.b64encode(png_bytes()).decode()})
    assert r.status_code == 400
    assert "multipart/form-data" in r.json()["error"]["message"]


def _edit(fake, files, **data):
    data = {"model": "gpt-image-2", "prompt": "edit it", **data}
    return oa_post(fake, "/images/edits", data=data, files=files)


def test_openai_edit_mask_without_alpha(fake):
    r = _edit(fake, [("image", ("a.png", png_bytes(), "image/png")),
                     ("mask", ("m.png", png_bytes(), "image/png"))])
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_mask_image_format"
    assert err["message"] == "Invalid mask image format - mask image missing alpha channel"


def test_openai_edit_mask_wrong_size(fake):
    r = _edit(fake, [("image", ("a.png", png_bytes((64, 48)), "image/png")),
                     ("mask", ("m.png", mask_bytes((48, 64)), "image/png"))])
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == "mask" and "same dimensions" in err["message"]


def test_openai_edit_other_rules(fake):
    img = ("image", ("a.png", png_bytes(), "image/png"))
    r = _edit(fake, [img], input_fidelity="high")
    assert r.status_code == 400 and r.json()["error"]["param"] == "input_fidelity"
    r = _edit(fake, [img], input_fidelity="high", model="gpt-image-2.5-sunburst")
    assert r.status_code == 200
    r = _edit(fake, [("image", ("a.txt", b"not an image", "text/plain"))])
    assert r.status_code == 400 and r.json()["error"]["param"] == "image"
    r = _edit(fake, [("image[]", ("a.png", png_bytes(), "image/png"))] * 17)
    assert r.status_code == 400 and r.json()["error"]["code"] == "array_above_max_length"
    r = oa_post(fake, "/images/edits", data=b"--zz\r\ngarbage", headers={
        "Authorization": f"Bearer {OPENAI_KEY}", "Content-Type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 400 and "multipart" in r.json()["error"]["message"]
    r = oa_post(fake, "/images/edits", data={"model": "gpt-image-2", "prompt": "x", "image": "data:image/png;base64,AA"},
                files={"mask": ("m.png", mask_bytes(), "image/png")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_type"
    r = oa_post(fake, "/images/edits", data={"model": "gpt-image-2", "prompt": "x"}, files={"x": ("f", b"1")})
    assert r.status_code == 400 and r.json()["error"]["param"] == "x"
    r = _edit(fake, [img], size="1024x1536", output_format="webp")
    assert r.status_code == 200 and decode(r.json()["data"][0]["b64_json"]).size == (1024, 1536)
    # a single `image` file and `image` repeated are both accepted; usage counts input images
    r = _edit(fake, [img, img])
    assert r.json()["usage"]["input_tokens_details"] == {"text_tokens": 11, "image_tokens": 2 * 255}


# ----------------------------------------------------------------------------- OpenAI transport faults
def test_openai_transport_faults(fake):
    fake.fault("openai", "non_json")
    r = oa_post(fake, "/images/generations", json={"model": "gpt-image-2", "prompt": "x"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):
        r.json()
    fake.fault("openai", "truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        oa_post(fake, "/images/generations", json={"model": "gpt-image-2", "prompt": "x"})
    fake.fault("openai", "truncated", mode="cut_json")
    r = oa_post(fake, "/images/generations", json={"model": "gpt-image-2", "prompt": "x"})
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()
    fake.fault("openai", "slow", seconds=0.3)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(fake.openai_base + "/images/generations", json={"model": "gpt-image-2", "prompt": "x"},
                      headers={"Authorization": f"Bearer {OPENAI_KEY}"}, timeout=0.1)
    fake.fault("openai", "status", code=418, body={"error": {"message": "teapot"}})
    r = oa_post(fake, "/images/generations", json={"model": "gpt-image-2", "prompt": "x"})
    assert r.status_code == 418 and r.json()["error"]["message"] == "teapot"
    fake.fault("openai", "server_error", status=502)
    r = oa_post(fake, "/images/generations", json={"model": "gpt-image-2", "prompt": "x"})
    assert r.status_code == 502 and r.json()["error"]["type"] == "server_error"
    assert not fake.pending_faults("openai")
    with pytest.raises(ValueError):
        fake.fault("openai", "no_such_fault")


# ----------------------------------------------------------------------------- Gemini via the SDK
def test_gemini_sdk_generate(fake):
    client = gm_client(fake)
    resp = client.models.generate_content(
        model="gemini-3.1-flash-image", contents=["a red fox in snow"],
        config=genai_types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                                 image_config=genai_types.ImageConfig(aspect_ratio="16:9")))
    parts = resp.candidates[0].content.parts
    image_parts = [p for p in parts if p.inline_data]
    assert len(image_parts) == 1 and image_parts[0].thought_signature
    img = Image.open(io.BytesIO(image_parts[0].inline_data.data))
    assert img.size == (1024, 576)
    assert img.convert("RGB").getpixel((500, 300)) == colour_for("a red fox in snow")
    um = resp.usage_metadata
    # Gemini 3 thinks by default: 900 thought tokens on top of 9 text + 1120 image out.
    assert um.prompt_token_count == 9 and um.candidates_token_count == 1129
    assert um.thoughts_token_count == 900 and um.total_token_count == 9 + 1129 + 900
    by_mod = {d.modality.value: d.token_count for d in um.candidates_tokens_details}
    assert by_mod == {"TEXT": 9, "IMAGE": 1120}
    assert [d.modality.value for d in um.prompt_tokens_details] == ["TEXT"]
    assert resp.candidates[0].finish_reason == genai_types.FinishReason.STOP
    assert resp.model_version == "gemini-3.1-flash-image" and resp.response_id
    rec = fake.last("gemini")
    assert rec.path == "/v1beta/models/gemini-3.1-flash-image:generateContent"
    assert rec.headers["x-goog-api-key"] == GEMINI_KEY and rec.key_source == "header" and "key" not in rec.query
    assert rec.json["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"],
                                            "imageConfig": {"aspectRatio": "16:9"}}


def test_gemini_sdk_edit_uses_input_size_and_counts_images(fake):
    client = gm_client(fake, version="v1")
    src = png_bytes((96, 64))
    resp = client.models.generate_content(
        model="gemini-3-pro-image",
        contents=[genai_types.Part.from_bytes(data=src, mime_type="image/png"), "make it blue"])
    img = Image.open(io.BytesIO([p for p in resp.candidates[0].content.parts if p.inline_data][0].inline_data.data))
    assert img.size == (96, 64)
    um = resp.usage_metadata
    assert um.prompt_token_count == 7 + 1120  # an input image is ~1120 tokens on Gemini 3
    assert {d.modality.value: d.token_count for d in um.prompt_tokens_details} == {"TEXT": 7, "IMAGE": 1120}
    assert fake.last("gemini").path.startswith("/v1/models/gemini-3-pro-image")


def test_gemini_sdk_chat_replays_thought_signature(fake):
    client = gm_client(fake)
    chat = client.chats.create(model="gemini-3.1-flash-image",
                               config=genai_types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"]))
    first = chat.send_message("a lighthouse")
    second = chat.send_message("now at night")
    assert any(p.inline_data for p in second.candidates[0].content.parts)
    assert [r.status for r in fake.requests] == [200, 200]
    replay = fake.requests[1].json["contents"]
    assert [c["role"] for c in replay] == ["user", "model", "user"]
    model_parts = replay[1]["parts"]
    sent = [p for p in model_parts if "inlineData" in p][0]
    issued = [p for p in fake.requests[0].response_json["candidates"][0]["content"]["parts"] if "inlineData" in p][0]
    assert base64.urlsafe_b64decode(sent["thoughtSignature"] + "==") == base64.b64decode(issued["thoughtSignature"])
    # two images now in the history (none from the user): prompt counts the model's image
    assert second.usage_metadata.prompt_token_count == 32 + 1120  # all history text, and the image
    assert first.candidates[0].content.parts[-1].inline_data.data != b""


def test_gemini_sdk_auth_fault(fake):
    fake.fault("gemini", "auth")
    client = gm_client(fake)  # keep a reference: a collected genai.Client closes its HTTP client
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert ei.value.code == 400 and ei.value.status == "INVALID_ARGUMENT"
    assert ei.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    bad = genai.Client(api_key="AIza-nope", http_options=genai_types.HttpOptions(base_url=fake.gemini_base))
    with pytest.raises(genai_errors.ClientError) as ei:
        bad.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert ei.value.message == "API key not valid. Please pass a valid API key."


def test_gemini_sdk_rate_limit_and_server_errors(fake):
    client = gm_client(fake)  # keep a reference: a collected genai.Client closes its HTTP client
    fake.fault("gemini", "rate_limit", retry_delay="28s")
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert ei.value.code == 429 and ei.value.status == "RESOURCE_EXHAUSTED"
    details = ei.value.details["error"]["details"]
    assert details[-1] == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "28s"}
    assert details[0]["violations"][0]["quotaMetric"].endswith("paid_tier_input_token_count")
    fake.fault("gemini", "free_tier")
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert "limit: 0" in ei.value.message and "free_tier_requests" in ei.value.message
    fake.fault("gemini", "server_error", status=503)
    with pytest.raises(genai_errors.ServerError) as ei:
        client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert ei.value.status == "UNAVAILABLE" and "overloaded" in ei.value.message
    fake.fault("gemini", "permission")
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert ei.value.code == 403 and ei.value.status == "PERMISSION_DENIED"


def test_gemini_sdk_outcome_faults(fake):
    client = gm_client(fake)
    fake.fault("gemini", "image_safety", reason="IMAGE_PROHIBITED_CONTENT")
    r = client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert r.candidates[0].finish_reason == genai_types.FinishReason.IMAGE_PROHIBITED_CONTENT
    assert r.candidates[0].content is None
    assert r.usage_metadata.prompt_token_count == 5 and r.usage_metadata.candidates_token_count is None
    fake.fault("gemini", "blocked")
    r = client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert r.candidates is None
    assert r.prompt_feedback.block_reason == genai_types.BlockedReason.PROHIBITED_CONTENT
    fake.fault("gemini", "text_only")
    r = client.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert r.text.startswith("I can't create that image")
    assert r.usage_metadata.candidates_token_count == 9
    fake.usage["gemini"]["thoughts_tokens"] = 40
    r = client.models.generate_content(model="gemini-3-pro-image", contents="x")
    assert r.usage_metadata.thoughts_token_count == 40
    assert r.candidates[0].content.parts[0].thought is True
    assert r.usage_metadata.total_token_count == 5 + 1129 + 40


def test_gemini_sdk_text_only_modality_and_unknown_model(fake):
    client = gm_client(fake)
    r = client.models.generate_content(model="gemini-3.1-flash-image", contents="describe",
                                       config=genai_types.GenerateContentConfig(response_modalities=["TEXT"]))
    assert all(p.inline_data is None for p in r.candidates[0].content.parts)
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model="gemini-2.0-flash-exp-image-generation", contents="x")
    assert ei.value.code == 404 and "is not found for API version v1beta" in ei.value.message


# ----------------------------------------------------------------------------- Gemini strictness
def test_gemini_unknown_generation_config_field(fake):
    r = gm_post(fake, gm_body(foo=1))
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT"
    assert err["message"] == 'Invalid JSON payload received. Unknown name "foo" at \'generation_config\': Cannot find field.'


def test_gemini_snake_case_accepted(fake):
    body = {"contents": [{"role": "user", "parts": [
        {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(png_bytes((40, 30))).decode()}},
        {"text": "edit"}]}],
        "generation_config": {"response_modalities": ["IMAGE"], "image_config": {"image_size": "1K"}}}
    r = gm_post(fake, body)
    assert r.status_code == 200, r.text
    data = r.json()["candidates"][0]["content"]["parts"][-1]["inlineData"]["data"]
    assert decode(data).size == (1024, 768)  # input's shape, long side 1K


@pytest.mark.parametrize("body, needle", [
    ({"contents": []}, "contents is not specified"),
    ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "valid role"),
    ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
    ({"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "!!!"}}]}]},
     "Base64 decoding failed"),
    ({"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png",
                                                              "data": base64.b64encode(b"nope").decode()}}]}]},
     "Unable to process input image"),
    (gm_body(imageConfig={"aspectRatio": "7:3"}), "aspect_ratio"),
    (gm_body(imageConfig={"imageSize": "1k"}), "image_size"),
    (gm_body(responseModalities=["PICTURE"]), "response_modalities[0]"),
    (gm_body(temperature=2.5), "temperature"),
    (gm_body(candidateCount=2), "Multiple candidates"),
    ({**gm_body(), "safetySettings": [{"category": "HARM_CATEGORY_FOO", "threshold": "BLOCK_NONE"}]}, "category"),
    ({**gm_body(), "bogus": 1}, 'Unknown name "bogus": Cannot find field.'),
])
def test_gemini_rejects(fake, body, needle):
    r = gm_post(fake, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert needle in r.json()["error"]["message"]


def test_gemini_per_model_ratios(fake):
    assert gm_post(fake, gm_body(imageConfig={"aspectRatio": "1:8", "imageSize": "512"})).status_code == 200
    r = gm_post(fake, gm_body(imageConfig={"aspectRatio": "1:8"}), model="gemini-3-pro-image")
    assert r.status_code == 400


def test_gemini_missing_thought_signature_on_replay(fake):
    first = gm_post(fake, gm_body("a cat")).json()
    model_turn = first["candidates"][0]["content"]
    follow = {"contents": [{"role": "user", "parts": [{"text": "a cat"}]}, model_turn,
                           {"role": "user", "parts": [{"text": "add a hat"}]}]}
    assert gm_post(fake, follow).status_code == 200  # replayed as received
    stripped = json.loads(json.dumps(follow))
    for p in stripped["contents"][1]["parts"]:
        p.pop("thoughtSignature", None)
    r = gm_post(fake, stripped)
    assert r.status_code == 400 and "thought_signature" in r.json()["error"]["message"]
    forged = json.loads(json.dumps(follow))
    image_part = next(p for p in forged["contents"][1]["parts"] if "inlineData" in p)
    image_part["thoughtSignature"] = base64.b64encode(b"forged").decode()
    assert gm_post(fake, forged).status_code == 400


def test_gemini_key_rules(fake):
    r = gm_post(fake, gm_body(), headers={})
    assert r.status_code == 403 and r.json()["error"]["status"] == "PERMISSION_DENIED"
    r = gm_post(fake, gm_body(), headers={}, params={"key": GEMINI_KEY})
    assert r.status_code == 200
    assert fake.last("gemini").key_source == "query" and fake.last("gemini").query["key"] == GEMINI_KEY
    r = gm_post(fake, gm_body(), headers={"x-goog-api-key": "wrong"})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_gemini_transport_faults_and_latency(fake):
    fake.fault("gemini", "truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        gm_post(fake, gm_body())
    fake.fault("gemini", "non_json", status=502)
    r = gm_post(fake, gm_body())
    assert r.status_code == 502 and "html" in r.headers["content-type"]
    fake.fault("gemini", "slow", seconds=0.2)
    fake.latency = 0.05
    r = gm_post(fake, gm_body())
    assert r.status_code == 200 and r.elapsed.total_seconds() >= 0.25


def test_two_servers_are_independent():
    with FakeProviders() as a, FakeProviders(keys={"k"}) as b:
        assert a.port != b.port
        a.fault("gemini", "blocked")
        assert not b.pending_faults("gemini")
        r = gm_post(b, gm_body(), headers={"x-goog-api-key": "k"})
        assert r.status_code == 200
        assert a.requests == [] and len(b.requests) == 1
