"""Issue 20, the large viewer at 1366×768: click to zoom (fit ↔ 100 %), drag to pan, before/after
for an edit, two images side by side — measured from bounding boxes and screen pixels."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pp_harness import make_png, turn

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
CELL = 1180
SHOTS = "/tmp/studio-a-shots"
RED, GREEN, BLUE = (220, 30, 30), (30, 200, 60), (30, 60, 220)


def _setup(widget_factory):
    widget = widget_factory(width=CELL, viewport=LAPTOP)
    before = widget.add_image(make_png(1024, 1024, RED), thumb=make_png(64, 64, RED))
    other = widget.add_image(make_png(1024, 1024, BLUE), thumb=make_png(64, 64, BLUE))
    data = make_png(1024, 1024, GREEN)
    after = widget.add_image(data, thumb=make_png(64, 64, GREEN))
    widget.show_image(1024, 1024, color=GREEN, turns=[
        turn(1, None, [before]), turn(2, None, [other], kind="compare"), turn(3, 1, [after], kind="edit")])
    widget.page.get_by_role("button", name="View", exact=True).click()
    dialog = widget.page.get_by_role("dialog", name="Viewer")
    dialog.wait_for(state="visible")
    widget.page.wait_for_function("document.querySelector('.pp-lb-img').naturalWidth === 1024")
    return widget, dialog


def _pixel(page, x, y):
    shot = Image.open(io.BytesIO(page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1}))).convert("RGB")
    return shot.getpixel((0, 0))


def _near(a, b, tol=12):
    return all(abs(p - q) <= tol for p, q in zip(a, b))


def test_click_zooms_to_100_percent_drag_pans_and_click_fits_again(widget_factory):
    widget, dialog = _setup(widget_factory)
    page = widget.page
    box = dialog.bounding_box()
    widget_box = page.locator(".promptpaint").bounding_box()
    assert box["width"] >= widget_box["width"] - 2, "the viewer uses the whole widget"
    pane = page.get_by_label("Zoomed image")
    p = pane.bounding_box()
    img = page.locator(".pp-lb-img").first
    fit = img.bounding_box()
    assert fit["width"] <= p["width"] + 0.5 and fit["height"] <= p["height"] + 0.5
    assert fit["height"] >= p["height"] - 1 or fit["width"] >= p["width"] - 1, "fit fills one axis"
    assert "Fit" in dialog.inner_text()
    page.screenshot(path=f"{SHOTS}/viewer-fit.png")

    page.mouse.click(p["x"] + p["width"] / 2, p["y"] + p["height"] / 2)
    full = img.bounding_box()
    assert abs(full["width"] - 1024) < 1 and abs(full["height"] - 1024) < 1
    assert page.get_by_role("button", name="100 %").get_attribute("aria-pressed") == "true"
    page.mouse.move(p["x"] + 300, p["y"] + 200)
    page.mouse.down()
    page.mouse.move(p["x"] + 200, p["y"] + 150, steps=5)
    page.mouse.up()
    moved = img.bounding_box()
    # Taller than the pane: the drag moves it up; narrower than the pane: it stays centred.
    assert p["height"] < 1024 < p["width"]
    assert abs((moved["y"] - full["y"]) + 50) < 1 and abs(moved["x"] - full["x"]) < 1
    page.mouse.click(p["x"] + 50, p["y"] + 50)
    assert abs(img.bounding_box()["width"] - fit["width"]) < 1
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog", name="Viewer").count() == 0


def test_before_after_slider_shows_the_source_left_and_the_result_right(widget_factory):
    widget, dialog = _setup(widget_factory)
    page = widget.page
    page.get_by_role("button", name="Before/after").click()
    page.wait_for_function("document.querySelector('.pp-lb-before').naturalWidth === 1024")
    shown = page.locator(".pp-lb-img").first.bounding_box()
    y = shown["y"] + shown["height"] / 2
    left, right = shown["x"] + shown["width"] * 0.25, shown["x"] + shown["width"] * 0.75
    assert _near(_pixel(page, left, y), RED) and _near(_pixel(page, right, y), GREEN)
    page.screenshot(path=f"{SHOTS}/viewer-before-after.png")
    page.get_by_label("Before/after", exact=True).fill("0")
    assert _near(_pixel(page, left, y), GREEN)
    page.get_by_label("Before/after", exact=True).fill("100")
    assert _near(_pixel(page, right, y), RED)


def test_two_images_side_by_side(widget_factory):
    widget, dialog = _setup(widget_factory)
    page = widget.page
    page.get_by_label("Side by side with").select_option(label="#2 compare · prompt 2")
    second = page.get_by_label("Second image")
    second.wait_for(state="visible")
    page.wait_for_function("[...document.querySelectorAll('.pp-lb-img')].every(i => i.hidden || i.naturalWidth === 1024)")
    a, b = page.get_by_label("Zoomed image").bounding_box(), second.bounding_box()
    assert b["x"] >= a["x"] + a["width"] - 1 and abs(a["y"] - b["y"]) < 1
    assert a["width"] >= 0.4 * dialog.bounding_box()["width"] and abs(a["width"] - b["width"]) < 2
    imgs = page.locator(".pp-lb-img:not([hidden])")
    first_img, other_img = imgs.nth(0).bounding_box(), imgs.nth(1).bounding_box()
    mid = lambda r: (r["x"] + r["width"] / 2, r["y"] + r["height"] / 2)  # noqa: E731
    assert _near(_pixel(page, *mid(first_img)), GREEN) and _near(_pixel(page, *mid(other_img)), BLUE)
    page.screenshot(path=f"{SHOTS}/viewer-side-by-side.png")
