"""Issue 20, the layout at 1366×768, measured from bounding boxes: the image is the largest
thing, drawers open in the wide column, Compare cells are ≥ 160 px with one-line friendly names,
a picked cell stays marked without the page jumping, the history strip shows whole cards, four
results show four thumbnails, and a narrow cell stacks. The page plays the kernel."""

from __future__ import annotations

import copy

import pytest

from pp_harness import DEFAULT_STATE, make_png, turn

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
CELL = 1180
SHOTS = "/tmp/studio-a-shots"
FIGURES: dict = {}


def _area(box):
    return box["width"] * box["height"]


def _compare_state():
    models = copy.deepcopy(DEFAULT_STATE["models"])
    models[0]["params"].insert(1, {"name": "quality", "label": "Quality", "kind": "choice",
                                   "choices": ["low", "medium", "high"], "default": "low"})
    models.append({"id": "gemini-3-pro-image-preview-2026-11", "provider": "openai",
                   "label": "Nano Banana Pro (preview)", "warning": None, "mask": False, "params": []})
    return {"models": models, "prompt": "a fox in snow"}


def _grid(widget, n=6):
    cells, turns = [], []
    for i in range(n):
        model = "gpt-image-2" if i % 2 == 0 else "gemini-3-pro-image-preview-2026-11"
        q = ["low", "medium", "high"][i % 3] if i % 2 == 0 else None
        sha = widget.add_image(make_png(512, 512, (30 * i, 100, 150)), thumb=make_png(64, 64, (30 * i, 100, 150)))
        turns.append(turn(i + 1, None, [sha], kind="compare", model=model, prompt="a fox in snow"))
        label = " · ".join([model] + ([q] if q else []) + ["#1"])
        cells.append({"index": i + 1, "label": label, "provider": "openai", "model": model, "quality": q,
                      "repeat": 1, "status": "ok", "turn": i + 1, "image": sha, "cost": "0.011",
                      "error": None, "message": None})
    widget.set(turns=turns, compare={"running": False, "prompt": "a fox in snow", "calls": n,
                                     "worst_case": "0.5", "cells": cells})
    return cells


def test_wide_the_image_is_the_largest_thing_and_drawers_open_beside_it(widget_factory):
    widget = widget_factory(width=CELL, viewport=LAPTOP, state=_compare_state())
    page = widget.page
    widget.show_image(1024, 1024, turns=[turn(1, None, [widget.add_image(make_png(1024, 1024))])])
    image = page.locator("img.pp-image").bounding_box()
    side = page.locator(".pp-side").bounding_box()
    FIGURES["image"] = (round(image["width"]), round(image["height"]))
    for name, sel in {"side column": ".pp-side", "history": ".pp-history", "toolbar": ".pp-toolbar"}.items():
        assert _area(image) > _area(page.locator(sel).bounding_box()), name
    assert image["y"] + image["height"] <= LAPTOP["height"]

    for button, region in [("Compare", "Compare"), ("Past images", "Past images"), ("Show code", "Code")]:
        page.get_by_role("button", name=button, exact=True).click()
        box = page.get_by_role("region", name=region).bounding_box()
        FIGURES[region] = (round(box["x"]), round(box["y"]), round(box["width"]), round(box["height"]))
        assert box["x"] >= side["x"] + side["width"], f"{region} opens in the wide column"
        assert box["width"] >= 600, f"{region} is {box['width']:.0f} px wide"
        assert box["y"] < LAPTOP["height"] - 200, f"{region} starts at {box['y']:.0f} px, below the fold"
        page.screenshot(path=f"{SHOTS}/drawer-{button.replace(' ', '-').lower()}.png")
        page.get_by_role("button", name=button, exact=True).click()
    assert page.evaluate("document.scrollingElement.scrollHeight") <= LAPTOP["height"] + 1


def test_compare_grid_cells_are_wide_one_line_and_a_pick_stays_marked(widget_factory):
    widget = widget_factory(width=CELL, viewport=LAPTOP, state=_compare_state())
    page = widget.page
    widget.show_image(1024, 1024)
    page.get_by_role("button", name="Compare", exact=True).click()
    cells = _grid(widget)
    panel = page.get_by_role("region", name="Compare")
    page.wait_for_function("document.querySelectorAll('.pp-compare-cell').length === 6")
    page.screenshot(path=f"{SHOTS}/compare-grid.png")
    for i, cell in enumerate(cells, start=1):
        button = panel.locator(f"[data-cell='{i}']")
        box = button.bounding_box()
        assert box["width"] >= 160, box
        label = button.locator(".pp-compare-label")
        one_line = page.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 16",
                                 label.element_handle())
        assert label.bounding_box()["height"] <= one_line * 1.3
        assert cell["model"] in button.get_attribute("title")
    FIGURES["cell"] = round(panel.locator("[data-cell='1']").bounding_box()["width"])
    assert panel.locator("[data-cell='1'] .pp-compare-label").inner_text() == "GPT Image 2 · low · #1"
    assert panel.locator("[data-cell='2'] .pp-compare-label").inner_text().startswith("Nano Banana Pro")

    panel.locator("[data-cell='5']").scroll_into_view_if_needed()
    before = page.evaluate("[document.scrollingElement.scrollTop, document.querySelector('.pp-drawers').scrollTop]")
    panel.locator("[data-cell='5']").click()
    assert widget.state("current") == {"turn": 5, "index": 0}
    page.wait_for_function("document.querySelector('[data-cell=\"5\"]').getAttribute('aria-pressed') === 'true'")
    after = page.evaluate("[document.scrollingElement.scrollTop, document.querySelector('.pp-drawers').scrollTop]")
    assert after == before, "the page did not jump"
    assert page.get_by_role("region", name="Compare").is_visible()
    assert [panel.locator(f"[data-cell='{i}']").get_attribute("aria-pressed") for i in range(1, 7)] == [
        "false", "false", "false", "false", "true", "false"]


def test_history_strip_shows_whole_first_and_last_cards(widget_factory):
    widget = widget_factory(width=CELL, viewport=LAPTOP)
    page = widget.page
    shas = [widget.add_image(make_png(256, 256, (20 * i, 80, 90)), thumb=make_png(32, 32)) for i in range(12)]
    turns = [turn(i + 1, i or None, [sha]) for i, sha in enumerate(shas)]
    widget.show_image(256, 256, turns=turns[:1])
    strip = page.locator(".pp-history-strip")
    first = page.get_by_role("listitem", name="Turn 1", exact=True).bounding_box()
    box = strip.bounding_box()
    assert first["x"] >= box["x"] and first["x"] + first["width"] <= box["x"] + box["width"]
    widget.set(turns=turns, current={"turn": 12, "index": 0})
    page.wait_for_timeout(100)
    box = strip.bounding_box()
    last = page.get_by_role("listitem", name="Turn 12", exact=True).bounding_box()
    assert last["x"] >= box["x"] and last["x"] + last["width"] <= box["x"] + box["width"] + 0.5, (last, box)
    # No card hangs half off either edge.
    for i in range(1, 13):
        c = page.get_by_role("listitem", name=f"Turn {i}", exact=True).bounding_box()
        inside = c["x"] >= box["x"] - 0.5 and c["x"] + c["width"] <= box["x"] + box["width"] + 0.5
        outside = c["x"] + c["width"] <= box["x"] + 0.5 or c["x"] >= box["x"] + box["width"] - 0.5
        assert inside or outside, f"turn {i} is cut: {c} in {box}"
    page.evaluate("document.querySelector('.pp-history-strip').scrollLeft = 0")
    first = page.get_by_role("listitem", name="Turn 1", exact=True).bounding_box()
    assert first["x"] >= box["x"], (first, box)


def test_four_results_show_four_whole_thumbnails(widget_factory):
    widget = widget_factory(width=CELL, viewport=LAPTOP)
    page = widget.page
    shas = [widget.add_image(make_png(1024, 1024, (50 * i, 90, 90)), thumb=make_png(128, 128, (50 * i, 90, 90)))
            for i in range(4)]
    widget.show_image(1024, 1024, turns=[turn(1, None, shas)])
    page.wait_for_function("document.querySelectorAll('.pp-choice img').length === 4"
                           " && [...document.querySelectorAll('.pp-choice img')].every(i => i.naturalWidth > 0)")
    row = page.get_by_role("group", name="Results").bounding_box()
    for i in range(1, 5):
        b = page.get_by_role("button", name=f"Result {i} of 4").bounding_box()
        assert b["x"] >= row["x"] and b["x"] + b["width"] <= row["x"] + row["width"] + 0.5, i
        assert b["y"] + b["height"] <= LAPTOP["height"], f"result {i} ends at {b['y'] + b['height']:.0f}"
    page.screenshot(path=f"{SHOTS}/four-results.png")


def test_narrow_cell_stacks_cleanly(widget_factory):
    widget = widget_factory(width=640, viewport={"width": 700, "height": 900}, state=_compare_state())
    page = widget.page
    widget.show_image(1024, 768)
    side = page.locator(".pp-side").bounding_box()
    main = page.locator(".pp-main").bounding_box()
    assert main["y"] >= side["y"] + side["height"] - 1, "image under the settings"
    assert abs(main["width"] - side["width"]) < 2
    page.get_by_role("button", name="Compare", exact=True).click()
    _grid(widget, 4)
    compare = page.get_by_role("region", name="Compare").bounding_box()
    assert compare["width"] <= 640 + 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 700
    page.screenshot(path=f"{SHOTS}/narrow.png", full_page=True)


def test_zz_print_figures():
    print("layout figures at 1366x768:", FIGURES)
