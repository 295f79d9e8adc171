"""Past images in a real JupyterLab: a call made before a kernel restart is listed by the new
kernel's Studio (ledger + store on disk) and opens for editing."""

from __future__ import annotations

import pytest

from lab_harness import in_kernel, notebook, restart_and_run_all, run_all, until

pytestmark = [pytest.mark.lab, pytest.mark.browser]

STUDIO = 'import promptpaint as pp\nstudio = pp.Studio("openai", model="gpt-image-2")\nstudio'


def test_past_images_survive_a_kernel_restart_and_open_for_editing(lab_server, lab_page, fake, tmp_path):
    url = lab_server(notebook(tmp_path / "past.ipynb", STUDIO))
    page = lab_page("jupyterlab-past.png")
    kernel = in_kernel(page)
    page.goto(url)
    run_all(page)
    made = kernel("print(studio.generate('a red fox in snow').ids[0])").strip()
    assert len(made) == 64

    widget = restart_and_run_all(page)
    assert kernel("print(len(studio.turns), studio.image_id == '')").split() == ["0", "True"]

    widget.get_by_role("button", name="Past images").click()
    drawer = widget.get_by_role("region", name="Past images")
    opener = drawer.get_by_role("button", name="Open for editing: a red fox in snow")
    opener.wait_for(timeout=15_000)
    opener.click()
    until(lambda: kernel("print(studio.image_id)").strip() == made,
          "the opened image never became the current one", timeout=15)
    assert "open" in kernel("print(studio.turns[-1]['kind'])")

    widget.get_by_label("Prompt").fill("give the fox a blue hat")
    widget.get_by_role("button", name="Edit", exact=True).click()
    until(lambda: fake.last("openai").path == "/v1/images/edits", "the edit never reached the provider")
    assert fake.last("openai").form["prompt"] == ["give the fox a blue hat"]
