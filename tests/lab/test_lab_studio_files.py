"""In a real JupyterLab at 1366×768, against the fake OpenAI (no Gemini key): a provider without a
key says what to set, a reference image added in the widget reaches the provider, Save writes
beside the notebook with a story pp.provenance reads, and resume=True after a kernel restart
reopens this notebook's session while another notebook's starts empty."""

from __future__ import annotations

import json
import time

import pytest

from lab_harness import KERNEL_IDLE, RUN_IN_KERNEL, running_lab

pytestmark = [pytest.mark.lab, pytest.mark.browser]


def notebook(path, source):
    cell = {"cell_type": "code", "metadata": {}, "source": source, "id": "studio-cell", "outputs": [],
            "execution_count": None}
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path.write_text(json.dumps({"cells": [cell], "metadata": kernel, "nbformat": 4, "nbformat_minor": 5}))
    return path


def until(check, what, timeout=30):
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, what
        time.sleep(0.2)


STUDIO = 'import promptpaint as pp\nstudio = pp.Studio(model="gpt-image-2", resume=True)\nstudio'


def test_no_key_provider_references_save_and_resume_in_two_notebooks(tmp_path, fake, isolated_home, browser):
    from PIL import Image

    ref = tmp_path / "style.png"
    Image.new("RGB", (64, 48), (10, 20, 200)).save(ref)
    with running_lab(tmp_path, fake, isolated_home, notebook(tmp_path / "task1.ipynb", STUDIO)) as url:
        notebook(tmp_path / "work" / "other.ipynb", STUDIO)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        kernel = lambda code: page.evaluate(RUN_IN_KERNEL, code)  # noqa: E731
        run_all = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
        try:
            page.goto(url)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate(run_all)
            widget = page.locator(".promptpaint").first
            widget.wait_for(timeout=60_000)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)

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
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
            time.sleep(1)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate(run_all)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            assert kernel("print(len(studio.turns), studio.image_id != '')").split() == ["1", "True"]
            # ... and another notebook's resume=True starts empty.
            page.goto(url.replace("task1.ipynb", "other.ipynb"))
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate(run_all)
            page.locator(".promptpaint").first.wait_for(timeout=60_000)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            assert kernel("print(len(studio.turns))").strip() == "0"
        finally:
            page.screenshot(path=str(tmp_path / "jupyterlab-studio-files.png"), full_page=True)
            context.close()
