"""Jupyter Notebook 7 joins JupyterLab and marimo (issue 20): the quickstart in a real Notebook 7
page at 1366×768 — the layout measured, generate, a rectangle mask painted, edit with pixels
outside the mask unchanged (checked in the kernel), and after a kernel restart the old widget
says so and runs nothing. One server, one kernel, one browser."""

from __future__ import annotations

import pytest

from helpers import ROOT
from lab_harness import edit_outcome, hold_the_mask, in_kernel, masked_edit, restart_kernel, run_all

pytestmark = [pytest.mark.lab, pytest.mark.browser]


def _area(box):
    return box["width"] * box["height"]


def test_quickstart_generate_paint_edit_and_restart_in_notebook_7(lab_server, lab_page, fake, tmp_path):
    url = lab_server(ROOT / "notebooks" / "quickstart.ipynb", app="notebook")
    page = lab_page("notebook7.png")  # a laptop: 1366×768
    page.goto(url)
    widget = run_all(page)
    assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
    turns = widget.locator("[aria-label^='Turn ']")
    turns.nth(1).wait_for(timeout=30_000)  # the notebook's own generate and edit
    before = turns.count()
    kernel = in_kernel(page)
    assert "openai" in kernel("print(studio.provider)")

    widget.scroll_into_view_if_needed()
    image = widget.locator("img.pp-image")
    side = widget.locator(".pp-side").bounding_box()
    assert _area(image.bounding_box()) > _area(side), "the image is the largest thing"
    widget.get_by_role("button", name="Compare", exact=True).click()
    compare = widget.get_by_role("region", name="Compare").bounding_box()
    assert compare["x"] >= side["x"] + side["width"], "the drawer opens in the wide column"
    widget.get_by_role("button", name="Compare", exact=True).click()

    prompt = widget.get_by_label("Prompt")
    prompt.fill("a lighthouse on a cliff")
    widget.get_by_role("button", name="Generate", exact=True).click()
    turns.nth(before).wait_for(timeout=30_000)
    assert fake.last("openai").json["prompt"] == "a lighthouse on a cliff"
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 1024", arg=image.element_handle())

    widget.get_by_role("button", name="Rectangle", exact=True).click()
    box = widget.get_by_label("Mask", exact=True).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=6)
    page.mouse.up()
    hold_the_mask(kernel)
    masked_edit(widget, fake, "make it night", turns.nth(before + 1))
    check = edit_outcome(kernel)
    assert check["painted"] == check["box"] > 50_000, "a filled rectangle"
    assert check["outside"] == 0 and check["inside"] > 0

    # Kernel restart: the old widget says so and runs nothing.
    restart_kernel(page)
    lost = widget.locator(".pp-lost")
    lost.wait_for(state="visible", timeout=30_000)
    assert "run the cell again" in lost.inner_text()
    assert widget.get_by_role("button", name="Generate", exact=True).is_disabled()
    page.screenshot(path=str(tmp_path / "notebook7-restarted.png"))
