"""Streamed answers read off the fake's SSE through Transport: previews in order, the final image,
the completed usage, and a broken stream that is an error (maybe billed), never a preview as result."""

import base64
import io

import pytest
from PIL import Image

from fakes import GEMINI_KEY, OPENAI_KEY
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


# -- issue 19: streams that end, previews as they arrive, and no more previews than asked -------------

import threading  # noqa: E402

import promptpaint as pp  # noqa: E402
from helpers import png_bytes  # noqa: E402
from rawserver import keep_alive, silent, sse_event, sse_head, sse_send  # noqa: E402

USAGE = {"input_tokens": 20, "input_tokens_details": {"text_tokens": 20, "image_tokens": 0},
         "output_tokens": 400, "total_tokens": 420}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _streamer(*events, chunked=False, between=None):
    """An ``act`` that streams ``events`` (bytes) and closes; ``between(i)`` runs before event i."""
    def act(conn):
        sse_head(conn, chunked)
        try:
            for i, ev in enumerate(events):
                if between is not None:
                    between(i)
                sse_send(conn, ev, chunked)
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass
    return act


def _openai_client(server, **kw):
    return pp.Client("openai", api_key=OPENAI_KEY, base_url=server.base + "/v1", max_retries=0, **kw)


def _ends(fn, within: float):
    """Run ``fn`` in a thread; what it raised or returned, and whether it ended within ``within`` s
    (a guard so a stream that never ends fails the test instead of hanging it)."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(within)
    return out, not t.is_alive()


def test_a_stream_of_keep_alives_ends_at_the_timeout_booked_as_maybe_billed(raw):
    server = raw(keep_alive(every=0.05))
    c = _openai_client(server, timeout=1)
    out, ended = _ends(lambda: c.generate("a fox", on_partial=lambda im, i: None), within=30)
    assert ended, "a stream of keep-alive comments never ended"
    err = out["error"]
    assert isinstance(err, pp.Timeout) and err.maybe_billed is True and "no event within 1 s" in err.message
    row = pp.ledger().entries(limit=1)[0]
    assert row["status"] == "error" and row["cost"] is None and row["reserved"] > 0  # unknown, at its reservation


@pytest.mark.parametrize("act", [keep_alive, silent])
def test_cancel_ends_a_stream_that_sends_nothing_or_only_keep_alives(raw, act):
    started, cancel = threading.Event(), threading.Event()
    server = raw(act(started=started))
    chat = _openai_client(server, timeout=600).chat()  # only Cancel can end it

    def cancel_once_streaming():
        assert started.wait(30)
        cancel.set()

    threading.Thread(target=cancel_once_streaming, daemon=True).start()
    out, ended = _ends(lambda: chat.send("a fox", cancel=cancel, on_partial=lambda im, i: None), within=30)
    assert ended, "Cancel did not end the stream"
    assert isinstance(out["error"], pp.Cancelled) and out["error"].maybe_billed is True
    row = pp.ledger().entries(limit=1)[0]
    assert row["status"] == "error" and row["cost"] is None and row["reserved"] > 0  # unknown, at its reservation


@pytest.mark.parametrize("chunked", [False, True], ids=["close-delimited", "chunked"])
def test_a_preview_is_shown_as_it_arrives_not_when_the_stream_ends(raw, chunked):
    shown, order = threading.Event(), []

    def between(i):
        if i == 1:  # the final image waits until the client has shown the preview (or 20 s pass)
            order.append("shown before the end" if shown.wait(20) else "not shown before the end")

    png = png_bytes((32, 32))
    server = raw(_streamer(sse_event("image_generation.partial_image",
                                     {"b64_json": _b64(png), "partial_image_index": 0}),
                           sse_event("image_generation.completed", {"b64_json": _b64(png_bytes((32, 32), (0, 0, 255))),
                                                                    "usage": USAGE}),
                           chunked=chunked, between=between))
    r = _openai_client(server).generate("a fox", on_partial=lambda im, i: shown.set(), partial_images=1)
    assert order == ["shown before the end"] and r.images


def _previews_then_final(n: int, size: int = 0):
    preview = _b64(png_bytes((32, 32)))
    events = [sse_event("image_generation.partial_image", {"b64_json": "A" * size if size and i == 0 else preview,
                                                           "partial_image_index": i}) for i in range(n)]
    return events + [sse_event("image_generation.completed", {"b64_json": _b64(png_bytes((32, 32), (0, 0, 255))),
                                                              "usage": USAGE})]


def test_previews_beyond_those_asked_are_neither_shown_nor_booked(raw):
    asked = raw(_streamer(*_previews_then_final(2)))
    flood = raw(_streamer(*_previews_then_final(300)))
    got = []
    honest = _openai_client(asked).generate("a fox", on_partial=lambda im, i: None, partial_images=2)
    r = _openai_client(flood).generate("a fox", on_partial=lambda im, i: got.append(i), partial_images=2)
    assert got == [0, 1]
    assert r.cost == honest.cost and r.usage == honest.usage  # 2 previews' tokens, not 300
    assert pp.ledger().entries(limit=1)[0]["cost"] == honest.cost


def test_a_preview_beyond_the_size_limit_is_skipped_not_decoded(raw, monkeypatch):
    from promptpaint.providers import streams

    monkeypatch.setattr(streams, "PREVIEW_LIMIT", 10_000)
    # The first preview is 20,000 characters of base64 that is not an image: decoding it would fail.
    server = raw(_streamer(*_previews_then_final(2, size=20_000)))
    got = []
    r = _openai_client(server).generate("a fox", on_partial=lambda im, i: got.append((i, im.size)), partial_images=2)
    assert got == [(1, (32, 32))] and r.images


def test_gemini_thought_images_are_shown_then_dropped_and_only_as_many_as_asked():
    from promptpaint.sse import Event

    thought = {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png",
                                                                      "data": _b64(png_bytes((8, 8)))},
                                                       "thought": True}]}, "index": 0}]}
    final = {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png",
                                                                    "data": _b64(png_bytes((8, 8), (0, 0, 9)))},
                                                     "thoughtSignature": "c2ln"}]}, "finishReason": "STOP",
                             "index": 0}], "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 9}}
    import json as _json

    evs = [Event(None, _json.dumps(thought)) for _ in range(20)] + [Event(None, _json.dumps(final))]
    got = []
    body = read_gemini(iter(evs), lambda b, i: got.append(i), asked=2)
    assert got == [0, 1] and body["previews"] == 20
    parts = body["candidates"][0]["content"]["parts"]
    assert len(parts) == 1 and not parts[0].get("thought")  # the 20 drafts were not kept
