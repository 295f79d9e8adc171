"""The notebooks run top to bottom with no key in the environment `./dev quickstart` builds, what they
save holds no image bytes in widget state and no key, and their HTML shows the results as pictures."""

import json
import re

import pytest

from helpers import ROOT

NOTEBOOKS = ROOT / "notebooks"
PRETEND_KEY = "AIza-pretend-key-that-must-never-be-saved-42"
# `./dev quickstart` installs promptpaint[lab]: no NumPy. The test environment has it, so the kernel
# is told to behave as if it were missing: importing it fails as it would there.
WITHOUT_NUMPY = """
import sys
assert "numpy" not in sys.modules
class NoNumpy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "numpy":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoNumpy())
"""


def _run(name, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(WITHOUT_NUMPY))
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    nb.cells.pop(0)
    return nb


def _images(page):
    """The attributes of every <img> in an HTML page (nbconvert reorders them)."""
    from html.parser import HTMLParser

    found = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                found.append(dict(attrs))

    Images().feed(page)
    return found


# The pictures each notebook's HTML shows, by alt text: Results, then chats' turns (a branch repeats
# the turn it starts from).
PICTURES = {
    "quickstart.ipynb": ["a red fox in snow", "make it night, with stars",
                         "a red fox in snow, patterned like the reference"],
    "teaching.ipynb": ["a watercolour lighthouse on a cliff at dusk", "make it night",
                       "the lighthouse, striped like the second picture", "a sky full of stars",
                       "a cat sitting on a windowsill", "now it is raining outside",
                       "a cat sitting on a windowsill", "now it is snowing outside"],
}


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_notebook_runs_offline_saves_no_images_or_key_and_shows_results_as_html(name, tmp_path, monkeypatch):
    import nbformat
    from nbconvert import HTMLExporter

    monkeypatch.setenv("PROMPTPAINT_PROVIDER", "offline")
    monkeypatch.setenv("GEMINI_API_KEY", PRETEND_KEY)  # present, but the quickstart must stay offline
    nb = _run(name, tmp_path)
    saved = tmp_path / name
    nbformat.write(nb, saved)
    text = saved.read_text()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    # No warning box (a stderr stream, with an internal file path) in normal use: the widget's
    # notice says what the offline stand-in is.
    stderr = [o.get("text") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert stderr == []
    state = json.dumps(nb.metadata["widgets"])  # widget state was saved ...
    assert "iVBORw0KGgo" not in state and "/9j/" not in state  # ... with no PNG or JPEG in it
    # What the widget saves besides its bundled front end (_esm, _css): settings, ids and text.
    models = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
    bundle = sum(len(json.dumps(m["state"].get(k, ""))) for m in models for k in ("_esm", "_css"))
    assert len(state) - bundle < 30_000
    # Images a cell shows on purpose (a Result) are outputs; the widget itself adds none.
    widget_outputs = [o for c in nb.cells for o in c.get("outputs", [])
                      if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_outputs and all("image/png" not in o["data"] for o in widget_outputs)
    assert PRETEND_KEY not in text and PRETEND_KEY[-8:] not in text

    # As a teacher publishes it: nbconvert's HTML shows each result as a picture with its caption.
    page, _ = HTMLExporter().from_notebook_node(nb)
    pictures = [tag["alt"] for tag in _images(page) if re.match(r"data:image/(png|jpeg);base64,", tag["src"])]
    assert pictures == PICTURES[name]
    assert "offline/offline-sketch · offline stand-in, $0" in page
    assert (len(text) - len(state)) / len(pictures) < 50_000  # small pictures, not the originals
    if name == "teaching.ipynb":
        assert re.search(r'<table class="promptpaint-ledger"><tr><th[^>]*>Today</th><td>\d+ calls', page)
        assert "pixels changed outside the mask: 0" in page
