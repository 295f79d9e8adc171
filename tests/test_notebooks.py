"""The notebooks run top to bottom with no key, and what they save holds no image bytes and no key."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PRETEND_KEY = "AIza-pretend-key-that-must-never-be-saved-42"


@pytest.mark.parametrize("name", ["quickstart.ipynb", "teaching.ipynb"])
def test_notebook_runs_offline_and_saves_no_images_or_key(name, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PROMPTPAINT_PROVIDER", "offline")
    monkeypatch.setenv("GEMINI_API_KEY", PRETEND_KEY)  # present, but the quickstart must stay offline
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = tmp_path / name
    nbformat.write(nb, saved)
    text = saved.read_text()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    state = json.dumps(nb.metadata["widgets"])  # widget state was saved ...
    assert "iVBORw0KGgo" not in state and "/9j/" not in state  # ... with no PNG or JPEG in it
    assert len(state) < 100_000  # the bundled front end is most of it
    # Images a cell shows on purpose (studio.image) are outputs; the widget itself adds none.
    widget_outputs = [o for c in nb.cells for o in c.get("outputs", [])
                      if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_outputs and all("image/png" not in o["data"] for o in widget_outputs)
    assert PRETEND_KEY not in text and PRETEND_KEY[-8:] not in text
