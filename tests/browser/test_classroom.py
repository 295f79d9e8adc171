"""Issue 12 in the browser: a laptop screen, the keyboard, which image and prompt, what the
kernel holds, and the Past images drawer. The page plays the kernel (harness.html)."""

from __future__ import annotations

import re
import time

import pytest

from pp_harness import make_png, turn

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def test_prompt_image_edit_and_cost_fit_a_laptop_screen(widget_factory):
    # A JupyterLab cell on a 1366 px screen is about 1180 px wide.
    widget = widget_factory(width=1180, viewport=LAPTOP)
    page = widget.page
    shas = [widget.add_image(make_png(1024, 1024, (i * 60, 90, 120)), thumb=make_png(64, 64)) for i in range(4)]
    turns = [turn(i + 1, i or None, [sha], prompt=f"a fox, take {i + 1}") for i, sha in enumerate(shas)]
    widget.show_image(1024, 1024, turns=turns[:3] + [{**turns[3], "images": [widget.add_image(make_png(1024, 1024))]}])
    widget.set(costs={"last": "0.0536", "widget": "0.2", "all_time": "1.5", "budget_left": "2",
                      "estimate": "0.21", "estimate_typical": "0.05", "estimate_note": "", "calls": 4})
    assert page.evaluate("document.scrollingElement.scrollTop") == 0
    for name, locator in {
        "prompt": page.get_by_label("Prompt"),
        "image": page.locator("img.pp-image"),
        "Edit": page.get_by_role("button", name="Edit", exact=True),
        "cost": page.get_by_role("region", name="Cost"),
        "history": page.get_by_role("region", name="History"),
    }.items():
        box = locator.bounding_box()
        assert box is not None and box["y"] >= 0, name
        assert box["y"] + box["height"] <= LAPTOP["height"], f"{name} ends at {box['y'] + box['height']:.0f} px"
    image = page.locator("img.pp-image").bounding_box()
    assert image["height"] <= 0.6 * LAPTOP["height"] + 1
    assert image["height"] >= 0.45 * LAPTOP["height"], "still a usable painting surface"
    history = page.get_by_role("region", name="History").bounding_box()
    assert history["height"] < 100, "history is a compact strip"


# What JupyterLab's own stylesheet does to every description list inside an output.
JUPYTERLAB_OUTPUT_CSS = """
.jp-OutputArea-output dl, .jp-OutputArea-output dt, .jp-OutputArea-output dd { display: block; }
.jp-OutputArea-output dl { width: 100%; overflow: hidden; padding: 0; margin: 0; }
.jp-OutputArea-output dt { font-weight: bold; float: left; width: 20%; padding: 0; margin: 0; }
.jp-OutputArea-output dd { float: left; width: 80%; padding: 0; margin: 0; }
"""


def test_cost_panel_keeps_its_layout_inside_a_jupyterlab_output(widget_factory):
    widget = widget_factory(width=1180, viewport=LAPTOP)
    page = widget.page
    page.add_style_tag(content=JUPYTERLAB_OUTPUT_CSS)
    page.evaluate("document.getElementById('host').classList.add('jp-OutputArea-output')")
    widget.set(costs={"last": "0.0536", "widget": "0.2", "all_time": "1.5", "budget_left": None,
                      "estimate": "0.21", "estimate_typical": "0.05", "estimate_note": "", "calls": 4})
    panel = page.get_by_role("region", name="Cost")
    last, this = (panel.locator(f"dt:text-is('{k}')").bounding_box() for k in ("Last call", "This widget"))
    assert abs(last["y"] - this["y"]) < 2, "short rows share a line, not one 20%/80% row each"
    value = panel.locator("dt:text-is('Last call') + dd").bounding_box()
    assert value["x"] - (last["x"] + last["width"]) < 12, "each figure sits beside its label"


def test_narrow_cell_stacks_and_keeps_the_image_within_the_window(widget_factory):
    widget = widget_factory(width=600, viewport={"width": 700, "height": 768})
    widget.show_image(1024, 1024)
    page = widget.page
    image = page.locator("img.pp-image").bounding_box()
    prompt = page.get_by_label("Prompt").bounding_box()
    assert image["height"] <= 0.6 * 768 + 1
    assert prompt["y"] + prompt["height"] <= image["y"], "stacked: the prompt comes first"


def ring(locator) -> dict:
    return locator.evaluate(
        """e => { const s = getComputedStyle(e);
        return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), offset: parseFloat(s.outlineOffset),
                color: s.outlineColor, background: s.backgroundColor}; }"""
    )


def test_keyboard_focus_is_visible_on_every_control_including_the_blue_buttons(widget):
    page = widget.page
    widget.show_image()
    page.get_by_label("Provider").focus()
    seen = {}
    for _ in range(40):
        focused = page.locator(":focus")
        if not focused.count() or not focused.evaluate("e => !!e.closest('.promptpaint')"):
            break
        name = focused.evaluate("e => e.getAttribute('aria-label') || e.textContent.trim() || e.tagName")
        r = ring(focused)
        assert r["style"] != "none" and r["width"] >= 2, f"{name} shows no focus ring: {r}"
        seen[name] = r
        page.keyboard.press("Tab")
    for name in ("Provider", "Model", "Prompt", "Generate", "Edit", "More settings", "Brush", "Brush size", "Download"):
        assert name in seen, f"Tab reaches {name} ({sorted(seen)})"
    # On a blue button the ring sits off the edge, so the page colour shows between them.
    assert seen["Generate"]["offset"] >= 2


def test_generate_keeps_focus_while_a_call_runs(widget):
    page = widget.page
    page.get_by_label("Prompt").fill("a fox")
    generate = page.get_by_role("button", name="Generate")
    generate.focus()
    page.keyboard.press("Enter")
    assert len(widget.sent("run")) == 1
    widget.set(status="running", started_at=time.time())
    assert generate.get_attribute("aria-disabled") == "true" and generate.is_disabled()
    assert page.evaluate("document.activeElement.textContent") == "Generate", "focus stayed on Generate"
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    assert len(widget.sent("run")) == 1, "a disabled Generate runs nothing"
    assert ring(generate)["style"] != "none"
    widget.set(status="idle", started_at=0)
    page.keyboard.press("Enter")
    assert len(widget.wait_sent("run", 2)) == 2


def test_brush_size_slider_arrow_keys_and_keys_stay_inside_the_widget(widget):
    page = widget.page
    widget.show_image()
    # What JupyterLab does: notebook shortcuts listen at the document and act on arrows/Enter.
    page.evaluate("window.leaked = []; document.addEventListener('keydown', e => leaked.push(e.key))")
    slider = page.get_by_label("Brush size")
    before = int(slider.input_value())
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    assert int(slider.input_value()) == before + 3
    assert page.locator(".pp-size-value").inner_text() == f"{before + 3} px", "the brush follows the slider"
    page.keyboard.press("ArrowLeft")
    assert int(slider.input_value()) == before + 2
    page.get_by_label("Prompt").press("Shift+Enter")
    assert page.evaluate("leaked") == [], "no key leaks out to the notebook"
    page.get_by_label("Prompt").press("Escape")
    assert page.evaluate("leaked") == ["Escape"], "Escape still reaches the notebook when nothing runs"
    widget.set(status="running", started_at=time.time())
    page.get_by_label("Prompt").press("Escape")
    assert widget.sent("cancel"), "Escape cancels a running call"
    assert page.evaluate("leaked") == ["Escape"]


def test_toolbar_actions_list_their_shortcuts_and_the_shortcuts_work(widget):
    page = widget.page
    widget.show_image()
    toolbar = page.get_by_role("toolbar", name="Brush tools")
    for button in toolbar.get_by_role("button").all():
        assert "(" in (button.get_attribute("title") or ""), f"{button.inner_text()} lists its shortcut"
    assert "[" in page.get_by_label("Brush size").get_attribute("title")
    widget.drag([(100, 240), (540, 240)])
    widget.wait_sent("mask", 1)
    page.keyboard.press("i")
    widget.wait_sent("mask", 2)
    page.keyboard.press("Delete")
    assert widget.wait_sent("mask", 3)[-1]["buffers"] == [], "Delete clears the mask"
    with page.expect_download(timeout=15_000) as download:
        page.keyboard.press("d")
    assert download.value.suggested_filename.startswith("prompt-1-")


def test_caption_cards_and_send_to_edit_restore_prompt_and_settings(widget):
    page = widget.page
    shas = [widget.add_image(make_png(64, 48, (i * 70, 0, 0)), thumb=make_png(16, 12, (i * 70, 0, 0))) for i in range(4)]
    long_prompt = "give the fox a blue hat " * 6
    turns = [
        turn(1, None, [shas[0]], prompt="a fox in the snow", model="gpt-image-2",
             params={"size": "1536x1024", "n": 1, "seed": 7}),
        turn(2, 1, [shas[1], shas[2]], prompt=long_prompt, cost="0.0400", params={"size": "1024x1024", "n": 2}),
        turn(3, 2, [shas[3]], prompt="night", cancelled=True, cost="0.0300"),
        turn(4, 2, [], prompt="something rude", refused=True, cost="0.0010", text="I can't draw that."),
    ]
    widget.set(turns=turns, current={"turn": 2, "index": 1}, image_id=shas[2], image_size=[64, 48],
               prompt="typed later", params={"size": "1024x1024", "n": 1})
    caption = page.locator(".pp-caption")
    assert caption.inner_text().startswith("Editing #2 (image 2 of 2) · edit of #1 · ‘give the fox a blue hat")
    cards = page.get_by_role("listitem")
    card2 = cards.nth(1)
    assert card2.get_attribute("title").split("\n")[1] == long_prompt, "full prompt on hover"
    prompt_box = card2.locator(".pp-turn-prompt").bounding_box()
    line = card2.locator(".pp-turn-prompt").evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert prompt_box["height"] <= 2 * line + 1, "two lines on the card"
    assert "$0.04 · $0.02 each" in card2.inner_text()
    assert "cancelled — billed $0.03" in cards.nth(2).inner_text()
    assert "refused" in cards.nth(3).inner_text()

    cards.nth(0).focus()
    page.keyboard.press("Enter")
    assert widget.state("current") == {"turn": 1, "index": 0}
    assert page.evaluate("document.activeElement.dataset.turn") == "1", "the keyboard keeps its place"
    # Issue 20: "typed later" stays; the card's prompt is offered, its settings come back.
    assert widget.state("prompt") == "typed later"
    assert widget.state("model") == "gpt-image-2" and widget.state("provider") == "openai"
    assert widget.state("params") == {"size": "1536x1024", "n": 1, "seed": 7}
    assert page.get_by_label("Prompt").input_value() == "typed later"
    page.get_by_role("button", name="Use this prompt").click()
    assert page.get_by_label("Prompt").input_value() == "a fox in the snow"
    widget.wait_state("prompt", "a fox in the snow")
    assert page.get_by_label("Size", exact=True).input_value() == "1536x1024"
    widget.set(image_id=shas[0])
    assert caption.inner_text() == "Editing #1 · generated · ‘a fox in the snow’"


def test_retry_status_replaced_banner_and_notice(widget):
    page = widget.page
    widget.show_image()
    widget.set(status="running", started_at=time.time(),
               retry={"title": "Rate limited", "message": "slow down", "delay": 30.0, "attempt": 2,
                      "attempts": 3, "at": time.time()})
    running = page.get_by_role("status").filter(has_text="retrying")
    assert re.search(r"Rate limited — retrying in (29|30) s \(attempt 2 of 3\)", running.inner_text())
    widget.set(retry={})
    assert "Working…" in page.locator(".pp-running").inner_text()
    widget.set(status="idle", started_at=0, closed="replaced")
    banner = page.get_by_role("alert").filter(has_text="replaced")
    assert banner.is_visible()
    generate = page.get_by_role("button", name="Generate")
    edit = page.get_by_role("button", name="Edit", exact=True)
    assert generate.is_disabled() and edit.is_disabled()
    page.get_by_label("Prompt").fill("anything")
    generate.click(force=True)
    page.get_by_label("Prompt").press("Control+Enter")
    assert widget.sent("run") == [], "a replaced Studio starts no call"


def test_past_images_drawer_lists_filters_opens_and_hides(widget):
    page = widget.page
    old = widget.add_image(make_png(64, 64, (255, 0, 0)), thumb=make_png(16, 16, (255, 0, 0)))
    new = widget.add_image(make_png(64, 64, (0, 0, 255)), thumb=make_png(16, 16, (0, 0, 255)))
    button = page.get_by_role("button", name="Past images")
    assert button.get_attribute("aria-expanded") == "false"
    assert page.get_by_label("Images").count() == 1, "the closed drawer shadows no setting's name"
    button.click()
    asked = widget.wait_sent("past", 1)[-1]["content"]
    assert asked == {"kind": "past", "query": "", "request": asked["request"]}
    drawer = page.get_by_role("region", name="Past images")
    assert "Loading" in drawer.inner_text()
    widget.send({"kind": "past", "request": asked["request"], "items": [
        {"id": old, "prompt": "a red barn", "model": "gpt-image-2", "provider": "openai", "cost": "0.0536",
         "at": "2026-11-20T09:15:00Z", "kind": "generate"},
        {"id": new, "prompt": "a blue lake at dawn", "model": "gemini-3.1-flash-image", "provider": "gemini",
         "cost": None, "at": "2026-11-25T18:40:00Z", "kind": "generate"},
    ]})
    items = drawer.get_by_role("listitem")
    assert items.count() == 2
    assert "a blue lake at dawn" in items.nth(0).inner_text(), "newest first"
    first = items.nth(0).inner_text()
    assert "gemini-3.1-flash-image" in first and "unknown" in first and "2026-11-2" in first
    assert "$0.0536" in items.nth(1).inner_text()
    page.wait_for_function("() => [...document.querySelectorAll('.pp-past-thumb')].every(i => i.complete && i.naturalWidth === 16)")
    drawer.get_by_label("Filter").fill("barn")
    assert items.count() == 1 and "a red barn" in items.nth(0).inner_text()
    # ...and the kernel is asked too, since the drawer holds only the newest calls.
    assert widget.wait_sent("past", 2)[-1]["content"]["query"] == "barn"
    drawer.get_by_label("Filter").fill("")
    items.nth(1).get_by_role("button", name="Hide").click()
    hidden = widget.wait_sent("hide_past", 1)[-1]["content"]
    assert (hidden["id"], hidden["query"]) == (old, "")
    assert items.count() == 1
    items.nth(0).get_by_role("button", name="Open").click()
    assert widget.sent("open_past")[-1]["content"] == {"kind": "open_past", "id": new}
    assert drawer.count() == 0 and button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.textContent") == "Past images", "focus is not lost"
    page.keyboard.press("Enter")
    assert drawer.is_visible()
    page.keyboard.press("Escape")
    assert drawer.count() == 0 and page.evaluate("document.activeElement.textContent") == "Past images"
