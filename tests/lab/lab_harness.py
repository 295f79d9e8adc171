"""A headless JupyterLab for the tests in this folder: the server (conftest.py's `lab_server` and
`lab_page` fixtures start it and a page on it), a notebook file, and the kernel steps every test
takes: open and run all, run code as a cell would, restart."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from fakes import OPENAI_KEY
from servers import free_port, running

LAPTOP = {"width": 1366, "height": 768}
RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"

@contextlib.contextmanager
def running_lab(tmp_path, fake, home, notebook: Path, app: str = "lab"):
    """A headless JupyterLab (or, with ``app="notebook"``, Jupyter Notebook 7) serving `notebook`
    against the fake providers; yields its URL."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(notebook, work / notebook.name)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(tmp_path / f"jupyter-{name.lower()}")
    env.update(IPYTHONDIR=str(tmp_path / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
               PROMPTPAINT_HOME=str(home),
               OPENAI_API_KEY=OPENAI_KEY, OPENAI_BASE_URL=fake.openai_base)
    base = f"http://127.0.0.1:{port}"
    common = ["--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--port={port}",
              "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"]
    if app == "notebook":
        # Notebook 7 is JupyterLab's front end in one-document pages; it exposes the same app object.
        command = [sys.executable, "-m", "notebook", *common, "--JupyterNotebookApp.expose_app_in_browser=True"]
        url, name = f"{base}/notebooks/{notebook.name}?token={token}", "Jupyter Notebook"
    else:
        command = [sys.executable, "-m", "jupyterlab", *common, "--LabApp.expose_app_in_browser=True",
                   "--LabApp.news_url="]
        url, name = f"{base}/lab/tree/{notebook.name}?reset&token={token}", "JupyterLab"
    with running(command, ready_url=f"{base}/api/status?token={token}", log=tmp_path / f"{app}.log", env=env,
                 name=name):
        yield url


KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""

# Runs code in the notebook's kernel, as a cell would, and returns what it printed.
RUN_IN_KERNEL = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  let out = '';
  const future = kernel.requestExecute({code});
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return out;
}"""


def notebook(path: Path, *cells) -> Path:
    """Writes a Python 3 notebook of `cells` (a code cell's source, or ``(kind, source)``) to `path`."""
    out = []
    for i, cell in enumerate(cells):
        kind, text = cell if isinstance(cell, tuple) else ("code", cell)
        out.append({"cell_type": kind, "metadata": {}, "source": text, "id": f"cell{i}",
                    **({"outputs": [], "execution_count": None} if kind == "code" else {})})
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path.write_text(json.dumps({"cells": out, "metadata": kernel, "nbformat": 4, "nbformat_minor": 5}))
    return path


def until(check, what: str, timeout: float = 30) -> None:
    """Waits for `check()` to be true; fails with `what` (a loaded 2-core machine can take a while)."""
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, what
        time.sleep(0.2)


def in_kernel(page):
    """A function that runs code in the open notebook's kernel, as a cell would, and returns what it printed."""
    return lambda code: page.evaluate(RUN_IN_KERNEL, code)


def widget_after_run(page):
    """Once the kernel is idle: the first Studio widget on the page, shown and its cell run."""
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    widget = page.locator(".promptpaint").first
    widget.wait_for(timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    return widget


def run_all(page):
    """Runs every cell of the open notebook (its kernel idle first) and returns the Studio widget."""
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    page.evaluate(RUN_ALL)
    return widget_after_run(page)


def restart_kernel(page) -> None:
    """Restarts the open notebook's kernel: every object of the old one is gone."""
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")


def restart_and_run_all(page):
    """A kernel restart, then every cell run again in the new kernel; returns the Studio widget."""
    restart_kernel(page)
    time.sleep(1)  # the restart first takes the kernel out of "idle": do not mistake the old kernel's
    return run_all(page)


def hold_the_mask(kernel) -> None:
    """Waits for the painted mask to reach the kernel, then keeps it and the image as they are
    before an edit (``_painted``, ``_before``) for `edit_outcome`."""
    until(lambda: "True" in kernel("print(studio.has_mask)"), "the painted mask never reached the kernel")
    kernel("_painted = studio.mask; _before = studio.image.convert('RGB')")


EDIT_OUTCOME = (
    "import json, numpy as np\n"
    "after = np.asarray(studio.image.convert('RGB')); before = np.asarray(_before)\n"
    "m = np.asarray(_painted) > 0; changed = (after != before).any(axis=-1)\n"
    "ys, xs = np.nonzero(m)\n"
    "print(json.dumps({'outside': int((changed & ~m).sum()), 'inside': int((changed & m).sum()),"
    " 'painted': int(m.sum()), 'box': int((xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)),"
    " 'ledger': str(pp.ledger().total())}))")


def masked_edit(widget, fake, prompt: str, turn):
    """Types `prompt`, presses Edit and waits for `turn` (the edit's turn) to show; returns the
    request the provider got, checked to be an edit with this prompt and a mask."""
    widget.get_by_label("Prompt").fill(prompt)
    widget.get_by_role("button", name="Edit", exact=True).click()
    turn.wait_for(timeout=30_000)
    sent = fake.last("openai")
    assert sent.path == "/v1/images/edits" and sent.form["prompt"] == [prompt]
    assert "mask" in sent.files
    return sent


def edit_outcome(kernel) -> dict:
    """After an edit, from the kernel: pixels changed outside and inside the mask held by
    `hold_the_mask`, the mask's pixels and its bounding box's area, and the ledger's total."""
    return json.loads(kernel(EDIT_OUTCOME))
