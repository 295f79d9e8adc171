"""Streamed previews in the real front end: labelled drafts over the viewer while a call runs,
replaced by the final image; the Previews setting writes its trait."""

import io

from PIL import Image


def jpeg(width, height, color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="JPEG")
    return buf.getvalue()


def test_a_preview_shows_before_the_final_image_then_gives_way(widget):
    page = widget.page
    widget.set(status="running", started_at=1.0, models=[{**m, "previews": 3} for m in widget.state("models")])
    widget.send({"kind": "preview", "job": 1, "index": 0, "total": 2, "label": "preview 1 of 2",
                 "mime": "image/jpeg"}, [jpeg(320, 240, (90, 90, 90))])
    preview = page.locator(".pp-preview")
    preview.wait_for(state="visible")
    assert page.locator(".pp-preview-label").inner_text() == "preview 1 of 2"
    assert page.locator(".pp-preview-image").evaluate("i => i.complete && i.naturalWidth") == 320
    assert page.locator(".pp-image").evaluate("i => !i.getAttribute('src')")  # no final image yet
    widget.send({"kind": "preview", "job": 1, "index": 1, "total": 2, "label": "preview 2 of 2",
                 "mime": "image/jpeg"}, [jpeg(320, 240, (120, 120, 120))])
    page.wait_for_function("() => document.querySelector('.pp-preview-label').textContent === 'preview 2 of 2'")
    # The call ends: the final image replaces the preview.
    widget.show_image(320, 240, color=(200, 30, 30))
    widget.set(status="idle", started_at=0.0)
    preview.wait_for(state="hidden")
    assert page.locator(".pp-image").evaluate("i => i.naturalWidth") == 320


def test_a_late_preview_after_the_call_ended_is_not_shown(widget):
    widget.set(status="idle")
    widget.send({"kind": "preview", "job": 1, "index": 0, "total": 2, "label": "preview 1 of 2",
                 "mime": "image/jpeg"}, [jpeg(64, 64, (0, 0, 0))])
    widget.page.wait_for_timeout(100)
    assert widget.page.locator(".pp-preview").is_hidden()


def test_the_previews_setting_is_shown_for_streaming_models_and_writes_its_trait(widget):
    models = [{**m, "previews": 3 if m["provider"] == "openai" else 0} for m in widget.state("models")]
    widget.set(models=models, previews=True, model="gpt-image-2")
    box = widget.page.get_by_label("Previews")
    assert box.is_visible() and box.is_checked()
    box.uncheck()
    widget.page.wait_for_function("() => window.pp.model.get('previews') === false")
    widget.set(model="gemini-3.1-flash-image", provider="gemini")
    assert widget.page.locator(".pp-previews-setting").is_hidden()


def test_markup_strokes_go_on_their_own_layer_in_their_colour_not_into_the_mask(widget):
    page = widget.page
    models = [{**m, "markup": m["id"] == "gpt-image-2"} for m in widget.state("models")]
    widget.set(models=models)
    widget.show_image(640, 480)
    page.get_by_role("button", name="Markup", exact=True).click()
    assert "markup layer" in page.locator(".pp-markup-note").inner_text()   # says which happens
    page.get_by_role("button", name="Blue").click()
    widget.drag([(100, 240), (540, 240)], steps=20)                       # same place as a mask stroke
    [msg] = widget.wait_sent("markup", 1)
    layer = Image.open(io.BytesIO(msg["buffers"][0]))
    assert layer.size == (640, 480) and layer.mode == "RGBA"
    r, g, b, a = layer.getpixel((320, 240))
    assert a == 255 and b > 200 and r < 80                                 # the strokes, in blue
    assert layer.getpixel((320, 40))[3] == 0
    assert widget.sent("mask") == []                                       # never mixed into the mask
    page.get_by_role("button", name="Undo markup").click()
    assert widget.wait_sent("markup", 2)[-1]["buffers"] == []              # its own undo
    widget.drag([(100, 100), (200, 100)])
    widget.wait_sent("markup", 3)
    page.get_by_role("button", name="Clear markup").click()
    assert widget.wait_sent("markup", 4)[-1]["buffers"] == []
    # Markup off: strokes paint the mask again.
    page.get_by_role("button", name="Markup", exact=True).click()
    widget.drag([(100, 240), (540, 240)])
    widget.wait_sent("mask", 1)
