"""A reservation is a true upper bound of the bill, and the booked cost is the bill, for every model
and setting and every usage shape the providers send (issue 18); every figure quoted before a call
is the reservation that call makes.

The fake bills like the providers (tests/fakes/): OpenAI text-output tokens and cached tokens,
Gemini answers with several images under the ``maxOutputTokens`` the request carries, tool-use and
unitemised output tokens, and both shapes of OpenAI's streamed usage (previews in it, or billed on
top). Cap refusals are test_budget's; usage that cannot be trusted is test_money's.
"""

from __future__ import annotations

import itertools
import warnings
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from fakes import OPENAI_KEY
from helpers import client_on, png_bytes
from promptpaint import registry

NANO = Decimal("0.000001")


# ----------------------------------------------------------------------------- OpenAI usage shapes
def test_openai_text_output_is_reserved_and_booked_at_the_text_rate(fake, books):
    fake.openai_text_tokens = 1800  # under our 2,000-token ceiling per image
    c = client_on(fake, "openai", budget=5)
    r = c.generate("a fox", quality="low", size="1024x1024", n=2)
    row = books.last_row()
    assert r.usage.output_text_tokens == 3600 and r.usage.output_image_tokens == 400
    assert r.cost == books.bill_of(row) == Decimal(400 * 30 + 3600 * 10 + r.usage.input_text_tokens * 5) / 10**6
    assert row["reserved"] >= r.cost


def test_cached_tokens_tool_use_and_unitemised_output_are_booked_as_billed(fake):
    fake.openai_cached_tokens = 8
    r = client_on(fake, "openai").generate("a red fox in snow, with cached prompt tokens")
    assert r.usage.cached_input_text_tokens == 8 and r.cost == fake.bill_total()
    fake.reset()
    fake.gemini_tool_use_tokens, fake.gemini_unitemised_tokens = 50, 30
    r = client_on(fake, "gemini").generate("a fox")
    assert r.usage.tool_use_tokens == 50 and r.usage.output_text_tokens == 9 + 30
    assert r.cost == fake.bill_total()


# ----------------------------------------------------------------------------- Gemini images
def test_gemini_request_carries_the_output_cap_its_reservation_assumes(fake, books):
    c = client_on(fake, "gemini", budget=1)
    c.generate("a lighthouse", image_size="2K")
    cfg = fake.last("gemini").json["generationConfig"]
    assert cfg["maxOutputTokens"] == 1680 + 2048  # the 2K image plus the thinking headroom
    row = books.last_row()
    # as many whole 2K images as fit at $60, the rest at $3, the prompt's bytes at $0.50
    cap, image = 1680 + 2048, 1680
    most = (Decimal(cap // image * image * 60 + cap % image * 3)
            + Decimal(len(b"a lighthouse") + 64) * Decimal("0.5")) / 10**6
    assert row["reserved"] == most.quantize(Decimal("0.000000001"))


def test_a_gemini_answer_with_several_images_stays_under_its_reservation(fake, books):
    fake.gemini_images = 3  # interleaved text and images: as many as the cap lets the model make
    c = client_on(fake, "gemini", budget=1)
    r = c.generate("three lighthouses")
    row = books.last_row()
    assert len(r.images) == 2  # the third did not fit under maxOutputTokens (MAX_TOKENS)
    assert r.usage.output_image_tokens == 2 * 1120
    assert r.cost == books.bill_of(row) <= row["reserved"]


def test_a_users_small_output_cap_stops_the_model_and_bounds_the_bill(fake, books):
    c = client_on(fake, "gemini", budget=1)
    with pytest.raises(pp.Refused, match="MAX_TOKENS"):
        c.generate("a lighthouse", max_output_tokens=1500)  # 900 thinking + 1129 does not fit
    row = books.last_row()
    assert fake.last("gemini").json["generationConfig"]["maxOutputTokens"] == 1500
    assert row["cost"] == books.bill_of(row) <= row["reserved"]


def test_a_gemini_conversation_reserves_for_its_whole_history(worst, worst_books):
    chat = client_on(worst, "gemini").chat()
    for prompt in ("a lighthouse", "now at night", "add a ship", "make it stormy 嵐"):
        before = worst.bill_total()
        chat.send(prompt)
        row = worst_books.last_row()
        assert row["reserved"] >= worst.bill_total() - before == row["cost"]


# ----------------------------------------------------------------------------- preview tokens
@pytest.mark.parametrize("included", [False, True], ids=["billed-on-top", "in-the-usage"])
@pytest.mark.parametrize("n, quality, size", [(1, "low", "1024x1024"), (2, "high", "1536x1024"),
                                              (1, "medium", "auto")])
def test_preview_tokens_are_booked_once_whichever_shape_the_usage_has(fake, books, included, n, quality, size):
    fake.openai_previews_in_usage = included
    c = client_on(fake, "openai", budget=5)
    r = c.generate("a fox", n=n, quality=quality, size=size, on_partial=lambda im, i: None, partial_images=2)
    row = books.last_row()
    assert abs(r.cost - books.bill_of(row)) <= NANO and r.cost <= row["reserved"]


@pytest.mark.parametrize("included", [False, True])
def test_streamed_text_output_is_split_from_the_image_by_the_table(fake, books, included):
    fake.openai_previews_in_usage = included
    fake.openai_text_tokens = 500
    c = client_on(fake, "openai", budget=5)
    r = c.generate("a fox", quality="low", size="1024x1024", on_partial=lambda im, i: None, partial_images=2)
    billed = books.bill_of(books.last_row())
    if included:  # the usage cannot tell previews from text: the previews are over-booked at $10
        assert billed <= r.cost <= billed + Decimal(200 * 10) / 10**6
    else:
        assert r.cost == billed


# ----------------------------------------------------------------------------- every model x setting
def _settings():
    """Every callable model at each of its settings, and a custom size where the model takes one."""
    for m in registry.all_models():
        if m.is_retired() or m.provider == "offline":
            continue
        if m.provider == "openai":
            sizes = list(m.params["size"]["choices"]) + (["2048x1152"] if m.capabilities.get("custom_sizes") else [])
            for quality, size in itertools.product(m.params["quality"]["choices"], sizes):
                yield m.id, {"quality": quality, "size": size}
        else:
            for image_size in m.params["image_size"]["choices"]:
                yield m.id, {"image_size": image_size}


def _shapes(m):
    """(streamed, previews counted in the streamed usage) for each answer shape the model can send."""
    yield False, False
    if m.previews:
        yield True, False
        if m.provider == "openai":
            yield True, True


@pytest.mark.parametrize("model, params", list(_settings()), ids=str)
def test_billed_never_exceeds_reserved_and_booked_is_billed(worst, worst_books, model, params):
    """The provider bills all it may (``worst``): a generate of two images, each streamed answer
    shape, and an edit with two input images (at the input's size for OpenAI's size="auto")."""
    m = registry.get(model)
    c = client_on(worst, m.provider, model=model, budget=50)
    prompt = "a lighthouse at dusk, 灯台と夕暮れ"
    if params.get("quality") in ("xhigh", "max"):
        assert c.estimate(prompt, **params) is None  # nothing published bounds it: refused under a budget
        return
    for stream, included in _shapes(m):
        worst.openai_previews_in_usage = included
        extra = ({"on_partial": lambda im, i: None, "partial_images": m.previews} if stream
                 else {"n": 2} if m.provider == "openai" else {})
        quoted = c.estimate(prompt, **{k: v for k, v in extra.items() if k != "on_partial"}, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = c.generate(prompt, **extra, **params)
        row = worst_books.last_row()
        billed = worst_books.bill_of(row)
        assert quoted == row["reserved"] >= billed
        if not stream:
            assert r.cost == billed
        elif included:
            # 2,000 text tokens an image and the previews in one count: previews over-booked at
            # $10; where that passes the reservation, the row is flagged for review and counts at
            # the reservation (never below the bill) until reconciled.
            if r.cost is None:
                assert row["state"] == "over its reservation" and row["reserved"] >= billed
            else:
                assert billed <= r.cost <= billed + Decimal(100 * m.previews * 10) / 10**6
        else:
            assert abs(r.cost - billed) <= NANO
    worst.openai_previews_in_usage = False
    r = c.edit(prompt, image=png_bytes((1536, 1024)), images=[png_bytes((640, 480))], **params)
    row = worst_books.last_row()
    assert row["reserved"] >= worst_books.bill_of(row) == r.cost


# ----------------------------------------------------------------------------- one figure everywhere
@pytest.mark.parametrize("model, params", [("gpt-image-2", {"quality": "high"}),
                                           ("gpt-image-2", {"quality": "high", "size": "auto"}),
                                           ("gemini-3.1-flash-image", {"image_size": "2K"}),
                                           ("gemini-3-pro-image", {})])
def test_estimate_of_an_edit_with_a_mask_is_the_reservation_made(fake, books, model, params):
    m = registry.get(model)
    c = client_on(fake, m.provider, model=model, budget=5)
    src, mask = png_bytes((2048, 2048)), Image.new("L", (2048, 2048), 0)
    mask.paste(255, (0, 0, 512, 512))
    quoted = c.estimate("a hat", image=src, mask=mask, **params)
    c.edit("a hat", image=src, mask=mask, **params)
    assert quoted == books.last_row()["reserved"]


def test_sweep_estimate_is_the_sum_of_the_reservations_made(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    sweep = pp.Sweep(["a fox", "a heron"], ["gpt-image-2"], vary={"quality": ["low", "high"]})
    quoted = sweep.estimate().worst_case
    sweep.run(progress=False)
    rows = pp.ledger().entries(10)
    assert len(rows) == 4 and quoted == sum(r["reserved"] for r in rows)
