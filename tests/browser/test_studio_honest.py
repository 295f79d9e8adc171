"""Issue 20, honest state, at 1366×768: a view whose kernel is gone says so and runs nothing; a
new image never flashes a broken-image icon; a call's notice goes with the next call; Brush,
Eraser and Markup are one choice of tool, and the markup toolbar is usable and explains itself.
The page plays the kernel (harness.html)."""

from __future__ import annotations

import pytest

from pp_harness import make_png, turn

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
CELL = 1180  # a JupyterLab cell on a 1366 px screen
SHOTS = "/tmp/studio-a-shots"


def _laptop(widget_factory):
    return widget_factory(width=CELL, viewport=LAPTOP)


@pytest.mark.parametrize("how", ["restart", "restart_unmarked", "kernel_status", "comm_close"])
def test_a_view_whose_kernel_is_gone_says_so_and_runs_nothing(widget_factory, how):
    widget = _laptop(widget_factory)
    page = widget.page
    widget.show_image(512, 512)
    generate = page.get_by_role("button", name="Generate", exact=True)
    assert generate.is_enabled()
    if how == "restart":
        # What ipywidgets does on Kernel → Restart: the host gets its class, the model an event.
        page.evaluate("document.getElementById('host').classList.add('jupyter-widgets-disconnected');"
                      "pp.emit('comm_live_update')")
    elif how == "restart_unmarked":
        # anywidget in JupyterLab 4 / Notebook 7: the event comes, the host adds no class.
        page.evaluate("pp.emit('comm_live_update')")
    elif how == "kernel_status":
        # What JupyterLab 4 / Notebook 7 really deliver (tests/lab/test_notebook7.py): the kernel's status.
        page.evaluate("pp.kernelStatus('busy'); pp.kernelStatus('idle')")
        page.wait_for_timeout(100)
        assert page.locator(".pp-lost").is_hidden(), "a busy kernel is not a lost one"
        page.evaluate("pp.kernelStatus('restarting')")
    else:
        page.evaluate("pp.emit('comm:close')")
    banner = page.locator(".pp-lost")
    banner.wait_for(state="visible")
    text = banner.inner_text()
    assert "lost its kernel" in text and "run the cell again" in text
    page.screenshot(path=f"{SHOTS}/lost-{how}.png")
    for control in [generate, page.get_by_role("button", name="Edit", exact=True),
                    page.get_by_label("Prompt"), page.get_by_label("Model"),
                    page.get_by_role("button", name="Brush", exact=True)]:
        assert control.is_disabled()
    # Nothing typed or clicked reaches a kernel that cannot answer.
    before = len(widget.sent())
    page.locator(".pp-layout").click(position={"x": 40, "y": 40}, force=True)
    page.keyboard.type("a fox")
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(400)
    assert [m for m in widget.sent()[before:] if m["content"].get("kind") == "run"] == []
    assert widget.state("prompt") == ""


def test_a_socket_that_comes_back_unfreezes_the_view(widget_factory):
    widget = _laptop(widget_factory)
    page = widget.page
    page.evaluate("document.getElementById('host').classList.add('jupyter-widgets-disconnected');"
                  "pp.emit('comm_live_update')")
    page.locator(".pp-lost").wait_for(state="visible")
    page.evaluate("document.getElementById('host').classList.remove('jupyter-widgets-disconnected');"
                  "pp.emit('comm_live_update')")
    page.locator(".pp-lost").wait_for(state="hidden")
    assert page.get_by_role("button", name="Generate", exact=True).is_enabled()
    assert page.get_by_label("Prompt").is_enabled()


def test_a_new_image_replaces_the_old_one_without_a_broken_frame(widget_factory):
    widget = _laptop(widget_factory)
    page = widget.page
    first = widget.show_image(640, 480, color=(200, 40, 40))
    second = widget.add_image(make_png(800, 600, (40, 200, 40)))
    page.evaluate("pp.fetchDelay = 400")
    # Every frame: is the picture hidden, or an <img> with a src that has not decoded (the icon)?
    page.evaluate("""() => {
      window.bad = []; window.frames_seen = 0; window.watching = true;
      const look = () => {
        const img = document.querySelector('.pp-image');
        const frame = document.querySelector('.pp-frame');
        window.frames_seen++;
        if (frame.hidden || !img.getAttribute('src') || !img.complete || img.naturalWidth === 0)
          window.bad.push({hidden: frame.hidden, src: Boolean(img.getAttribute('src')), w: img.naturalWidth});
        if (window.watching) requestAnimationFrame(look);
      };
      requestAnimationFrame(look);
    }""")
    widget.set(turns=[turn(1, None, [first]), turn(2, 1, [second])], current={"turn": 2, "index": 0},
               image_id=second, image_size=[800, 600])
    page.wait_for_timeout(150)
    # While the new bytes are on their way the old picture stays, dimmed.
    assert page.evaluate("document.querySelector('.pp-image').naturalWidth") == 640
    assert page.locator(".pp-frame.pp-loading").count() == 1
    page.wait_for_function("document.querySelector('.pp-image').naturalWidth === 800"
                           " && !document.querySelector('.pp-frame.pp-loading')")
    page.wait_for_timeout(100)
    page.evaluate("window.watching = false")
    assert page.evaluate("window.frames_seen") > 5
    assert page.evaluate("window.bad") == []
    assert page.evaluate("document.querySelector('canvas[aria-label=Mask]').width") == 800


def test_a_cancelled_note_goes_with_the_next_call(widget_factory):
    widget = _laptop(widget_factory)
    page = widget.page
    note = "Cancelled. If the provider had already started, the call may still be billed."
    widget.set(notice=note)
    shown = page.get_by_role("status").filter(has_text="Cancelled.")
    shown.wait_for(state="visible")
    widget.set(status="running", started_at=1.0)
    shown.wait_for(state="hidden")
    widget.set(status="idle", started_at=0)
    assert page.get_by_text(note).count() == 0 or not page.get_by_text(note).is_visible()
    widget.set(notice="offline stand-in: no key found")  # a new notice shows again
    page.get_by_text("offline stand-in: no key found").wait_for(state="visible")


def _pressed(page):
    names = ["Brush", "Eraser", "Markup"]
    return [n for n in names
            if page.get_by_role("button", name=n, exact=True).get_attribute("aria-pressed") == "true"]


def test_brush_eraser_and_markup_are_one_choice_and_markup_is_usable(widget_factory):
    widget = _laptop(widget_factory)
    page = widget.page
    widget.show_image(1024, 1024)
    assert _pressed(page) == ["Brush"]
    page.get_by_role("button", name="Markup", exact=True).click()
    assert _pressed(page) == ["Markup"]
    bar = page.get_by_role("group", name="Markup tools")
    bar.wait_for(state="visible")
    page.screenshot(path=f"{SHOTS}/markup-toolbar.png")
    for colour in ["Red", "Yellow", "Blue", "White"]:
        box = bar.get_by_role("button", name=colour, exact=True).bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, (colour, box)
    for name in ["Undo markup", "Clear markup"]:
        box = bar.get_by_role("button", name=name, exact=True).bounding_box()
        assert box["height"] <= 32 and box["width"] <= 80, (name, box)
    size = bar.get_by_label("Markup size")
    assert "8 px" in bar.inner_text()
    size.fill("20")
    assert "20 px" in bar.inner_text()
    meaning = bar.get_by_text("not a mask")
    assert meaning.is_visible()
    # Strokes now go to the markup layer, not the mask.
    widget.drag([(200, 200), (400, 400)])
    widget.wait_sent("markup")
    assert widget.sent("mask") == []
    # Brush (button or B key) ends Markup: again one tool looks active.
    page.get_by_role("button", name="Eraser", exact=True).click()
    assert _pressed(page) == ["Eraser"]
    assert not bar.is_visible()
    page.get_by_role("button", name="Markup", exact=True).click()
    page.locator(".promptpaint").focus()
    page.keyboard.press("b")
    assert _pressed(page) == ["Brush"]
