"""In a real JupyterLab at 1366×768, against the fake OpenAI (no Gemini key): a provider without a
key says what to set, a reference image added in the widget reaches the provider, Save writes
beside the notebook with a story pp.provenance reads, and resume=True after a kernel restart
reopens this notebook's session while another notebook's starts empty."""

from __future__ import annotations

import pytest

from lab_harness import KERNEL_IDLE, in_kernel, notebook, restart_and_run_all, run_all, until

pytestmark = [pytest.mark.lab, pytest.mark.browser]

STUDIO = 'import promptpaint as pp\nstudio = pp.Studio(model="gpt-image-2", resume=True)\nstudio'


def test_no_key_provider_references_save_and_resume_in_two_notebooks(lab_server, lab_page, fake, tmp_path):
    from PIL import Image

    ref = tmp_path / "style.png"
    Image.new("RGB", (64, 48), (10, 20, 200)).save(ref)
    url = lab_server(notebook(tmp_path / "task1.ipynb", STUDIO))
    notebook(tmp_path / "work" / "other.ipynb", STUDIO)
    page = lab_page("jupyterlab-studio-files.png")
    kernel = in_kernel(page)
    page.goto(url)
    widget = run_all(page)

    # A provider without a key: the kernel's own words, and the settings stay usable.
    widget.get_by_label("Provider").select_option("gemini")
    card = widget.get_by_role("alert").filter(has_text="No gemini API key")
    card.wait_for(timeout=15_000)
    assert "does not take" not in card.inner_text() and "GEMINI_API_KEY" in card.inner_text()
    assert kernel("print(studio.provider)").strip() == "openai"
    until(lambda: widget.get_by_label("Provider").input_value() == "openai", "the picker went back")
    assert widget.get_by_label("Size", exact=True).is_visible()
    assert widget.get_by_label("Size", exact=True).input_value() == "1024x1024"
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

    # A reference added in the widget goes with the next Generate.
    with page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Add reference").click()
    chooser.value.set_files(str(ref))
    widget.get_by_role("button", name="Remove reference style.png").wait_for(timeout=15_000)
    widget.get_by_label("Prompt").fill("a red fox, coloured like the reference")
    widget.get_by_role("button", name="Generate", exact=True).click()
    until(lambda: fake.requests and fake.last("openai").path == "/v1/images/edits", "no call with the reference")
    assert [d for _, _, d in fake.last("openai").files["image[]"]] == [ref.read_bytes()]
    until(lambda: kernel("print(len(studio.turns))").strip() == "1", "the call never landed")

    # Save: a file beside the notebook, its story inside.
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    widget.get_by_role("button", name="Save", exact=True).click()
    work = tmp_path / "work"
    until(lambda: list(work.glob("a-red-fox-coloured-like-the-reference-*.png")), "nothing saved")
    saved, = work.glob("a-red-fox-coloured-like-the-reference-*.png")
    story = kernel(f"s = pp.provenance({str(saved)!r}); print(s['prompt'], '|', s['kind'], '|', len(s['references']))")
    assert story.strip() == "a red fox, coloured like the reference | generate | 1"

    # Restart: resume=True reopens this notebook's session...
    restart_and_run_all(page)
    assert kernel("print(len(studio.turns), studio.image_id != '')").split() == ["1", "True"]
    # ... and another notebook's resume=True starts empty.
    page.goto(url.replace("task1.ipynb", "other.ipynb"))
    run_all(page)
    assert kernel("print(len(studio.turns))").strip() == "0"
