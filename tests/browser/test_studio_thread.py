"""Issue 20 at 1366×768: the Thread of the current branch (instruction, the model's reply, the
image, its cost), and a history card or grid cell that OFFERS its prompt instead of overwriting
what the student typed."""

from __future__ import annotations

import pytest

from pp_harness import make_png, turn

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
CELL = 1180
SHOTS = "/tmp/studio-a-shots"


def _branching(widget):
    shas = [widget.add_image(make_png(256, 256, (60 * i, 90, 120)), thumb=make_png(64, 64, (60 * i, 90, 120)))
            for i in range(4)]
    turns = [
        turn(1, None, [shas[0]], prompt="a fox in snow", cost="0.0400"),
        turn(2, 1, [shas[1]], prompt="give it a blue hat", cost=None, text="Here is your fox, now with a hat."),
        turn(3, 1, [shas[2]], prompt="a red scarf instead"),
        turn(4, 2, [shas[3]], prompt="make it night", cost="0.0134"),
    ]
    widget.show_image(256, 256, turns=turns)
    return turns


def test_thread_shows_the_branch_with_replies_images_and_costs(widget_factory):
    widget = widget_factory(width=CELL, viewport=LAPTOP)
    page = widget.page
    _branching(widget)
    page.get_by_role("button", name="Thread", exact=True).click()
    region = page.get_by_role("region", name="Thread")
    side = page.locator(".pp-side").bounding_box()
    box = region.bounding_box()
    assert box["x"] >= side["x"] + side["width"] and box["width"] >= 600, "opens in the wide column"
    items = region.get_by_role("listitem")
    assert items.count() == 3, "turn 3 is another branch"
    texts = [items.nth(i).inner_text() for i in range(3)]
    assert "a fox in snow" in texts[0] and "$0.04" in texts[0]
    assert "give it a blue hat" in texts[1] and "Here is your fox, now with a hat." in texts[1] and "unknown" in texts[1]
    assert "make it night" in texts[2] and "$0.0134" in texts[2]
    assert items.nth(2).get_attribute("aria-current") == "true"
    page.wait_for_function("[...document.querySelectorAll('.pp-thread-thumb')].every(i => i.naturalWidth === 64)")
    thumb = region.locator(".pp-thread-thumb").first.bounding_box()
    assert thumb["width"] >= 100, "images big enough to read the thread by"
    page.screenshot(path=f"{SHOTS}/thread.png")
    region.get_by_role("button", name="Show #1").click()
    assert widget.state("current") == {"turn": 1, "index": 0}
    page.wait_for_function("document.querySelectorAll('.pp-thread-item').length === 1")


def test_a_card_offers_its_prompt_and_never_overwrites_typing(widget_factory):
    widget = widget_factory(width=CELL, viewport=LAPTOP)
    page = widget.page
    _branching(widget)
    box = page.get_by_label("Prompt")
    box.fill("a castle on a hill, my own words")
    page.get_by_role("listitem", name="Turn 2", exact=True).click()
    assert widget.state("current") == {"turn": 2, "index": 0}
    assert box.input_value() == "a castle on a hill, my own words"
    page.wait_for_timeout(400)  # the debounced save of the typing has landed
    assert widget.state("prompt") == "a castle on a hill, my own words"
    offer = page.get_by_role("status").filter(has_text="give it a blue hat")
    assert offer.is_visible()
    page.screenshot(path=f"{SHOTS}/offer.png")
    page.get_by_role("button", name="Use this prompt").click()
    assert box.input_value() == "give it a blue hat"
    widget.wait_state("prompt", "give it a blue hat")
    assert not offer.is_visible()
    # With the box empty the card's prompt simply fills it.
    box.fill("")
    page.wait_for_timeout(400)
    page.get_by_role("listitem", name="Turn 4", exact=True).click()
    assert box.input_value() == "make it night"
    assert page.get_by_role("button", name="Use this prompt").is_hidden()
