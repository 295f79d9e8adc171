"""The kernel side of issue 12 in a real JupyterLab: a reloaded page shows the mask the kernel holds,
and running the Studio's cell again retires the old Studio (JupyterLab's cellId is what tells)."""

from __future__ import annotations

import json
import time

import pytest

from test_jupyterlab import KERNEL_IDLE, RUN_IN_KERNEL, lab  # noqa: F401 - lab is a fixture

pytestmark = [pytest.mark.lab, pytest.mark.browser]

MASK_PAINTED = """(c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;
}"""


def test_reload_shows_the_kernels_mask_and_rerunning_the_cell_retires_the_old_studio(lab, browser, fake, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    kernel = lambda code: page.evaluate(RUN_IN_KERNEL, code)  # noqa: E731
    try:
        page.goto(lab)
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        widget = page.locator(".promptpaint").first
        widget.wait_for(timeout=60_000)
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        # The notebook painted a mask from code, then edited; paint one from code again and check
        # the view shows it without a reload (Python pushes it).
        painted = json.loads(kernel(
            "import json, numpy as np\n"
            "w, h = studio.image_size; m = np.zeros((h, w), dtype=np.uint8); m[h//4:h//2, w//4:w//2] = 1\n"
            "studio.mask = m\nprint(json.dumps(int((np.asarray(studio.mask) > 0).sum())))"))
        canvas = widget.get_by_label("Mask", exact=True)
        page.wait_for_function(f"(c) => ({MASK_PAINTED})(c) === {painted}", arg=canvas.element_handle(), timeout=15_000)

        # Save, reload: the new view asks the kernel for its mask and shows exactly it.
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        time.sleep(1)
        page.reload()
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        widget = page.locator(".promptpaint").first
        widget.wait_for(timeout=60_000)
        canvas = widget.get_by_label("Mask", exact=True)
        page.wait_for_function(f"(c) => ({MASK_PAINTED})(c) === {painted}", arg=canvas.element_handle(), timeout=30_000)
        assert widget.get_by_role("button", name="Clear mask").is_enabled()

        # Run the Studio's cell again: the Studio it made before is retired and refuses to run.
        kernel("_old = studio")
        page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = 1; return window.jupyterapp.commands.execute('notebook:run-cell'); }""")
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        deadline = time.time() + 20
        while "replaced" not in kernel("print(_old.closed, studio is not _old)"):
            assert time.time() < deadline, kernel("print(_old.closed, studio is not _old)")
            time.sleep(0.3)
        calls = len(fake.by_provider("openai"))
        out = kernel("try:\n    _old.generate('a fox')\nexcept Exception as e:\n    print(type(e).__name__, e)")
        assert "replaced by a newer one" in out and len(fake.by_provider("openai")) == calls
    finally:
        page.screenshot(path=str(tmp_path / "jupyterlab-session.png"), full_page=True)
        context.close()
