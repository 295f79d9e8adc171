"""Issue 20, mask tools at 1366×768: rectangle and lasso beside the brush, zoom and pan while
painting, mask import and export — and still, pixels outside the mask are untouched by an edit on
the offline provider (the rectangle drawn in the browser, the edit run by a real Studio)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from helpers import Front
from pp_harness import turn

import promptpaint as pp

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
CELL = 1180
SHOTS = "/tmp/studio-a-shots"


def _alpha(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA").getchannel("A"))


def _laptop(widget_factory):
    return widget_factory(width=CELL, viewport=LAPTOP)


def test_rectangle_mask_then_an_offline_edit_leaves_every_pixel_outside_untouched(widget_factory):
    studio = pp.Studio("offline")
    front = Front(studio)
    front.run("generate", "a lighthouse at dusk")
    assert studio.error == {}
    _, (source,) = front.fetch(studio.image_id)
    source = bytes(source)
    widget = _laptop(widget_factory)
    sha = widget.add_image(source)
    assert sha == studio.image_id
    w, h = studio.image_size
    widget.set(turns=[turn(1, None, [sha])], current={"turn": 1, "index": 0}, image_id=sha, image_size=[w, h])
    widget.page.wait_for_function("document.querySelector('.pp-image').naturalWidth > 0"
                                  " && !document.querySelector('.pp-frame.pp-loading')")
    widget.page.get_by_role("button", name="Rectangle", exact=True).click()
    assert widget.page.get_by_role("button", name="Rectangle", exact=True).get_attribute("aria-pressed") == "true"
    assert widget.page.get_by_role("button", name="Brush", exact=True).get_attribute("aria-pressed") == "false"
    widget.drag([(100, 120), (300, 260)])
    (mask_msg,) = widget.wait_sent("mask")
    alpha = _alpha(mask_msg["buffers"][0])
    assert alpha.shape == (h, w)
    assert set(np.unique(alpha)) <= {0, 255}, "a rectangle mask has no soft edge"
    ys, xs = np.nonzero(alpha)
    # The box the drag spanned, to within a pixel of the screen-to-image rounding.
    assert abs(xs.min() - 100) <= 2 and abs(xs.max() - 299) <= 2
    assert abs(ys.min() - 120) <= 2 and abs(ys.max() - 259) <= 2
    assert (alpha[ys.min():ys.max() + 1, xs.min():xs.max() + 1] == 255).all(), "filled, not outlined"

    before = np.asarray(studio.image.convert("RGB"))
    front.msg({"kind": "mask"}, [memoryview(mask_msg["buffers"][0])])
    front.run("edit", "make it night")
    assert studio.error == {}
    after = np.asarray(studio.image.convert("RGB"))
    changed = (before != after).any(axis=-1)
    painted = alpha > 0
    assert not changed[~painted].any(), "a pixel outside the rectangle changed"
    assert changed[painted].any()


def test_lasso_masks_the_area_drawn_round(widget_factory):
    widget = _laptop(widget_factory)
    widget.show_image(640, 480)
    widget.page.get_by_role("button", name="Lasso", exact=True).click()
    widget.drag([(100, 100), (400, 100), (250, 400), (100, 100)], steps=20)
    (msg,) = widget.wait_sent("mask")
    alpha = _alpha(msg["buffers"][0])
    assert alpha[200, 250] == 255 and alpha[150, 250] == 255  # inside the triangle
    assert alpha[350, 150] == 0 and alpha[50, 250] == 0 and alpha[300, 380] == 0  # outside
    widget.page.screenshot(path=f"{SHOTS}/lasso.png")


def test_zoom_while_painting_keeps_the_stage_and_paints_where_the_pointer_is(widget_factory):
    widget = _laptop(widget_factory)
    page = widget.page
    widget.show_image(1024, 1024)
    stage = page.locator(".pp-stage").bounding_box()
    fit = widget.canvas_box()
    for _ in range(3):
        page.get_by_role("button", name="Zoom in").click()
    assert "300 %" in page.locator(".pp-paint-zoom").inner_text()
    zoomed = widget.canvas_box()
    assert abs(zoomed["width"] - 3 * fit["width"]) < 2
    assert abs(page.locator(".pp-stage").bounding_box()["height"] - stage["height"]) < 2, "the page does not grow"
    # Pan with Space + drag: the stage scrolls, nothing is painted.
    page.locator(".promptpaint").focus()
    start = page.evaluate("[document.querySelector('.pp-stage').scrollLeft, document.querySelector('.pp-stage').scrollTop]")
    page.keyboard.down(" ")
    page.mouse.move(stage["x"] + 300, stage["y"] + 200)
    page.mouse.down()
    page.mouse.move(stage["x"] + 200, stage["y"] + 120, steps=5)
    page.mouse.up()
    page.keyboard.up(" ")
    end = page.evaluate("[document.querySelector('.pp-stage').scrollLeft, document.querySelector('.pp-stage').scrollTop]")
    assert end[0] - start[0] == pytest.approx(100, abs=2) and end[1] - start[1] == pytest.approx(80, abs=2)
    page.wait_for_timeout(200)
    assert widget.sent("mask") == []
    # A rectangle at 300 %: image pixels come from where the pointer really is.
    page.get_by_role("button", name="Rectangle", exact=True).click()
    box = widget.canvas_box()
    s = box["width"] / 1024
    visible_x = stage["x"] + 40 - box["x"]  # a point inside the stage, in canvas CSS pixels
    visible_y = stage["y"] + 40 - box["y"]
    x0, y0 = visible_x / s, visible_y / s
    widget.drag([(x0, y0), (x0 + 50, y0 + 40)])
    (msg,) = widget.wait_sent("mask")
    ys, xs = np.nonzero(_alpha(msg["buffers"][0]))
    assert abs(xs.min() - x0) <= 2 and abs(xs.max() - (x0 + 50)) <= 2
    assert abs(ys.min() - y0) <= 2 and abs(ys.max() - (y0 + 40)) <= 2
    page.screenshot(path=f"{SHOTS}/zoomed-paint.png")
    for _ in range(3):
        page.get_by_role("button", name="Zoom out").click()
    assert "Fit" in page.locator(".pp-paint-zoom").inner_text()
    assert abs(widget.canvas_box()["width"] - fit["width"]) < 2


def test_import_a_png_mask_and_export_it_back(widget_factory, tmp_path):
    widget = _laptop(widget_factory)
    page = widget.page
    widget.show_image(640, 480)
    grey = Image.new("L", (640, 480), 0)
    grey.paste(255, (50, 60, 250, 160))
    path = tmp_path / "my-mask.png"
    grey.save(path)
    assert page.get_by_role("button", name="Export mask").is_disabled()
    page.locator("input.pp-mask-file").set_input_files(str(path))
    (msg,) = widget.wait_sent("mask")
    alpha = _alpha(msg["buffers"][0])
    assert (alpha > 0).sum() == 200 * 100 and alpha[60:160, 50:250].min() == 255
    page.get_by_role("button", name="Undo", exact=True).wait_for(state="attached")
    assert page.get_by_role("button", name="Undo", exact=True).is_enabled(), "an import can be undone"
    with page.expect_download(timeout=15_000) as info:
        page.get_by_role("button", name="Export mask").click()
    download = info.value
    assert download.suggested_filename == f"mask-{widget.state('image_id')[:8]}.png"
    exported = _alpha(open(download.path(), "rb").read())
    assert (exported == alpha).all()
    # A PNG of another shape is refused in words, and nothing is sent.
    other = tmp_path / "wrong.png"
    Image.new("L", (100, 100), 255).save(other)
    page.locator("input.pp-mask-file").set_input_files(str(other))
    page.get_by_text("the image is 640×480").wait_for()
    assert len(widget.sent("mask")) == 1
