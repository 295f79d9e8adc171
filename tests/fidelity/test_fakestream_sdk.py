"""The official SDKs read the fake's streams as they read the real ones: keeps tests/fakes/streams.py honest."""

import pytest

from helpers import decode
from helpers import sdk_gemini as gm_client
from helpers import sdk_openai as oa_client

openai = pytest.importorskip("openai")
genai = pytest.importorskip("google.genai")


def test_openai_sdk_reads_previews_and_completed_usage(fake):
    events = list(oa_client(fake).images.generate(model="gpt-image-2", prompt="s", stream=True, partial_images=2))
    assert [type(e).__name__ for e in events] == ["ImageGenPartialImageEvent"] * 2 + ["ImageGenCompletedEvent"]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    assert decode(events[0].b64_json).size == decode(events[-1].b64_json).size
    plain = oa_client(fake).images.generate(model="gpt-image-2", prompt="s")
    assert events[-1].usage.output_tokens == plain.usage.output_tokens
    # the provider's bill has the previews in it too
    assert fake.billed[-2].cost > fake.billed[-1].cost


def test_openai_sdk_raises_on_the_fakes_error_event(fake):
    fake.streaming.fault("error", after=1)
    stream = oa_client(fake).images.generate(model="gpt-image-2", prompt="s", stream=True, partial_images=2)
    with pytest.raises(openai.APIError, match="server had an error"):
        list(stream)


def test_google_genai_streams_thought_previews_then_the_image(fake):
    client = gm_client(fake)  # kept: the SDK closes its HTTP client when the Client is collected
    chunks = list(client.models.generate_content_stream(model="gemini-3.1-flash-image", contents="a red fox"))
    thought = [p for c in chunks for p in c.candidates[0].content.parts if p.thought and p.inline_data]
    final = [p for c in chunks for p in c.candidates[0].content.parts if p.inline_data and not p.thought]
    assert len(thought) == 2 and len(final) == 1
    assert chunks[-1].candidates[0].finish_reason == "STOP"
    assert chunks[-1].usage_metadata.prompt_token_count == chunks[0].usage_metadata.prompt_token_count > 0


def test_google_genai_raises_on_the_fakes_error_chunk(fake):
    fake.streaming.fault("error", after=1)
    client = gm_client(fake)
    with pytest.raises(genai.errors.APIError, match="internal error"):
        list(client.models.generate_content_stream(model="gemini-3.1-flash-image", contents="x"))
