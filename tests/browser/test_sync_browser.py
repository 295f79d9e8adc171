"""Front end ↔ kernel plumbing in a real browser: prompt sync, image fetches that fail or never answer."""

from __future__ import annotations

import pytest

from pp_harness import make_png, turn

pytestmark = pytest.mark.browser


def prompt_saves(widget) -> list[dict]:
    saves = widget.page.evaluate("pp.saves")
    return [s for s in saves if "prompt" in s["state"]]


def test_typing_syncs_the_prompt_once_and_generate_sends_the_text_on_screen(widget):
    page = widget.page
    box = page.get_by_label("Prompt")
    box.press_sequentially("a red fox in the snow", delay=5)
    page.get_by_role("button", name="Generate").click()
    run = widget.wait_sent("run")[0]
    saves = page.evaluate("pp.saves")
    # Before the run went out, the kernel had the whole text: the pending sync was flushed.
    before = [s for s in saves if s["at"] <= page.evaluate("pp.sent.find(m => m.content.kind === 'run').at")]
    assert before and before[-1]["state"]["prompt"] == "a red fox in the snow"
    # The run carries the text too, for hosts that may deliver the trait update after it (marimo).
    assert run["content"] == {"kind": "run", "action": "generate", "prompt": "a red fox in the snow"}
    # One save per pause, not one per keystroke (21 keystrokes here).
    assert len(saves) <= 2


def test_a_kernel_prompt_change_does_not_overwrite_text_still_being_typed(widget):
    page = widget.page
    box = page.get_by_label("Prompt")
    box.press_sequentially("my own words", delay=5)
    widget.set(prompt="an older echo")
    assert box.input_value() == "my own words"
    page.wait_for_function("pp.state.prompt === 'my own words'")


def test_an_error_reply_to_a_fetch_is_shown_and_a_later_render_asks_again(widget):
    page = widget.page
    sha = "ab" * 32
    page.evaluate("([id, e]) => { pp.fetchErrors[id] = e; }", [sha, "The stored file is damaged: it is not an image."])
    widget.set(turns=[turn(1, None, [sha])], current={"turn": 1, "index": 0}, image_id=sha, image_size=[64, 48])
    alert = page.locator(".pp-local-error")
    alert.wait_for(state="visible")
    assert "damaged" in alert.inner_text()
    assert page.locator(".pp-frame.pp-loading").count() == 0
    # The kernel now has the file: showing it again sends a new request and displays it.
    data = make_png(64, 48)
    real = widget.add_image(data)
    page.evaluate("([bad, good]) => { pp.images[`${bad}:f`] = pp.images[`${good}:f`]; }", [sha, real])
    widget.set(image_id="")
    widget.set(image_id=sha)
    page.wait_for_function("() => document.querySelector('.pp-image').naturalWidth === 64")
    full = [m["content"] for m in widget.sent("fetch") if m["content"]["id"] == sha and not m["content"]["thumb"]]
    assert len(full) == 2 and full[0]["request"] != full[1]["request"]
    assert alert.is_hidden()


def test_a_fetch_nobody_answers_times_out_into_a_message(widget):
    page = widget.page
    page.clock.install()
    sha = "cd" * 32  # neither an image nor an error: the harness never answers
    widget.set(turns=[turn(1, None, [sha])], current={"turn": 1, "index": 0}, image_id=sha, image_size=[64, 48])
    widget.wait_sent("fetch")
    page.clock.run_for(31_000)
    alert = page.locator(".pp-local-error")
    alert.wait_for(state="visible")
    assert "did not answer" in alert.inner_text()


def test_random_state_and_messages_from_the_kernel_leave_the_view_working(widget):
    """The other direction: whatever the kernel (or a saved notebook) holds, the view survives."""
    page = widget.page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.evaluate(
        """() => {
        let seed = 7;
        const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
        const big = "x".repeat(100000);
        const junk = (d = 0) => {
          const pool = [null, true, 0, -1, 1e308, NaN, "", big, "<img src=x onerror=alert(1)>", [1, 2], {}];
          if (d < 2) pool.push({ turn: junk(d + 1), index: junk(d + 1) }, [junk(d + 1), junk(d + 1)],
                               { id: junk(d + 1), images: [junk(d + 1)], kind: junk(d + 1), prompt: junk(d + 1) });
          return pool[Math.floor(rnd() * pool.length)];
        };
        const names = Object.keys(pp.state);
        for (let i = 0; i < 300; i++) {
          try {
            if (rnd() < 0.6) pp.pySet({ [names[Math.floor(rnd() * names.length)]]: junk() });
            else pp.pySend({ kind: ["image", "clear_mask", "mask", big, null][Math.floor(rnd() * 5)], id: junk(), request: junk() });
          } catch (e) { window.__fuzzThrows = (window.__fuzzThrows || 0) + 1; }
        }
      }"""
    )
    assert page.evaluate("window.__fuzzThrows || 0") == 0, "a handler threw into the kernel's message loop"
    # Back to sane state from the kernel: the view renders it and its buttons still work.
    from pp_harness import DEFAULT_STATE
    widget.set(**DEFAULT_STATE)
    widget.show_image(320, 240)
    page.get_by_label("Prompt").fill("still working")
    page.get_by_role("button", name="Generate").click()
    assert widget.wait_sent("run")[-1]["content"] == {"kind": "run", "action": "generate", "prompt": "still working"}
    assert errors == []


def kernel_mask_png(width, height, box) -> bytes:
    """The kernel's form of a mask: RGBA, white, alpha 255 inside ``box``."""
    import io

    from PIL import Image

    layer = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    layer.paste((255, 255, 255, 255), box)
    out = io.BytesIO()
    layer.save(out, "PNG")
    return out.getvalue()


def canvas_alpha(page, x, y) -> int:
    return page.evaluate(
        "([x, y]) => document.querySelector('canvas[aria-label=Mask]').getContext('2d').getImageData(x, y, 1, 1).data[3]",
        [x, y],
    )


def test_a_view_opening_on_a_masked_image_shows_the_kernels_mask(widget):
    import base64

    page = widget.page
    page.evaluate("b => { pp.kernelMask = b; }", base64.b64encode(kernel_mask_png(320, 240, (40, 30, 120, 90))).decode())
    widget.set(has_mask=True)  # as after a page reload: the kernel holds a mask, the canvas is new
    widget.show_image(320, 240)
    page.wait_for_function("() => document.querySelector('canvas[aria-label=Mask]').getContext('2d').getImageData(60, 50, 1, 1).data[3] > 0")
    assert canvas_alpha(page, 60, 50) == 255 and canvas_alpha(page, 200, 200) == 0
    assert page.get_by_role("button", name="Clear mask").is_enabled()
    assert widget.sent("mask") == [], "showing the kernel's mask sends nothing back"
    # Clearing it from the view tells the kernel: what is seen is what Edit sends.
    page.get_by_role("button", name="Clear mask").click()
    assert widget.wait_sent("mask")[-1]["buffers"] == []


def test_a_view_without_a_kernel_mask_asks_nothing(widget):
    widget.show_image(320, 240)
    assert widget.sent("fetch_mask") == []
    assert widget.page.get_by_role("button", name="Clear mask").is_disabled()


def test_a_mask_python_sets_appears_in_the_view(widget):
    page = widget.page
    sha = widget.show_image(320, 240)
    widget.send({"kind": "mask", "image_id": sha}, [kernel_mask_png(320, 240, (0, 0, 50, 50))])
    page.wait_for_function("() => document.querySelector('canvas[aria-label=Mask]').getContext('2d').getImageData(10, 10, 1, 1).data[3] > 0")
    assert canvas_alpha(page, 100, 100) == 0
