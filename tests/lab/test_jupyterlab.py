"""End to end in a real JupyterLab: the quickstart, typed into and painted on, against the local
OpenAI stand-in, checked from the kernel. Slow (a server, a kernel, a browser): one round trip."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpers import ROOT
from lab_harness import edit_outcome, hold_the_mask, in_kernel, masked_edit, run_all

pytestmark = [pytest.mark.lab, pytest.mark.browser]


def test_quickstart_generate_paint_edit_in_jupyterlab(lab_server, lab_page, fake):
    url = lab_server(ROOT / "notebooks" / "quickstart.ipynb")
    page = lab_page("jupyterlab.png", viewport={"width": 1280, "height": 1000})
    page.goto(url)
    widget = run_all(page)
    turns = widget.locator("[aria-label^='Turn ']")
    turns.nth(1).wait_for(timeout=30_000)  # the notebook's own generate and edit
    before = turns.count()

    kernel = in_kernel(page)
    assert "openai" in kernel("print(studio.provider)")

    prompt = widget.get_by_label("Prompt")
    prompt.fill("a lighthouse on a cliff")
    fake.streaming.delay = 1.0  # the model "works": previews arrive a second apart
    widget.get_by_role("button", name="Generate", exact=True).click()
    # A streamed preview shows, labelled, before the final image lands (issue 10).
    preview = widget.locator(".pp-preview-label")
    preview.wait_for(state="visible", timeout=30_000)
    assert preview.inner_text().startswith("preview ") and turns.count() == before
    turns.nth(before).wait_for(timeout=30_000)
    fake.streaming.delay = 0.0
    widget.locator(".pp-preview").wait_for(state="hidden", timeout=10_000)  # the final image replaced it
    assert fake.last("openai").json["prompt"] == "a lighthouse on a cliff"
    assert fake.last("openai").json["partial_images"] == 2
    image = widget.locator("img.pp-image")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 1024", arg=image.element_handle())

    canvas = widget.get_by_label("Mask", exact=True)
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.2 + 0.05 * i), box["y"] + box["height"] * 0.3, steps=2)
    page.mouse.up()
    hold_the_mask(kernel)

    masked_edit(widget, fake, "make it night", turns.nth(before + 1))

    check = edit_outcome(kernel)
    assert check["painted"] > 1000
    assert check["outside"] == 0 and check["inside"] > 0.5 * check["painted"]

    # The panel shows cents; the exact figure is in the tooltip.
    all_time = widget.get_by_role("region", name="Cost").locator("dt:text-is('All time') + dd")
    page.wait_for_function(
        "([el, want]) => el.title.startsWith('$') && Number(el.title.slice(1)) === want",
        arg=[all_time.element_handle(), float(check["ledger"])], timeout=30_000)
    assert Decimal(all_time.get_attribute("title").lstrip("$")) == Decimal(check["ledger"]) > 0
