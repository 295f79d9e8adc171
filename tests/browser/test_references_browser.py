"""Reference chips and Save in a real Chromium at 1366×768 (the harness's fake kernel): what the
view sends for each way of adding a reference, what the chips say, and where they sit."""

from pp_harness import make_png

LAPTOP = {"width": 1366, "height": 768}


def test_references_are_added_every_way_shown_as_named_chips_and_removed(widget_factory, tmp_path):
    widget = widget_factory(width=1300, viewport=LAPTOP)
    page = widget.page
    region = page.get_by_role("region", name="References")
    assert region.is_visible()
    first, second = make_png(40, 30, (200, 10, 10)), make_png(30, 40, (10, 200, 10))
    (tmp_path / "cat.png").write_bytes(first)
    (tmp_path / "style.png").write_bytes(second)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add reference").click()
    chooser.value.set_files([str(tmp_path / "cat.png"), str(tmp_path / "style.png")])
    sent = widget.wait_sent("reference", 2)
    assert [(m["content"]["name"], m["buffers"]) for m in sent] == [("cat.png", [first]), ("style.png", [second])]

    # Dropped or pasted onto the region: a reference, not the image to edit.
    page.evaluate(
        """bytes => { const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'}));
        const el = document.querySelector('.pp-references');
        for (const type of ['dragover', 'drop'])
          el.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
        el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); }""",
        list(first),
    )
    sent = widget.wait_sent("reference", 4)
    assert [m["content"]["name"] for m in sent[2:]] == ["dropped.png", "dropped.png"]
    assert widget.sent("upload") == []

    # The kernel's list is what the chips show, each with a thumbnail and a named remove button.
    a, b = widget.add_image(first), widget.add_image(second)
    widget.set(references=[{"id": a, "name": "cat.png"}, {"id": b, "name": "#3"}])
    chips = region.get_by_role("listitem")
    assert chips.count() == 2 and chips.nth(0).inner_text().startswith("cat.png")
    assert "2 reference images" in region.inner_text()
    box = region.bounding_box()
    assert box["y"] + box["height"] <= LAPTOP["height"] and box["x"] >= 0, "the chips are on the first screen"
    for chip in (chips.nth(0), chips.nth(1)):
        assert chip.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    page.get_by_role("button", name="Remove reference #3").click()
    assert widget.wait_sent("remove_reference")[-1]["content"] == {"kind": "remove_reference", "id": b}


def test_use_as_reference_and_save_send_what_the_kernel_needs(widget_factory):
    widget = widget_factory(width=1300, viewport=LAPTOP)
    page = widget.page
    use, save = page.get_by_role("button", name="Use as reference"), page.get_by_role("button", name="Save")
    assert use.is_disabled() and save.is_disabled()  # nothing shown yet
    sha = widget.show_image(640, 480)
    use.click()
    assert widget.wait_sent("reference")[-1]["content"] == {"kind": "reference", "id": sha}
    widget.set(references=[{"id": sha, "name": "#1"}])
    assert use.is_disabled()  # already a reference
    save.click()
    asked = widget.wait_sent("save")[-1]["content"]
    assert asked["kind"] == "save" and isinstance(asked["request"], int)
    widget.send({"kind": "saved", "request": asked["request"], "error": "No folder at /nowhere."})
    page.get_by_text("Could not save the image: No folder at /nowhere.").wait_for()
