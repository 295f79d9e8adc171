"""Streamed answers read off the fake's SSE through Transport: previews in order, the final image,
the completed usage, and a broken stream that is an error (maybe billed), never a preview as result."""

import base64
import io

import pytest
from PIL import Image

from fakeserver import GEMINI_KEY, OPENAI_KEY
from promptpaint.errors import ProviderError
from promptpaint.providers import gemini, openai
from promptpaint.providers.streaming import read_gemini, read_openai
from promptpaint.sse import events
from promptpaint.transport import RetryPolicy, Transport


def _openai(fake, partial_images=2, previews=None, edit=False):
    t = Transport("openai", (OPENAI_KEY,), openai.classify, retry=RetryPolicy(0))
    headers = {"Authorization": f"Bearer {OPENAI_KEY}"}
    fields = {"model": "gpt-image-2", "prompt": "a red fox", "stream": True, "partial_images": partial_images,
              "size": "1024x1024", "quality": "low"}
    if edit:
        url = f"{fake.openai_base}/images/edits"
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), "white").save(buf, format="PNG")
        reply = t.post(url, headers=headers, data={k: str(v).lower() if isinstance(v, bool) else str(v)
                                                   for k, v in fields.items()},
                       files=[("image[]", ("a.png", buf.getvalue(), "image/png"))], stream=True)
    else:
        url = f"{fake.openai_base}/images/generations"
        reply = t.post(url, headers=headers, json=fields, stream=True)
    assert reply.stream is not None
    got = previews if previews is not None else []
    body = read_openai(events(t.chunks(reply, url)), lambda b, i: got.append((i, b)), reply.request_id)
    return body, got


def _gemini(fake):
    t = Transport("gemini", (GEMINI_KEY,), gemini.classify, retry=RetryPolicy(0))
    url = f"{fake.gemini_base}/v1beta/models/gemini-3.1-flash-image:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "a red fox"}]}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}}
    reply = t.post(url, headers={"x-goog-api-key": GEMINI_KEY}, json=body, stream=True)
    got = []
    return read_gemini(events(t.chunks(reply, url)), lambda b, i: got.append((i, b)), reply.request_id), got


@pytest.mark.parametrize("edit", [False, True])
def test_openai_previews_in_order_then_the_final_image_and_usage(fake, edit):
    body, got = _openai(fake, edit=edit)
    assert [i for i, _ in got] == [0, 1]
    final = base64.b64decode(body["data"][0]["b64_json"])
    assert all(b != final for _, b in got)          # a preview is a draft, not the result
    assert Image.open(io.BytesIO(got[0][1])).size == Image.open(io.BytesIO(final)).size
    sent = fake.last("openai")
    assert (sent.json or {}).get("partial_images", (sent.form or {}).get("partial_images", [None])[0]) in (2, "2")
    kind = "image_edit" if edit else "image_generation"
    assert fake.streaming.sent[-1] == [f"{kind}.partial_image"] * 2 + [f"{kind}.completed"]
    usage = body["usage"]
    assert "output_tokens_details" not in usage
    plain = _plain_openai_output_tokens(fake)
    assert usage["output_tokens"] == plain                 # the image's own; previews are billed on top
    assert body["partial_images"] == 2
    assert fake.billed[-2].usage["output_tokens"] == plain + 2 * 100


def _plain_openai_output_tokens(fake) -> int:
    import requests

    r = requests.post(f"{fake.openai_base}/images/generations", headers={"Authorization": f"Bearer {OPENAI_KEY}"},
                      json={"model": "gpt-image-2", "prompt": "a red fox", "size": "1024x1024", "quality": "low"})
    return r.json()["usage"]["output_tokens"]


@pytest.mark.parametrize("fault", ["error", "drop"])
def test_openai_broken_stream_is_maybe_billed_and_has_no_image(fake, fault):
    fake.streaming.fault(fault, after=2)   # both previews arrive, then the stream breaks
    got = []
    with pytest.raises(ProviderError) as info:
        _openai(fake, previews=got)
    assert info.value.maybe_billed is True
    assert [i for i, _ in got] == [0, 1]
    if fault == "error":
        assert "stream reported an error" in info.value.message


def test_gemini_thought_images_are_previews_result_is_last_non_thought_usage_from_last_chunk(fake):
    body, got = _gemini(fake)
    assert fake.last("gemini").query["alt"] == "sse"
    assert [i for i, _ in got] == [0, 1]
    parts = body["candidates"][0]["content"]["parts"]
    # shown, then dropped: an unsigned draft is never the result nor replayed, so it is not kept
    assert sum(1 for p in parts if p.get("thought") and "inlineData" in p) == 0
    finals = [p for p in parts if "inlineData" in p and not p.get("thought")]
    assert len(finals) == 1 and all(base64.b64decode(finals[0]["inlineData"]["data"]) != b for _, b in got)
    assert finals[0]["thoughtSignature"]           # kept for the conversation's replay
    assert body["candidates"][0]["finishReason"] == "STOP"
    # every chunk carries the prompt's count: summing the chunks would count it four times
    import requests

    plain = requests.post(f"{fake.gemini_base}/v1beta/models/gemini-3.1-flash-image:generateContent",
                          headers={"x-goog-api-key": GEMINI_KEY},
                          json={"contents": [{"role": "user", "parts": [{"text": "a red fox"}]}]}).json()
    assert body["usageMetadata"] == plain["usageMetadata"]
    u = gemini.parse_usage(body["usageMetadata"], True, 0)
    assert u.input_text_tokens == plain["usageMetadata"]["promptTokenCount"]


@pytest.mark.parametrize("fault", ["error", "drop"])
def test_gemini_broken_stream_is_maybe_billed(fake, fault):
    fake.streaming.fault(fault, after=1)
    with pytest.raises(ProviderError) as info:
        _gemini(fake)
    assert info.value.maybe_billed is True


def test_a_failing_preview_callback_does_not_lose_the_call(fake):
    def boom(data, index):
        raise RuntimeError("display broke")

    body, _ = _openai(fake, previews=None)
    t = Transport("openai", (OPENAI_KEY,), openai.classify, retry=RetryPolicy(0))
    url = f"{fake.openai_base}/images/generations"
    reply = t.post(url, headers={"Authorization": f"Bearer {OPENAI_KEY}"}, stream=True,
                   json={"model": "gpt-image-2", "prompt": "x", "stream": True, "partial_images": 1})
    assert read_openai(events(t.chunks(reply, url)), boom)["data"]
