"""The shipped marimo notebook in a real `marimo edit` server, driven in Chromium: type, Generate, see
the picture, paint, Edit; then, from the ledger and the image store on disk, only painted pixels
changed. marimo shows the widget through its own anywidget bridge (no _repr_mimebundle_, buffers as
DataView), so this is the check that the front end and the protocol hold there too."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest
from PIL import ImageChops

from servers import free_port, running
from helpers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.marimo]


@pytest.fixture
def marimo_server(tmp_path, isolated_home):
    pytest.importorskip("marimo")
    work = tmp_path / "work"
    work.mkdir()
    # marimo edit saves the notebook it serves: give it a copy.
    shutil.copy(ROOT / "notebooks" / "quickstart_marimo.py", work / "quickstart_marimo.py")
    # A home of its own: no user configuration leaks in, and the cells run on open, as they do for
    # a user who has turned that on (otherwise the test would press "Run all").
    (work / ".marimo.toml").write_text("[runtime]\nauto_instantiate = true\n")
    port = free_port()
    env = dict(os.environ, HOME=str(work), XDG_CONFIG_HOME=str(work / ".config"),
               PROMPTPAINT_HOME=str(isolated_home), PROMPTPAINT_PROVIDER="offline",
               MARIMO_SKIP_UPDATE_CHECK="1")
    base = f"http://127.0.0.1:{port}"
    with running(
        [sys.executable, "-m", "marimo", "edit", "quickstart_marimo.py", "--headless", "--no-token",
         "--host", "127.0.0.1", "-p", str(port)],
        ready_url=f"{base}/health", log=tmp_path / "marimo.log", env=env, cwd=work, name="marimo",
    ):
        yield base


# The picture the page shows, read back from the <img>, so "drawn" means decoded and on the page.
SHOWS_PIXEL = """([img, x, y, rgb]) => {
  if (!img.complete || !img.naturalWidth) return false;
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return g.getImageData(x, y, 1, 1).data.slice(0, 3).join() === rgb.join();
}"""


def _booked(ledger, prompt: str) -> dict:
    """The ledger row of the call for ``prompt`` once it has settled (the kernel books it on disk)."""
    deadline = time.time() + 30
    while True:
        rows = [r for r in ledger.entries(10) if r["prompt"] == prompt and r["status"] != "reserved"]
        if rows:
            return rows[0]
        assert time.time() < deadline, f"no settled ledger row for {prompt!r}"
        time.sleep(0.2)


def test_generate_paint_edit_in_marimo(browser, marimo_server, isolated_home, tmp_path):
    import promptpaint as pp
    from promptpaint.store import ImageStore

    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    try:
        page.goto(marimo_server)
        widget = page.locator(".promptpaint").first
        widget.wait_for(timeout=90_000)

        widget.get_by_label("Prompt").fill("a lighthouse on a cliff")
        widget.get_by_role("button", name="Generate", exact=True).click()
        turns = widget.locator("[aria-label^='Turn ']")
        turns.nth(0).wait_for(timeout=30_000)
        image = widget.locator("img.pp-image")

        ledger = pp.ledger(isolated_home / "ledger.sqlite3")
        generated = _booked(ledger, "a lighthouse on a cliff")
        assert (generated["kind"], generated["status"]) == ("generate", "ok")
        store = ImageStore(isolated_home / "images")
        before = store.open(generated["images"][0]).convert("RGB")
        assert before.size == (512, 512)
        page.wait_for_function(SHOWS_PIXEL, arg=[image.element_handle(), 256, 256, before.getpixel((256, 256))],
                               timeout=30_000)

        # One horizontal stroke across the middle band of the picture.
        canvas = widget.get_by_label("Mask", exact=True)
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        y = box["y"] + box["height"] * 0.3
        page.mouse.move(box["x"] + box["width"] * 0.2, y)
        page.mouse.down()
        for i in range(1, 11):
            page.mouse.move(box["x"] + box["width"] * (0.2 + 0.05 * i), y, steps=2)
        # marimo posts each widget message to the server, which queues them for the kernel in
        # order: once the mask's post is answered, the Edit that follows finds it there.
        is_mask = lambda r: "set_model_value" in r.url and '"kind":"mask"' in (r.request.post_data or "")  # noqa: E731
        with page.expect_response(is_mask, timeout=10_000):
            page.mouse.up()
        widget.get_by_label("Prompt").fill("make it night")
        widget.get_by_role("button", name="Edit", exact=True).click()
        turns.nth(1).wait_for(timeout=30_000)

        edited = _booked(ledger, "make it night")
        assert edited["status"] == "ok" and edited["kind"] != "generate"
        after = store.open(edited["images"][0]).convert("RGB")
        x, y = 256, round(0.3 * before.height)
        assert after.getpixel((x, y)) != before.getpixel((x, y))
        page.wait_for_function(SHOWS_PIXEL, arg=[image.element_handle(), x, y, after.getpixel((x, y))],
                               timeout=30_000)

        # Only the painted band changed: the brush is 32 screen px wide, drawn in image pixels.
        scale = before.width / box["width"]
        reach = 32 / 2 * scale + 2
        band = (round(0.2 * before.width - reach), round(0.3 * before.height - reach),
                round(0.7 * before.width + reach), round(0.3 * before.height + reach))
        changed = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v else 0)
        outside = changed.copy()
        outside.paste(0, band)
        assert outside.getbbox() is None, f"pixels changed outside the painted band {band}"
        inside = changed.crop(band).histogram()[255]
        assert inside > 0.5 * (0.5 * before.width) * (32 * scale)

        # The history shows both turns and the cost panel the ledger's total.
        assert turns.count() == 2
        cost = widget.get_by_role("region", name="Cost")
        assert "$0.00" in cost.locator("dt:text-is('All time') + dd").inner_text()
    finally:
        page.screenshot(path=str(tmp_path / "marimo.png"), full_page=True)
        context.close()
