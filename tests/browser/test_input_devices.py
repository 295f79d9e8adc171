"""Input beyond the mouse: pen and touch on the mask, pasting an image, copying the code panel."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pp_harness import make_png

pytestmark = pytest.mark.browser

W, H = 640, 480
PATH = [(100, 240), (540, 240)]


def to_page(widget, x, y):
    box = widget.canvas_box()
    return box["x"] + x * box["width"] / W, box["y"] + y * box["height"] / H


def path_points(widget, steps=12):
    (x0, y0), (x1, y1) = PATH
    return [to_page(widget, x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(steps + 1)]


def record_pointer_types(page):
    page.evaluate(
        """() => { window.ppPointers = [];
        document.querySelector('canvas[aria-label=Mask]').addEventListener('pointerdown',
          e => window.ppPointers.push([e.pointerType, e.isTrusted])); }"""
    )


def assert_mask_follows_path(widget):
    masks = widget.wait_sent("mask", 1)
    assert len(masks) == 1, "one mask message per stroke"
    mask = masks[0]
    assert mask["content"] == {"kind": "mask"}
    image = Image.open(io.BytesIO(mask["buffers"][0]))
    assert image.format == "PNG"
    assert image.size == (W, H), "the mask is at the image's natural size, not the display size"
    a = np.asarray(image.convert("RGBA"))[:, :, 3]
    for x in range(110, 540, 40):
        assert a[240, x] > 0, f"painted at ({x}, 240)"
    assert a[240, 20] == 0 and a[240, 620] == 0
    assert a[40, 320] == 0 and a[440, 320] == 0
    assert (a > 0).sum() < W * H * 0.3


def test_pen_paints_the_mask(widget):
    page = widget.page
    widget.show_image(W, H)
    record_pointer_types(page)
    cdp = page.context.new_cdp_session(page)
    points = path_points(widget)

    def pen(type_, x, y, buttons=1):
        cdp.send("Input.dispatchMouseEvent", {
            "type": type_, "x": x, "y": y, "button": "left", "buttons": buttons,
            "clickCount": 1, "pointerType": "pen", "force": 0.5,
        })

    pen("mouseMoved", *points[0], buttons=0)
    pen("mousePressed", *points[0])
    for p in points[1:]:
        pen("mouseMoved", *p)
    pen("mouseReleased", *points[-1], buttons=0)
    assert_mask_follows_path(widget)
    assert page.evaluate("window.ppPointers") == [["pen", True]]


def test_touch_paints_the_mask(widget):
    page = widget.page
    widget.show_image(W, H)
    record_pointer_types(page)
    assert page.get_by_label("Mask").evaluate("c => getComputedStyle(c).touchAction") == "none"
    cdp = page.context.new_cdp_session(page)
    points = path_points(widget)

    def touch(type_, pts):
        cdp.send("Input.dispatchTouchEvent", {
            "type": type_, "touchPoints": [{"x": x, "y": y, "id": 1} for x, y in pts],
        })

    touch("touchStart", [points[0]])
    for p in points[1:]:
        touch("touchMove", [p])
    touch("touchEnd", [])
    assert_mask_follows_path(widget)
    assert page.evaluate("window.ppPointers") == [["touch", True]]


PASTE_JS = """([bytes, text]) => {
  const dt = new DataTransfer();
  if (bytes) dt.items.add(new File([new Uint8Array(bytes)], 'image.png', {type: 'image/png'}));
  if (text) dt.setData('text/plain', text);
  const event = new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true});
  const target = document.querySelector('.promptpaint');
  return target.dispatchEvent(event);  // false when the widget claimed (preventDefault) the paste
}"""


def test_paste_image_uploads_and_paste_text_does_not(widget):
    page = widget.page
    data = make_png(30, 20, (10, 200, 90))

    not_claimed = page.evaluate(PASTE_JS, [None, "just words"])
    assert not_claimed, "a text paste is left to the browser"
    page.wait_for_timeout(100)
    assert widget.sent("upload") == []

    not_claimed = page.evaluate(PASTE_JS, [list(data), None])
    assert not not_claimed, "an image paste is claimed"
    upload = widget.wait_sent("upload", 1)
    assert len(upload) == 1
    assert upload[0]["content"] == {"kind": "upload", "name": "image.png"}
    assert upload[0]["buffers"] == [data]


def test_paste_into_prompt_bubbles_to_the_widget(widget):
    """A paste while typing in the prompt still reaches the root listener (it bubbles)."""
    page = widget.page
    data = make_png(8, 8)
    page.get_by_label("Prompt").evaluate(
        """(el, bytes) => { const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'x.png', {type: 'image/png'}));
        el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); }""",
        list(data),
    )
    assert widget.wait_sent("upload", 1)[0]["buffers"] == [data]


def test_copy_button_puts_curl_on_the_clipboard(widget, server_url):
    page = widget.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url.rstrip("/"))
    curl = "curl -H 'Authorization: Bearer $OPENAI_API_KEY' https://example.invalid/v1/images"
    widget.set(code={"curl": curl, "python": "client.images.generate(prompt='fox')"})
    page.get_by_role("button", name="Show code").click()
    panel = page.get_by_role("region", name="Code")
    copy = panel.get_by_role("button", name="Copy").first
    copy.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pp-code button')].some(b => b.textContent === 'Copied')",
        timeout=2000,
    )
    assert page.evaluate("navigator.clipboard.readText()") == curl


def test_copy_button_says_copy_failed_without_permission(widget):
    page = widget.page
    # Make the write fail the way a denied clipboard does, independent of headless permissions.
    page.evaluate(
        "() => { navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError')); }"
    )
    widget.set(code={"curl": "curl https://example.invalid", "python": "x"})
    page.get_by_role("button", name="Show code").click()
    page.get_by_role("region", name="Code").get_by_role("button", name="Copy").first.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pp-code button')].some(b => b.textContent === 'Copy failed')",
        timeout=2000,
    )
