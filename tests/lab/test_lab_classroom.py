"""Issue 12 in a real JupyterLab: the layout fits a laptop, the brush-size slider takes arrow
keys, a rate-limited call says it is retrying, a reload shows the mask the kernel holds, and a
Studio replaced by re-running its cell refuses to run (Past images after a kernel restart:
test_lab_past.py). One server, one kernel, one browser for all of it: each step needs the state
the previous one left."""

from __future__ import annotations

import pytest

from lab_harness import in_kernel, notebook, run_all, until, widget_after_run

pytestmark = [pytest.mark.lab, pytest.mark.browser]

CELLS = [
    ("markdown", "# A class exercise"),
    ("code", 'import promptpaint as pp\nstudio = pp.Studio("openai", model="gpt-image-2")\nstudio'),
]

MASK_PIXELS = """(root) => { const c = root.querySelector('canvas[aria-label=Mask]');
  if (!c || !c.width) return -1;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""


def test_slider_keys_mask_after_reload_and_replaced_studio(lab_server, lab_page, fake, tmp_path):
    url = lab_server(notebook(tmp_path / "class.ipynb", *CELLS))
    page = lab_page("jupyterlab.png")
    page.on("dialog", lambda dialog: dialog.accept())  # "leave with unsaved changes?"
    kernel = in_kernel(page)
    page.goto(url)
    widget = run_all(page)

    # JupyterLab binds the arrows to "select the cell above/below" in command mode.
    slider = widget.get_by_label("Brush size")
    before = int(slider.input_value())
    active = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
    cell = page.evaluate(active)
    slider.focus()
    for key in ("ArrowUp", "ArrowUp", "ArrowRight", "ArrowDown"):
        page.keyboard.press(key)
    assert int(slider.input_value()) == before + 2
    assert page.evaluate(active) == cell, "the arrows moved the brush size, not the notebook"

    # The provider rate-limits the first attempt: the wait is said, not a silent "Working…".
    fake.fault("openai", "rate_limit", retry_after=4)  # long enough to see on a busy machine
    widget.get_by_label("Prompt").fill("a fox in the snow")
    widget.get_by_role("button", name="Generate", exact=True).click()
    widget.get_by_role("status").filter(has_text="Rate limited — retrying in").wait_for(timeout=10_000)
    assert "(attempt 2 of 3)" in widget.locator(".pp-running").inner_text()
    image = widget.locator("img.pp-image")
    # The call has landed (the image before it was 1024 wide too: painting on it would
    # paint a mask the new image then clears).
    until(lambda: "idle a fox in the snow" in kernel("print(studio.status, studio.history[-1].prompt)"),
          "the rate-limited call never landed")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 1024",
                           arg=image.element_handle(), timeout=30_000)
    # A laptop: with the file browser open, the widget scrolled to, everything a student
    # needs for the next step is inside the notebook's visible area.
    widget.evaluate("el => el.scrollIntoView({block: 'start'})")
    area = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first.bounding_box()
    for name, part in {"prompt": widget.get_by_label("Prompt"), "image": image,
                       "Edit": widget.get_by_role("button", name="Edit", exact=True),
                       "cost": widget.get_by_role("region", name="Cost")}.items():
        b = part.bounding_box()
        assert area["y"] <= b["y"] and b["y"] + b["height"] <= area["y"] + area["height"], \
            f"{name} at {b} is outside the visible notebook {area}"

    box = widget.get_by_label("Mask", exact=True).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5, steps=12)
    page.mouse.up()
    until(lambda: "True" in kernel("print(studio.has_mask)"), "the painted mask never reached the kernel")
    held = int(kernel("import numpy as np; print(int((np.asarray(studio.mask) > 0).sum()))"))
    assert held > 1000
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")

    # Reload: a fresh view of the same Studio must show the mask Edit would use.
    page.reload()
    widget = widget_after_run(page)
    page.wait_for_function(f"(root) => ({MASK_PIXELS})(root) === {held}",
                           arg=widget.element_handle(), timeout=30_000)
    assert widget.get_by_role("button", name="Clear mask").is_enabled()

    # Re-run the cell (a new Studio), reload before saving: the page shows the saved, old one.
    calls = len(fake.by_provider("openai"))
    run_all(page)
    assert "replaced" in kernel("import gc\nprint(sorted({w.closed for w in gc.get_objects()"
                                " if isinstance(w, pp.Studio)}))")
    page.reload()
    old = widget_after_run(page)
    assert old.get_by_role("alert").filter(has_text="replaced").is_visible()
    generate = old.get_by_role("button", name="Generate", exact=True)
    assert generate.get_attribute("aria-disabled") == "true"
    generate.click(force=True)
    old.get_by_label("Prompt").press("Control+Enter")
    kernel("pass")  # a round trip: any run message has been handled by now
    assert len(fake.by_provider("openai")) == calls, "the replaced Studio spent nothing"
