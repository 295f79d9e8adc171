"""Past images in a real JupyterLab: a call made before a kernel restart is listed by the new
kernel's Studio (ledger + store on disk) and opens for editing."""

from __future__ import annotations

import json
import time

import pytest

from lab_harness import KERNEL_IDLE, RUN_IN_KERNEL, running_lab

pytestmark = [pytest.mark.lab, pytest.mark.browser]


def notebook(path):
    source = 'import promptpaint as pp\nstudio = pp.Studio("openai", model="gpt-image-2")\nstudio'
    cell = {"cell_type": "code", "metadata": {}, "source": source, "id": "studio-cell", "outputs": [],
            "execution_count": None}
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path.write_text(json.dumps({"cells": [cell], "metadata": kernel, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_past_images_survive_a_kernel_restart_and_open_for_editing(tmp_path, fake, isolated_home, browser):
    with running_lab(tmp_path, fake, isolated_home, notebook(tmp_path / "past.ipynb")) as url:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        kernel = lambda code: page.evaluate(RUN_IN_KERNEL, code)  # noqa: E731
        run_all = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
        try:
            page.goto(url)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate(run_all)
            page.locator(".promptpaint").first.wait_for(timeout=60_000)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            made = kernel("print(studio.generate('a red fox in snow').ids[0])").strip()
            assert len(made) == 64

            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
            time.sleep(1)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate(run_all)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            assert kernel("print(len(studio.turns), studio.image_id == '')").split() == ["0", "True"]

            widget = page.locator(".promptpaint").first
            widget.get_by_role("button", name="Past images").click()
            drawer = widget.get_by_role("region", name="Past images")
            opener = drawer.get_by_role("button", name="Open for editing: a red fox in snow")
            opener.wait_for(timeout=15_000)
            opener.click()
            deadline = time.time() + 15
            while kernel("print(studio.image_id)").strip() != made:
                assert time.time() < deadline, "the opened image never became the current one"
                time.sleep(0.2)
            assert "open" in kernel("print(studio.turns[-1]['kind'])")

            widget.get_by_label("Prompt").fill("give the fox a blue hat")
            widget.get_by_role("button", name="Edit", exact=True).click()
            deadline = time.time() + 30
            while fake.last("openai").path != "/v1/images/edits":
                assert time.time() < deadline, "the edit never reached the provider"
                time.sleep(0.2)
            assert fake.last("openai").form["prompt"] == ["give the fox a blue hat"]
        finally:
            page.screenshot(path=str(tmp_path / "jupyterlab-past.png"), full_page=True)
            context.close()
