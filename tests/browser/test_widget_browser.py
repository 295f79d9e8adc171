"""The built front end in a real browser: brush, mask export, buttons and panels."""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image

from pp_harness import make_png, turn

pytestmark = pytest.mark.browser


def alpha(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    image.load()
    return np.asarray(image.convert("RGBA"))[:, :, 3]


def last_mask(widget, count) -> dict:
    masks = widget.wait_sent("mask", count)
    assert len(masks) == count, "one mask message per change, never per pointermove"
    return masks[-1]


def test_shows_the_image_python_sent_scaled_down(widget):
    sha = widget.show_image(640, 480, color=(200, 30, 30))
    img = widget.page.locator(".pp-image")
    assert img.evaluate("i => i.naturalWidth") == 640
    assert img.evaluate("i => i.naturalHeight") == 480
    box = img.bounding_box()
    assert box["width"] < 640, "the 600 px widget shows the image smaller than its real size"
    # The pixels are the ones sent: red body, yellow marker at (0, 0).
    pixels = img.evaluate(
        """i => { const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
        const x = c.getContext('2d'); x.drawImage(i, 0, 0);
        return [Array.from(x.getImageData(0, 0, 1, 1).data), Array.from(x.getImageData(300, 200, 1, 1).data)]; }"""
    )
    assert pixels[0][:3] == [255, 255, 0]
    assert pixels[1][:3] == [200, 30, 30]
    fetches = [{k: v for k, v in m["content"].items() if k != "request"} for m in widget.sent("fetch")]
    assert {"kind": "fetch", "id": sha, "thumb": False} in fetches
    assert fetches.count({"kind": "fetch", "id": sha, "thumb": False}) == 1
    canvas = widget.page.get_by_label("Mask")
    assert canvas.evaluate("c => getComputedStyle(c).touchAction") == "none"
    cbox = canvas.bounding_box()
    assert abs(cbox["width"] - box["width"]) < 1 and abs(cbox["height"] - box["height"]) < 1


def test_stroke_sends_one_mask_at_real_size_along_the_path(widget):
    widget.show_image(640, 480)
    assert widget.sent("mask") == []
    widget.drag([(100, 240), (540, 240)], steps=20)
    mask = last_mask(widget, 1)
    assert mask["content"] == {"kind": "mask"}
    image = Image.open(io.BytesIO(mask["buffers"][0]))
    assert image.format == "PNG"
    assert image.size == (640, 480)
    a = alpha(mask["buffers"][0])
    for x in range(110, 540, 40):
        assert a[240, x] > 0, f"painted at ({x}, 240)"
    assert a[240, 20] == 0 and a[240, 620] == 0
    assert a[40, 320] == 0 and a[440, 320] == 0
    assert (a > 0).sum() < 640 * 480 * 0.3
    time.sleep(0.2)
    assert len(widget.sent("mask")) == 1


def test_eraser_removes_paint(widget):
    widget.show_image()
    widget.drag([(100, 240), (540, 240)])
    last_mask(widget, 1)
    widget.page.get_by_role("button", name="Eraser", exact=True).click()
    assert widget.page.get_by_role("button", name="Eraser").get_attribute("aria-pressed") == "true"
    widget.drag([(320, 100), (320, 380)])
    a = alpha(last_mask(widget, 2)["buffers"][0])
    assert a[240, 320] == 0, "erased where the eraser crossed"
    assert a[240, 150] > 0 and a[240, 500] > 0, "paint elsewhere survives"


def test_undo_redo_buttons_and_keys(widget):
    page = widget.page
    widget.show_image()
    undo = page.get_by_role("button", name="Undo")
    redo = page.get_by_role("button", name="Redo")
    assert undo.is_disabled() and redo.is_disabled()
    widget.drag([(100, 100), (540, 100)])
    widget.drag([(100, 380), (540, 380)])
    both = alpha(last_mask(widget, 2)["buffers"][0])
    assert both[100, 320] > 0 and both[380, 320] > 0

    undo.click()
    first = alpha(last_mask(widget, 3)["buffers"][0])
    assert first[100, 320] > 0 and first[380, 320] == 0
    redo.click()
    again = alpha(last_mask(widget, 4)["buffers"][0])
    assert again[380, 320] > 0

    # Keyboard: the widget has focus after painting.
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    empty = last_mask(widget, 6)
    assert empty["buffers"] == [], "undoing back to nothing clears the mask"
    page.keyboard.press("Control+Shift+z")
    assert alpha(last_mask(widget, 7)["buffers"][0])[100, 320] > 0


def test_invert_mask(widget):
    widget.show_image()
    widget.drag([(100, 240), (540, 240)])
    last_mask(widget, 1)
    widget.page.get_by_role("button", name="Invert mask").click()
    a = alpha(last_mask(widget, 2)["buffers"][0])
    assert a.shape == (480, 640)
    assert a[240, 320] == 0
    assert a[20, 20] == 255 and a[460, 620] == 255


def test_clear_sends_mask_without_buffer(widget):
    clear = widget.page.get_by_role("button", name="Clear mask")
    widget.show_image()
    assert clear.is_disabled()
    widget.drag([(100, 240), (540, 240)])
    last_mask(widget, 1)
    clear.click()
    cleared = last_mask(widget, 2)
    assert cleared == {"content": {"kind": "mask"}, "buffers": []}
    assert clear.is_disabled()


def blank_canvas(widget) -> bool:
    return widget.page.evaluate(
        """() => { const c = document.querySelector('canvas[aria-label=Mask]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return false; return true; }"""
    )


def test_kernel_clear_mask_and_new_image_clear_the_layer(widget):
    widget.show_image()
    widget.drag([(100, 240), (540, 240)])
    last_mask(widget, 1)
    assert not blank_canvas(widget)
    widget.send({"kind": "clear_mask"})
    widget.page.wait_for_timeout(100)
    assert blank_canvas(widget)
    assert len(widget.sent("mask")) == 1, "a kernel-side clear is not echoed back"
    assert widget.page.get_by_role("button", name="Undo").is_disabled()

    widget.drag([(100, 240), (540, 240)])
    last_mask(widget, 2)
    widget.show_image(320, 200, color=(0, 200, 0))
    assert blank_canvas(widget)
    size = widget.page.evaluate("() => { const c = document.querySelector('canvas[aria-label=Mask]'); return [c.width, c.height]; }")
    assert size == [320, 200]
    widget.drag([(20, 100), (300, 100)])
    assert Image.open(io.BytesIO(last_mask(widget, 3)["buffers"][0])).size == (320, 200)


def test_brush_size_keys_and_mode_keys(widget):
    page = widget.page
    widget.show_image()
    slider = page.get_by_label("Brush size")
    before = int(slider.input_value())
    page.get_by_label("Mask").click()  # focus the widget; a click paints a dot
    page.keyboard.press("]")
    assert int(slider.input_value()) > before
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert int(slider.input_value()) < before
    page.keyboard.press("e")
    assert page.get_by_role("button", name="Eraser").get_attribute("aria-pressed") == "true"
    page.keyboard.press("b")
    assert page.get_by_role("button", name="Brush", exact=True).get_attribute("aria-pressed") == "true"
    # Typing in the prompt is not a shortcut.
    page.get_by_label("Prompt").fill("")
    page.get_by_label("Prompt").press("e")
    assert page.get_by_role("button", name="Brush", exact=True).get_attribute("aria-pressed") == "true"


def test_generate_button_and_ctrl_enter(widget):
    page = widget.page
    prompt = page.get_by_label("Prompt")
    assert prompt.evaluate("e => e.tagName") == "TEXTAREA"
    prompt.fill("a red fox in snow")
    page.wait_for_function("pp.state.prompt === 'a red fox in snow'")  # synced after a pause
    generate = page.get_by_role("button", name="Generate")
    generate.dblclick()
    assert widget.sent("run")[-1]["content"] == {"kind": "run", "action": "generate", "prompt": "a red fox in snow"}
    assert len(widget.sent("run")) == 1, "a double click pays once"
    assert generate.is_disabled(), "held until the kernel answers"
    widget.set(status="running", started_at=time.time())
    widget.set(status="idle", started_at=0)
    assert generate.is_enabled()
    prompt.press("Control+Enter")
    runs = widget.wait_sent("run", 2)
    assert [r["content"] for r in runs] == [{"kind": "run", "action": "generate", "prompt": "a red fox in snow"}] * 2
    assert prompt.input_value() == "a red fox in snow", "Ctrl+Enter adds no newline"


def test_edit_needs_an_image_and_running_disables_buttons(widget):
    page = widget.page
    edit = page.get_by_role("button", name="Edit")
    generate = page.get_by_role("button", name="Generate")
    assert edit.is_disabled() and generate.is_enabled()
    widget.show_image()
    assert edit.is_enabled()
    edit.click()
    assert widget.sent("run")[-1]["content"]["action"] == "edit"

    widget.set(status="running", started_at=time.time() - 5)
    assert edit.is_disabled() and generate.is_disabled()
    page.get_by_label("Prompt").press("Control+Enter")
    assert len(widget.sent("run")) == 1, "no second paid call while one is running"
    running = page.locator(".pp-running")
    assert running.is_visible()
    assert re.search(r"\b[5-7] s\b", running.inner_text())
    page.get_by_role("button", name="Cancel").click()
    assert widget.sent("cancel")[-1]["content"] == {"kind": "cancel"}
    widget.set(status="idle", started_at=0)
    assert running.is_hidden() and generate.is_enabled()


def test_error_card_shows_message_hint_countdown_not_traceback(widget):
    page = widget.page
    widget.set(error={
        "kind": "RateLimited",
        "message": "OpenAI says: too many requests",
        "hint": "Wait a little, or lower n.",
        "retry_after": 12.0,
        "traceback": "Traceback (most recent call last):\n  File \"x.py\"",
    })
    card = page.get_by_role("alert").filter(has_text="Rate limited")
    text = card.inner_text()
    assert "OpenAI says: too many requests" in text
    assert "Wait a little, or lower n." in text
    assert re.search(r"Retry in 1[12] s", text)
    assert "Traceback" not in page.locator(".promptpaint").inner_text()
    card.get_by_role("button", name="Dismiss").click()
    assert card.is_hidden()
    widget.set(error={"kind": "BudgetExceeded", "title": "Budget exceeded", "retry_after": None,
                      "message": "Top up at https://platform.openai.com/settings/billing.", "hint": ""})
    card = page.locator(".pp-error")
    assert card.is_visible() and card.locator(".pp-error-kind").inner_text() == "Budget exceeded"
    link = card.get_by_role("link")
    assert link.get_attribute("href") == "https://platform.openai.com/settings/billing"
    assert link.get_attribute("rel") == "noopener noreferrer"
    widget.set(error={})
    assert card.is_hidden()


def test_cost_panel_reads_one_money_format_exact_to_the_micro_dollar(widget):
    page = widget.page
    panel = page.get_by_role("region", name="Cost")
    value = lambda label: panel.locator(f"dt:text-is('{label}') + dd")  # noqa: E731
    widget.set(costs={"last": None, "widget": "0", "all_time": "1.2345", "budget_left": None,
                      "estimate": "0.2108", "estimate_typical": "0.0536", "estimate_note": "", "calls": 0})
    assert value("Last call").inner_text() == "—"
    assert value("Next call").inner_text() == "typically $0.0536, at most $0.2108"
    widget.set(costs={"last": "0.0134", "widget": "0.0402", "all_time": "1.2345", "calls": 3,
                      "budget_left": "0.9598", "estimate": None, "estimate_note": "price unknown"})
    assert [value(k).inner_text() for k in ("Last call", "This widget", "All time", "Budget left", "Next call")] == [
        "$0.0134", "$0.0402", "$1.2345", "$0.9598", "unknown"]
    assert value("Last call").get_attribute("title") == "$0.0134"
    assert value("All time").get_attribute("title") == "$1.2345"
    assert "price unknown" in panel.inner_text()
    widget.set(costs={"last": None, "widget": "0.0402", "all_time": "1.2345", "calls": 4,
                      "budget_left": None, "estimate": "0.067", "estimate_note": ""})
    assert value("Last call").inner_text() == "unknown", "a call of unknown cost is never shown as $0"
    assert "Budget left" not in panel.inner_text() and value("Next call").inner_text() == "$0.067"


def test_the_buttons_say_before_the_click_that_the_next_call_would_be_refused(widget):
    page = widget.page
    generate = page.get_by_role("button", name="Generate", exact=True)
    why = "This call could cost up to $0.2373, and this budget of $0.10 has $0.10 left."
    widget.set(costs={"last": None, "widget": "0", "all_time": "0", "budget_left": "0.1", "calls": 0,
                      "estimate": "0.2373", "estimate_note": "", "refused": {"generate": why, "edit": None}})
    assert generate.get_attribute("title") == f"Would be refused: {why}"
    assert why in page.get_by_role("region", name="Cost").inner_text()
    widget.set(costs={"last": None, "widget": "0", "all_time": "0", "budget_left": "0.5", "calls": 0,
                      "estimate": "0.2373", "estimate_note": "", "refused": {"generate": None, "edit": None}})
    assert generate.get_attribute("title").startswith("Generate a new image")


def test_pickers_and_params_follow_the_spec(widget):
    page = widget.page
    model_select = page.get_by_label("Model")
    assert model_select.locator("option").all_inner_texts() == ["GPT Image 2", "GPT Image 1 mini ⚠"]
    assert "(no key)" in page.get_by_label("Provider").inner_text()
    assert page.get_by_label("Size", exact=True).input_value() == "1024x1024"
    seed = page.get_by_label("Seed")
    assert seed.input_value() == "" and seed.is_hidden(), "sampling options wait under More settings"
    assert page.get_by_label("Images").is_visible() and page.get_by_label("Size", exact=True).is_visible()
    more = page.get_by_role("button", name="More settings")
    assert more.get_attribute("aria-expanded") == "false"
    more.click()
    assert seed.is_visible() and more.get_attribute("aria-expanded") == "true"
    assert seed.locator("xpath=..").get_attribute("title").startswith("The same seed and prompt")
    seed.fill("42")
    assert more.inner_text() == "More settings (1 set)"
    widget.wait_state("params", {"size": "1024x1024", "n": 1, "seed": 42})
    seed.fill("")
    widget.wait_state("params", {"size": "1024x1024", "n": 1})
    page.get_by_label("Images").fill("11")
    assert widget.state("params")["n"] == 1, "out of range is not written"
    assert page.get_by_label("Images").get_attribute("aria-invalid") == "true"
    page.get_by_label("Images").fill("1")
    page.get_by_label("Size", exact=True).select_option("1536x1024")
    widget.wait_state("params", {"size": "1536x1024", "n": 1})

    model_select.select_option("gpt-image-1-mini")
    assert widget.state("model") == "gpt-image-1-mini"
    assert widget.state("params") == {"n": 1}
    assert page.get_by_role("note").inner_text() == "⚠ shuts down 2026-12-01"
    page.get_by_label("Provider").select_option("gemini")
    assert widget.state("provider") == "gemini"
    assert widget.state("model") == "gemini-3.1-flash-image"
    assert page.get_by_label("Temperature").input_value() == ""


def test_history_strip_branches_and_click_restores(widget):
    page = widget.page
    a = widget.add_image(make_png(64, 48, (255, 0, 0)), thumb=make_png(16, 12, (255, 0, 0)))
    b = widget.add_image(make_png(64, 48, (0, 255, 0)), thumb=make_png(16, 12, (0, 255, 0)))
    c = widget.add_image(make_png(64, 48, (0, 0, 255)), thumb=make_png(16, 12, (0, 0, 255)))
    turns = [
        turn(1, None, [a], cost="0.0110"),
        turn(2, 1, [b], cost=None, offline=True),
        turn(3, 1, [c], cost="0.0200"),
    ]
    widget.set(turns=turns, current={"turn": 3, "index": 0}, image_id=c, image_size=[64, 48])
    cards = page.get_by_role("listitem")
    assert cards.count() == 3
    texts = cards.all_inner_texts()
    assert "#1" in texts[0] and "$0.011" in texts[0] and "prompt 1" in texts[0]
    assert "offline stand-in" in texts[1] and "↳ from" not in texts[1]
    assert "↳ from #1" in texts[2] and "$0.02" in texts[2]
    assert cards.nth(2).get_attribute("aria-current") == "true"
    page.wait_for_function("() => [...document.querySelectorAll('.pp-turn-thumb')].every(i => i.complete && i.naturalWidth === 16)")
    thumbs = [m["content"] for m in widget.sent("fetch") if m["content"]["thumb"]]
    assert sorted(t["id"] for t in thumbs) == sorted([a, b, c])
    cards.nth(0).click()
    assert widget.state("current") == {"turn": 1, "index": 0}


def test_several_results_side_by_side_click_chooses(widget):
    page = widget.page
    shas = [widget.add_image(make_png(64, 48, (i * 80, 0, 0)), thumb=make_png(16, 12, (i * 80, 0, 0))) for i in range(3)]
    widget.set(turns=[turn(1, None, shas)], current={"turn": 1, "index": 0}, image_id=shas[0], image_size=[64, 48])
    results = page.get_by_role("group", name="Results").get_by_role("button")
    assert results.count() == 3
    assert results.nth(0).get_attribute("aria-pressed") == "true"
    results.nth(2).click()
    assert widget.state("current") == {"turn": 1, "index": 2}


def test_upload_button_drop_and_download(widget, tmp_path):
    page = widget.page
    data = make_png(50, 40)
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload image").click()
    chooser.value.set_files(str(path))
    upload = widget.wait_sent("upload", 1)[-1]
    assert upload["content"] == {"kind": "upload", "name": "photo.png"}
    assert upload["buffers"] == [data]

    # Drag and drop onto the image area.
    page.evaluate(
        """bytes => { const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'}));
        const stage = document.querySelector('.pp-stage');
        for (const type of ['dragenter', 'dragover', 'drop'])
          stage.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true})); }""",
        list(data),
    )
    dropped = widget.wait_sent("upload", 2)[-1]
    assert dropped["content"]["name"] == "dropped.png" and dropped["buffers"] == [data]

    sha = widget.show_image(640, 480)
    with page.expect_download(timeout=15_000) as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == f"prompt-1-{sha[:8]}.png", "named from the prompt"
    saved = tmp_path / "dl.png"
    download.value.save_as(saved)
    assert Image.open(saved).size == (640, 480)


def test_notice_show_code_and_cleanup(widget):
    page = widget.page
    widget.set(notice="offline stand-in: no key found",
               code={"curl": "curl -H 'Authorization: Bearer $OPENAI_API_KEY' https://example.invalid",
                     "python": "client.images.generate(prompt='fox')"})
    assert page.get_by_text("offline stand-in: no key found").is_visible()
    panel = page.get_by_role("region", name="Code")
    assert panel.is_hidden()
    page.get_by_role("button", name="Show code").click()
    assert panel.is_visible()
    pres = panel.locator("pre").all_inner_texts()
    assert "$OPENAI_API_KEY" in pres[0] and "client.images.generate" in pres[1]
    assert panel.get_by_role("button", name="Copy").count() == 2
    widget.set(code={"curl": "curl …", "python": "requests …",
                     "promptpaint": "import promptpaint as pp\n\nclient = pp.Client('openai', model='gpt-image-2')"})
    assert "pp.Client('openai'" in panel.locator("pre").first.inner_text(), "the snippet that runs as pasted comes first"
    assert "keeps the budget and the ledger" in panel.inner_text()

    widget.show_image()
    leftovers = page.evaluate("async () => { await pp.cleanup(); return pp.listenerCount(); }")
    assert leftovers == 0
    assert page.locator(".promptpaint").count() == 0


def test_settings_typed_just_before_generate_reach_the_kernel_before_the_run(widget):
    page = widget.page
    page.get_by_label("Prompt").fill("a fox")
    page.get_by_role("button", name="More settings").click()
    page.get_by_label("Seed").press_sequentially("4242")
    assert page.get_by_role("button", name="More settings").inner_text() == "More settings (1 set)"
    page.get_by_role("button", name="Generate").click()  # at once: no pause for the debounce
    widget.wait_sent("run")
    written = page.evaluate("""() => {
        const run = pp.sent.find(m => m.content.kind === 'run');
        return pp.saves.filter(s => s.at <= run.at).map(s => s.state.params);
    }""")
    assert written[-1] == {"size": "1024x1024", "n": 1, "seed": 4242}, "flushed before the run message"


def test_compare_run_flushes_settings_still_being_typed(widget_factory):
    widget = widget_factory(width=900)
    page = widget.page
    page.get_by_role("button", name="More settings").click()
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_label("Seed").fill("7")
    asked = widget.wait_sent("compare_estimate")[-1]["content"]
    widget.send({"kind": "compare_estimate", "request": asked["request"], "cells": [], "calls": 1, "worst_case": "0.2"})
    page.get_by_role("region", name="Compare").get_by_role("button", name="Run").click()
    widget.wait_sent("compare")
    written = page.evaluate("""() => {
        const run = pp.sent.find(m => m.content.kind === 'compare');
        return pp.saves.filter(s => s.at <= run.at).map(s => s.state.params);
    }""")
    assert written[-1]["seed"] == 7
