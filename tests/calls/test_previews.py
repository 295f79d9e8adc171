"""Streamed previews through pp.Client, for both providers against the fake: previews in order as
PIL images, the final image and its cost as billed, and a broken stream booked, never shown."""

import threading
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY, colour_for

PROVIDERS = {
    "openai": dict(model="gpt-image-2", api_key=OPENAI_KEY, params={"size": "1024x1024", "quality": "low"}),
    "gemini": dict(model="gemini-3.1-flash-image", api_key=GEMINI_KEY, params={}),
}


def make(fake, name, **kw):
    p = PROVIDERS[name]
    base = fake.openai_base if name == "openai" else fake.gemini_base
    return pp.Client(name, model=p["model"], api_key=p["api_key"], base_url=base, backoff=0.01, **kw)


def stored(client) -> set:
    return {p.name for p in client.store.root.iterdir()}


@pytest.mark.parametrize("name", ["openai", "gemini"])
def test_previews_arrive_in_order_then_the_final_image_at_the_billed_cost(fake, name):
    client = make(fake, name)
    got = []
    r = client.generate("a red fox", on_partial=lambda im, i: got.append((i, im)), **PROVIDERS[name]["params"])
    assert [i for i, _ in got] == [0, 1]
    assert all(isinstance(im, Image.Image) and im.size == r.image.size for _, im in got)
    final = r.image.convert("RGB")
    assert final.getpixel((final.width // 2, final.height // 2)) == colour_for("a red fox")
    assert all(im.convert("RGB").tobytes() != final.tobytes() for _, im in got)  # drafts, not the result
    # what the provider billed (previews included) is what the ledger booked, to the microdollar
    bill = fake.billed[-1]
    assert abs(r.cost - bill.cost) < Decimal("0.000001")
    [row] = [e for e in pp.ledger().entries() if e["id"] == r.ledger_id]
    assert row["cost"] == r.cost and row["status"] == "ok"
    assert set(r.ids) <= {n.split(".")[0] for n in stored(client)}
    assert len(stored(client)) == 1  # previews are not stored
    if name == "openai":
        assert fake.last("openai").json["stream"] is True and fake.last("openai").json["partial_images"] == 2
        assert r.usage.output_image_tokens == bill.usage["output_tokens"]  # image + 2 × 100
    else:
        assert fake.last("gemini").path.endswith(":streamGenerateContent") and fake.last("gemini").query["alt"] == "sse"


def test_openai_reserves_100_output_tokens_per_preview(fake):
    client = make(fake, "openai")
    plain = client.generate("a red fox", **PROVIDERS["openai"]["params"])
    streamed = client.generate("a red fox", on_partial=lambda im, i: None, partial_images=3,
                               **PROVIDERS["openai"]["params"])
    rows = {e["id"]: e for e in pp.ledger().entries()}
    price = client._price_today().output_image
    extra = rows[streamed.ledger_id]["reserved"] - rows[plain.ledger_id]["reserved"]
    assert extra == Decimal(300) * Decimal(str(price)) / Decimal(1_000_000)
    assert streamed.cost - plain.cost == extra  # and it is what the call is booked at


def test_openai_edit_streams_as_multipart(fake):
    client = make(fake, "openai")
    source = Image.new("RGB", (64, 64), "white")
    got = []
    r = client.edit("add a hat", image=source, on_partial=lambda im, i: got.append(i), partial_images=1)
    sent = fake.last("openai")
    assert sent.path == "/v1/images/edits"
    assert sent.form["stream"] == ["true"] and sent.form["partial_images"] == ["1"]
    assert got == [0] and r.images


@pytest.mark.parametrize("name", ["openai", "gemini"])
@pytest.mark.parametrize("fault", ["error", "drop"])
def test_a_broken_stream_gives_no_image_and_is_booked_as_possibly_billed(fake, name, fault):
    client = make(fake, name, budget=5)
    fake.streaming.fault(fault, after=2)  # both previews arrive, then the stream breaks
    got = []
    before = stored(client)
    with pytest.raises(pp.ProviderError) as info:
        client.generate("a red fox", on_partial=lambda im, i: got.append(i), **PROVIDERS[name]["params"])
    assert info.value.maybe_billed is True
    assert got == [0, 1]                         # shown as previews, and only as previews
    assert stored(client) == before              # no preview became a stored result
    [row] = pp.ledger().entries(limit=1)
    assert row["status"] == "error" and row["cost"] is None and row["reserved"] > 0
    assert pp.ledger().spent(budget=client._budget_id) == row["reserved"]  # still counts against the cap


def test_without_on_partial_nothing_streams(fake):
    client = make(fake, "openai")
    client.generate("a red fox", **PROVIDERS["openai"]["params"])
    assert "stream" not in fake.last("openai").json
    with pytest.raises(pp.InvalidRequest, match="on_partial"):
        client.generate("a red fox", partial_images=2)
    with pytest.raises(pp.InvalidRequest, match="at most 3"):
        client.generate("a red fox", partial_images=4, on_partial=print)


def test_cancel_mid_stream_ends_the_call_booked_as_maybe_billed(fake):
    # Cancel ends a stream at once (issue 19: a stream of keep-alives never ended otherwise). The
    # provider may bill a call it has started, so it stays booked at its reservation, cost unknown.
    client = make(fake, "openai")
    fake.streaming.delay = 0.2
    cancel = threading.Event()
    got = []

    def first(im, i):
        got.append(i)
        cancel.set()

    with pytest.raises(pp.Cancelled) as info:
        client.chat().send("a red fox", cancel=cancel, on_partial=first, partial_images=3)
    assert got == [0] and info.value.maybe_billed is True
    row = pp.ledger().entries(limit=1)[0]
    assert row["status"] == "error" and row["cost"] is None and row["reserved"] > 0


def test_gemini_chat_streams_and_still_replays_its_turns(fake):
    chat = make(fake, "gemini").chat()
    got = []
    chat.send("a lighthouse", on_partial=lambda im, i: got.append(i), partial_images=1)
    chat.send("now at night")
    assert got == [0]                                   # at most what was asked for
    contents = fake.last("gemini").json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    model_parts = contents[1]["parts"]
    assert any("inlineData" in p and p.get("thoughtSignature") for p in model_parts)
    assert not any(p.get("thought") and "inlineData" in p for p in model_parts)  # drafts are not replayed


def test_offline_stand_in_streams_previews_at_no_cost():
    client = pp.Client("offline")
    got = []
    r = client.generate("a kite", on_partial=lambda im, i: got.append((i, im.size)), seed=1)
    assert got == [(0, r.image.size), (1, r.image.size)] and r.cost == 0
