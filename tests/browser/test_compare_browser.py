"""The Compare panel in a real browser: pick qualities, see the kernel's estimate, run, and pick a
cell of the grid as the image to edit. The page plays the kernel (harness.html)."""

from __future__ import annotations

import copy

import pytest

from pp_harness import DEFAULT_STATE, make_png, turn

pytestmark = pytest.mark.browser


def with_quality():
    models = copy.deepcopy(DEFAULT_STATE["models"])
    models[0]["params"].insert(1, {"name": "quality", "label": "Quality", "kind": "choice",
                                   "choices": ["low", "medium", "high", "auto"], "default": "auto"})
    return {"models": models, "prompt": "a fox in snow"}


def test_compare_two_qualities_run_see_the_grid_and_pick_a_cell_to_edit(widget_factory):
    widget = widget_factory(width=900, state=with_quality())
    page = widget.page
    button = page.get_by_role("button", name="Compare", exact=True)
    assert page.get_by_role("region", name="Compare").count() == 0, "closed: not in the document"
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    panel = page.get_by_role("region", name="Compare")
    # The current model is picked; Gemini has no key, so it is not offered.
    assert panel.get_by_label("GPT Image 2", exact=True).is_checked()
    assert panel.get_by_label("Gemini 3.1 Flash Image").count() == 0
    panel.get_by_label("low").check()
    panel.get_by_label("high").check()
    asked = widget.wait_sent("compare_estimate", 2)[-1]["content"]
    assert {k: asked[k] for k in ("models", "qualities", "repeats")} == {
        "models": ["gpt-image-2"], "qualities": ["low", "high"], "repeats": 1}
    cells = [{"index": i + 1, "label": f"gpt-image-2 · {q} · #1", "provider": "openai", "model": "gpt-image-2",
              "quality": q, "repeat": 1} for i, q in enumerate(["low", "high"])]
    widget.send({"kind": "compare_estimate", "request": asked["request"], "cells": cells, "calls": 2,
                 "worst_case": "0.2654"})
    assert "2 calls, at most $0.2654" in panel.inner_text()

    panel.get_by_role("button", name="Run", exact=True).click()
    run = widget.wait_sent("compare")[-1]["content"]
    assert run == {"kind": "compare", "models": ["gpt-image-2"], "qualities": ["low", "high"], "repeats": 1,
                   "prompt": "a fox in snow"}
    # The kernel runs it: two turns of kind "compare", and the grid with each cell's cost.
    shas = [widget.add_image(make_png(256, 256, (200, 40 * i, 0)), thumb=make_png(32, 32, (200, 40 * i, 0)))
            for i in range(2)]
    turns = [turn(i + 1, None, [sha], kind="compare", prompt="a fox in snow", params={"quality": q, "size": "1024x1024"},
                  cost=c) for i, (sha, q, c) in enumerate(zip(shas, ["low", "high"], ["0.0105", None]))]
    widget.set(turns=turns, compare={"running": False, "prompt": "a fox in snow", "calls": 2, "worst_case": "0.2654",
                                     "cells": [{**cell, "status": "ok", "turn": t["id"], "image": t["images"][0],
                                                "cost": t["cost"], "error": None, "message": None}
                                               for cell, t in zip(cells, turns)]})
    first = panel.get_by_role("listitem", name="Cell 1: gpt-image-2 · low · #1")
    second = panel.get_by_role("listitem", name="Cell 2: gpt-image-2 · high · #1")
    assert "$0.0105" in first.inner_text() and "unknown" in second.inner_text()
    page.wait_for_function("() => [...document.querySelectorAll('.pp-compare-thumb')].every(i => i.complete && i.naturalWidth === 32)")

    second.click()
    assert widget.state("current") == {"turn": 2, "index": 0}
    assert widget.state("params")["quality"] == "high" and widget.state("model") == "gpt-image-2"
    # Issue 20: the grid stays open with the picked cell marked, so the next pick is a click away.
    assert button.get_attribute("aria-expanded") == "true"
    page.wait_for_function("document.querySelector('[data-cell=\"2\"]').getAttribute('aria-pressed') === 'true'")
    assert panel.locator("[data-cell='1']").get_attribute("aria-pressed") == "false"
