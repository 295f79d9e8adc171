"""Jupyter Notebook 7 joins JupyterLab and marimo (issue 20): the quickstart in a real Notebook 7
page at 1366×768 — the layout measured, generate, a rectangle mask painted, edit with pixels
outside the mask unchanged (checked in the kernel), and after a kernel restart the old widget
says so and runs nothing. One server, one kernel, one browser."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lab_harness import KERNEL_IDLE, RUN_IN_KERNEL, running_lab

pytestmark = [pytest.mark.lab, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def notebook7(tmp_path, fake, isolated_home):
    with running_lab(tmp_path, fake, isolated_home, ROOT / "notebooks" / "quickstart.ipynb", app="notebook") as url:
        yield url


def _area(box):
    return box["width"] * box["height"]


def test_quickstart_generate_paint_edit_and_restart_in_notebook_7(notebook7, browser, fake, tmp_path):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        page.goto(notebook7)
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        widget = page.locator(".promptpaint").first
        widget.wait_for(timeout=60_000)
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        turns = widget.locator("[aria-label^='Turn ']")
        turns.nth(1).wait_for(timeout=30_000)  # the notebook's own generate and edit
        before = turns.count()
        kernel = lambda code: page.evaluate(RUN_IN_KERNEL, code)  # noqa: E731
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
        deadline = time.time() + 30
        while "True" not in kernel("print(studio.has_mask)"):
            assert time.time() < deadline, "the rectangle mask never reached the kernel"
            time.sleep(0.2)
        kernel("_painted = studio.mask; _before = studio.image.convert('RGB')")
        prompt.fill("make it night")
        widget.get_by_role("button", name="Edit", exact=True).click()
        turns.nth(before + 1).wait_for(timeout=30_000)
        sent = fake.last("openai")
        assert sent.path == "/v1/images/edits" and "mask" in sent.files
        check = json.loads(kernel(
            "import json, numpy as np\n"
            "after = np.asarray(studio.image.convert('RGB')); before = np.asarray(_before)\n"
            "m = np.asarray(_painted) > 0; changed = (after != before).any(axis=-1)\n"
            "ys, xs = np.nonzero(m)\n"
            "print(json.dumps({'outside': int((changed & ~m).sum()), 'inside': int((changed & m).sum()),"
            " 'painted': int(m.sum()), 'box': int((xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1))}))"))
        assert check["painted"] == check["box"] > 50_000, "a filled rectangle"
        assert check["outside"] == 0 and check["inside"] > 0

        # Kernel restart: the old widget says so and runs nothing.
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
        lost = widget.locator(".pp-lost")
        lost.wait_for(state="visible", timeout=30_000)
        assert "run the cell again" in lost.inner_text()
        assert widget.get_by_role("button", name="Generate", exact=True).is_disabled()
        page.screenshot(path=str(tmp_path / "notebook7-restarted.png"))
    finally:
        page.screenshot(path=str(tmp_path / "notebook7.png"), full_page=True)
        page.screenshot(path="/tmp/studio-a-shots/notebook7.png")
        context.close()
