"""A Result, a Chat and the ledger show pictures and a table when a cell ends with them."""

import base64
import dataclasses
import html
import io
import json
import re
from decimal import Decimal

import pytest
from PIL import Image, ImageChops

import promptpaint as pp
from promptpaint import money
from fakes import GEMINI_KEY, colour_for
from pgserver import ledger_at, pg_db, pg_ledger, pg_server  # noqa: F401  (fixtures)

IMG = re.compile(r'<img src="data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"')


def _pictures(page):
    return [(mime, Image.open(io.BytesIO(base64.b64decode(b64))), html.unescape(alt))
            for mime, b64, alt in IMG.findall(page)]


def test_a_result_shows_a_small_copy_of_its_image_with_a_caption():
    r = pp.Client("offline").generate("a red fox in snow", size="1024x1024", seed=3)
    bundle = r._repr_mimebundle_()
    [(mime, shown, alt)] = _pictures(bundle["text/html"])
    assert alt == "a red fox in snow" and max(shown.size) == 256
    # The thumbnail is the stored image, scaled: compare against the original scaled the same way.
    expected = r.image.convert("RGB").resize(shown.size)
    diff = ImageChops.difference(expected, shown.convert("RGB")).getextrema()
    assert max(hi for _, hi in diff) < 64
    assert "offline/offline" in bundle["text/html"] and "offline stand-in" in bundle["text/html"]
    assert base64.b64decode(bundle[mime]) == base64.b64decode(IMG.findall(bundle["text/html"])[0][1])
    assert "a red fox in snow" in bundle["text/plain"]


def test_a_paid_result_shows_its_model_and_cost_and_a_cached_one_says_so(fake):
    client = pp.Client("gemini", model="gemini-3.1-flash-image", api_key=GEMINI_KEY,
                       base_url=fake.gemini_base, cache=True)
    r = client.generate("a fox")
    page = r._repr_mimebundle_()["text/html"]
    assert r.cost > 0 and r.cost == pp.ledger().total()
    assert f"gemini/gemini-3.1-flash-image · ${r.cost:.4f}" in page and "cached" not in page
    [(_, shown, _)] = _pictures(page)
    assert shown.convert("RGB").getpixel((shown.width // 2, shown.height // 2)) == colour_for("a fox")
    again = client.generate("a fox")
    assert again.cached and again._repr_mimebundle_()["text/plain"].startswith(
        "gemini/gemini-3.1-flash-image · $0.00 · cached")


def test_a_photo_stays_small_enough_for_a_saved_notebook(tmp_path):
    # Noise is the worst case for a compressor: a real photo shrinks better than this.
    noisy = Image.merge("RGB", [Image.effect_noise((1536, 1024), 60)] * 3)
    path = tmp_path / "photo.png"
    noisy.save(path)
    from promptpaint.display import thumbnail

    mime, data = thumbnail(path)
    assert mime == "image/jpeg" and len(data) < 16_000  # twice in the output (HTML + image) < 50 KB
    assert Image.open(io.BytesIO(data)).size == (256, 171)


def test_a_chat_shows_its_turns_as_a_strip_with_prompts():
    chat = pp.Client("offline").chat()
    chat.send("a cat on a windowsill")
    chat.send("now <b>rain</b> & wind")
    page = chat._repr_mimebundle_()["text/html"]
    pictures = _pictures(page)
    assert [alt for _, _, alt in pictures] == ["a cat on a windowsill", "now <b>rain</b> & wind"]
    assert all(max(im.size) <= 128 for _, im, _ in pictures)
    assert "2. now &lt;b&gt;rain&lt;/b&gt; &amp; wind" in page and "<b>rain" not in page
    assert chat._repr_mimebundle_()["text/plain"].splitlines()[0] == "1. a cat on a windowsill (offline)"


def test_the_ledger_shows_calls_and_cost_today_all_time_and_unknown(fake):
    client = pp.Client("gemini", model="gemini-3.1-flash-image", api_key=GEMINI_KEY,
                       base_url=fake.gemini_base)
    paid = client.generate("a fox").cost + client.generate("a hen").cost
    pp.Client("offline").generate("free")
    text = pp.ledger()._repr_mimebundle_()["text/plain"].splitlines()
    assert paid > 0 and text == [f"Today: 3 calls, {money.format(paid)}", f"All time: 3 calls, {money.format(paid)}"]
    assert "<table" in pp.ledger()._repr_mimebundle_()["text/html"]
    # An answer with no usage (a gateway that drops it) is booked at an unknown cost.
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    fake.fault("gemini", "status", code=200, body={"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png.getvalue()).decode()}}]},
        "finishReason": "STOP"}]})
    with pytest.warns(pp.UnknownPriceWarning):
        client.generate("a cow")
    reserved = pp.ledger().entries(1)[0]["reserved"]
    assert reserved > 0
    assert pp.ledger()._repr_mimebundle_()["text/plain"].splitlines()[1:] == [
        f"All time: 4 calls, {money.format(paid)}", f"Unknown cost: 1 call, up to {money.format(reserved)} counted against caps"]


def test_ipython_shows_one_small_picture_not_three(tmp_path):
    """IPython fills in _repr_png_/_repr_jpeg_ beside the bundle: they must not add a second copy."""
    from IPython.core.formatters import DisplayFormatter

    client = pp.Client("offline")
    flat = client.generate("a lighthouse", size="1024x1024")
    assert flat._repr_png_().startswith(b"\x89PNG") and flat._repr_jpeg_() is None
    noisy = Image.merge("RGB", [Image.effect_noise((1024, 1024), 60)] * 3)
    photo = dataclasses.replace(flat, paths=[client.store.put_image(noisy)[1]])
    assert photo._repr_jpeg_().startswith(b"\xff\xd8") and photo._repr_png_() is None
    for result in (flat, photo):
        shown, _ = DisplayFormatter().format(result)
        assert sorted(k for k in shown if k.startswith("image/")) in (["image/png"], ["image/jpeg"])
        assert len(json.dumps(shown)) < 50_000


def test_the_ledger_table_counts_calls_on_every_backend(ledger_at):
    """The ledger a class uses (PostgreSQL) as well as one person's SQLite file."""
    from promptpaint.ledger import Attempt

    any_ledger = pp.ledger()
    row = any_ledger.reserve(Attempt("gemini", "gemini-3.1-flash-image", "generate", "a fox", {}, None),
                             Decimal("0.2"), [])
    any_ledger.settle(row, status="ok", cost=Decimal("0.05"))
    assert any_ledger._repr_mimebundle_()["text/plain"].splitlines() == [
        "Today: 1 call, $0.05", "All time: 1 call, $0.05"]
