import contextlib
import sys
from pathlib import Path

import pytest

# lab_harness sits beside the tests; the path entry keeps `import lab_harness` working under any
# import mode (the same arrangement as tests/browser).
sys.path.insert(0, str(Path(__file__).parent))

from lab_harness import LAPTOP, running_lab  # noqa: E402


@pytest.fixture
def lab_server(tmp_path, fake, isolated_home):
    """``lab_server(notebook, app="lab")``: a headless JupyterLab (``app="notebook"``: Notebook 7)
    serving a copy of `notebook` against the fake providers until the test ends; returns its URL."""
    with contextlib.ExitStack() as servers:
        yield lambda notebook, app="lab": servers.enter_context(
            running_lab(tmp_path, fake, isolated_home, notebook, app))


@pytest.fixture
def lab_page(lab_server, browser, tmp_path):
    """``lab_page(shot, viewport=LAPTOP)``: a browser page whose full-page screenshot is left in the
    test's temp folder as `shot` (what a person would have seen), taken before the server stops."""
    opened = []

    def page(shot: str, viewport: dict = LAPTOP):
        context = browser.new_context(viewport=viewport)
        opened.append((context, shot))
        return context.new_page()

    yield page
    for context, shot in opened:
        for p in context.pages:
            p.screenshot(path=str(tmp_path / shot), full_page=True)
        context.close()
