"""gpt-image-2.6's SVG and GIF answers in the widget: an SVG is an image (``<img src=blob:>``), never
markup, so its scripts cannot run; a GIF keeps its frames."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from pp_harness import turn

pytestmark = pytest.mark.browser

HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" onload="window.__ppSvgOnload = 1">'
    b'<script>window.__ppSvgScript = 1; parent.__ppSvgScript = 1;</script>'
    b'<rect width="320" height="200" fill="#c03030"/>'
    b'<image href="x" onerror="window.__ppSvgOnerror = 1"/></svg>'
)


def show(widget, data: bytes, mime: str, size) -> str:
    sha = widget.add_image(data, thumb=data, mime=mime)
    turns = [turn(1, None, [sha], model="gpt-image-2.6-sunburst")]
    widget.set(turns=turns, current={"turn": 1, "index": 0}, image_id=sha, image_size=list(size))
    widget.page.wait_for_function(
        "w => { const i = document.querySelector('.pp-image'); return i && i.complete && i.naturalWidth === w; }",
        arg=size[0])
    return sha


def test_an_svg_with_scripts_is_shown_as_an_image_and_nothing_in_it_runs(widget):
    show(widget, HOSTILE_SVG, "image/svg+xml", (320, 200))
    page = widget.page
    img = page.locator(".pp-image")
    assert img.evaluate("i => i.src").startswith("blob:")
    page.wait_for_timeout(300)  # give an onload or a script every chance to run
    ran = page.evaluate("() => [window.__ppSvgOnload, window.__ppSvgScript, window.__ppSvgOnerror]")
    assert ran == [None, None, None]
    # never inserted as markup: no element of the SVG is in the page
    assert page.evaluate("() => document.querySelectorAll('svg rect[fill=\"#c03030\"], svg script').length") == 0
    # it is drawn: the image has the SVG's red pixels
    pixel = img.evaluate(
        """i => { const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
        const x = c.getContext('2d'); x.drawImage(i, 0, 0); return Array.from(x.getImageData(100, 100, 1, 1).data); }""")
    assert pixel[:3] == [192, 48, 48]


def test_a_gif_is_shown_as_itself_so_it_animates(widget):
    frames = [Image.new("RGB", (96, 64), c) for c in ("red", "blue", "green")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    data = buf.getvalue()
    show(widget, data, "image/gif", (96, 64))
    src = widget.page.locator(".pp-image").evaluate("i => i.src")
    got = widget.page.evaluate(
        "async u => { const b = await (await fetch(u)).arrayBuffer(); return [btoa(String.fromCharCode(...new Uint8Array(b))),"
        " (await (await fetch(u)).blob()).type]; }", src)
    assert base64.b64decode(got[0]) == data and got[1] == "image/gif"


def test_the_error_card_of_a_gone_model_puts_its_successor_in_the_model_picker(widget_factory):
    widget = widget_factory(state={"model": "gpt-image-1-mini"})
    widget.set(error={"kind": "ModelUnavailable", "title": "Model not available",
                      "message": "OpenAI does not serve gpt-image-1-mini (any more, or not to this key).",
                      "hint": "Use gpt-image-2 instead.", "successor": "gpt-image-2"})
    button = widget.page.get_by_role("button", name="Use gpt-image-2")
    button.click()
    widget.wait_state("model", "gpt-image-2")
    assert widget.page.get_by_label("Model").input_value() == "gpt-image-2"
    assert widget.page.locator(".pp-error").is_hidden()


def test_no_successor_button_for_a_model_the_picker_does_not_offer(widget):
    widget.set(error={"kind": "ModelUnavailable", "title": "Model not available", "message": "gone",
                      "successor": "gpt-image-9"})
    widget.page.locator(".pp-error").wait_for()
    assert widget.page.locator(".pp-use-successor").is_hidden()
