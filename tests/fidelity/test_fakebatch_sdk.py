"""Keep the fake Batch APIs honest: the official SDKs must drive them end to end.

openai-python's files/batches resources and google-genai's batches/files modules are the
reference for the wire format; if they cannot talk to the fake, the fake is wrong.
"""

import base64
import io
import json
import time

import pytest
from PIL import Image

from fakes import GEMINI_KEY, OPENAI_KEY, colour_for

openai = pytest.importorskip("openai")
genai = pytest.importorskip("google.genai")
from google.genai import types as genai_types  # noqa: E402

GEMINI = "gemini-3.1-flash-image"


@pytest.fixture
def fast(fake):
    fake.batches.step = 0.05
    yield fake
    assert not fake.server_errors, fake.server_errors[0]


def until_done(get, done_states, timeout=30):
    end = time.monotonic() + timeout
    while True:
        job = get()
        state = getattr(job, "status", None) or getattr(job, "state", None)
        if str(state) in done_states or time.monotonic() > end:
            return job
        time.sleep(0.05)


def test_openai_sdk_runs_an_image_batch_on_the_fake(fast):
    client = openai.OpenAI(api_key=OPENAI_KEY, base_url=fast.openai_base, max_retries=0, timeout=10)
    lines = [{"custom_id": f"r{i}", "method": "POST", "url": "/v1/images/generations",
              "body": {"model": "gpt-image-2", "prompt": p, "size": "1024x1024", "quality": "low"}}
             for i, p in enumerate(["a fox", "a heron"])]
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    f = client.files.create(file=("in.jsonl", io.BytesIO(data)), purpose="batch")
    assert f.purpose == "batch" and f.bytes == len(data) and f.id.startswith("file-")
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/images/generations", completion_window="24h",
                                  metadata={"who": "test"})
    assert batch.status == "validating" and batch.request_counts.total == 2
    batch = until_done(lambda: client.batches.retrieve(batch.id), {"completed", "failed"})
    assert batch.status == "completed" and batch.request_counts.completed == 2 and batch.error_file_id is None
    assert batch.metadata == {"who": "test"}
    out = [json.loads(x) for x in client.files.content(batch.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["r0", "r1"]
    body = out[1]["response"]["body"]
    assert out[1]["response"]["status_code"] == 200 and body["usage"]["output_tokens"] > 0
    img = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert img.convert("RGB").getpixel((500, 500)) == colour_for("a heron")
    assert client.batches.list().data[0].id == batch.id


def test_openai_sdk_sees_line_errors_bad_windows_and_cancels(fast):
    client = openai.OpenAI(api_key=OPENAI_KEY, base_url=fast.openai_base, max_retries=0, timeout=10)
    line = {"custom_id": "a", "method": "POST", "url": "/v1/images/generations",
            "body": {"model": "gpt-image-2", "prompt": "x", "style": "vivid"}}  # style: DALL·E only
    f = client.files.create(file=("in.jsonl", io.BytesIO((json.dumps(line) + "\n").encode())), purpose="batch")
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=f.id, endpoint="/v1/images/generations", completion_window="1h")
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/images/generations", completion_window="24h")
    batch = until_done(lambda: client.batches.retrieve(batch.id), {"completed"})
    assert batch.output_file_id is None and batch.request_counts.failed == 1
    err = json.loads(client.files.content(batch.error_file_id).text)
    assert err["response"]["status_code"] == 400 and "style" in err["response"]["body"]["error"]["message"]
    assert fast.batches.billed == []

    fast.batches.step = 5
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/images/generations", completion_window="24h")
    assert client.batches.cancel(batch.id).status == "cancelling"


def test_genai_sdk_runs_an_inline_batch_on_the_fake(fast):
    client = genai.Client(api_key=GEMINI_KEY,
                          http_options=genai_types.HttpOptions(base_url=fast.gemini_base, api_version="v1beta"))
    job = client.batches.create(model=GEMINI, src=[
        {"contents": [{"role": "user", "parts": [{"text": p}]}], "metadata": {"key": p},
         "config": {"response_modalities": ["TEXT", "IMAGE"], "image_config": {"aspect_ratio": "1:1"}}}
        for p in ("a fox", "a heron")], config={"display_name": "sdk-test"})
    assert job.name.startswith("batches/") and job.display_name == "sdk-test"
    assert str(job.state) in ("JobState.JOB_STATE_PENDING", "JOB_STATE_PENDING")
    job = until_done(lambda: client.batches.get(name=job.name), {"JobState.JOB_STATE_SUCCEEDED", "JOB_STATE_SUCCEEDED"})
    responses = job.dest.inlined_responses
    assert [r.metadata["key"] for r in responses] == ["a fox", "a heron"]
    part = [p for p in responses[1].response.candidates[0].content.parts if p.inline_data][0]
    img = Image.open(io.BytesIO(part.inline_data.data))
    assert img.convert("RGB").getpixel((100, 100)) == colour_for("a heron")
    assert responses[1].response.usage_metadata.candidates_token_count > 0
    sent = fast.requests[0].json["batch"]["inputConfig"]["requests"]["requests"][0]
    assert sent["request"]["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1"}


def test_genai_sdk_uploads_a_batch_file_and_downloads_the_results(fast, tmp_path):
    client = genai.Client(api_key=GEMINI_KEY,
                          http_options=genai_types.HttpOptions(base_url=fast.gemini_base, api_version="v1beta"))
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"key": p, "request": {"contents": [{"parts": [{"text": p}]}]}}) + "\n"
                            for p in ("a fox", "a heron")))
    # Google answers the upload's start with a URL on its own host (so does the fake); google-genai
    # re-aims it at base_url only when base_url is given per request, not from the Client's options.
    uploaded = client.files.upload(file=str(path), config={"mime_type": "application/jsonl",
                                                           "http_options": {"base_url": fast.gemini_base}})
    assert uploaded.name.startswith("files/") and uploaded.size_bytes == path.stat().st_size
    job = client.batches.create(model=GEMINI, src=uploaded.name)
    job = until_done(lambda: client.batches.get(name=job.name), {"JobState.JOB_STATE_SUCCEEDED", "JOB_STATE_SUCCEEDED"})
    data = client.files.download(file=job.dest.file_name)
    out = [json.loads(x) for x in data.decode().splitlines()]
    assert [o["key"] for o in out] == ["a fox", "a heron"] and "candidates" in out[0]["response"]

    fast.batches.step = 30
    job = client.batches.create(model=GEMINI, src=uploaded.name)
    client.batches.cancel(name=job.name)
    assert "CANCELLED" in str(until_done(lambda: client.batches.get(name=job.name),
                                         {"JobState.JOB_STATE_CANCELLED", "JOB_STATE_CANCELLED"}, timeout=15).state)
