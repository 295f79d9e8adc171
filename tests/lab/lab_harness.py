"""A headless JupyterLab for the tests in this folder: server, kernel helpers."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
from pathlib import Path

from fakes import OPENAI_KEY
from servers import free_port, running


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
