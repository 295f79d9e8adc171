"""Every code block in the README runs as written, each on its own, as a newcomer pastes it.

Python blocks run in a fresh namespace with a Gemini key set and the base URL pointed at the local
stand-in (the README says a key comes from the environment). Shell blocks that call `promptpaint` run
through the CLI. The other shell blocks are checked where they belong: `./dev` in test_dev.py, the pip
lines by .ci/wheel, which installs the built wheel as they do."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from fakes import GEMINI_KEY
from helpers import ROOT

BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
CLI = [code for lang, code in BLOCKS if lang == "bash" and code.startswith("promptpaint ")]


def test_the_readme_has_the_blocks_this_test_runs():
    assert len(PYTHON) >= 2 and len(CLI) >= 1
    others = [code.split()[0] for lang, code in BLOCKS if lang == "bash" and code not in CLI]
    assert set(others) <= {"pip", "./dev"}, others


@pytest.mark.parametrize("code", PYTHON, ids=[c.splitlines()[-1][:40] for c in PYTHON])
def test_python_block_runs_as_written(code, fake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.gemini_base)
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    assert fake.by_provider("gemini"), "the block made no call"


@pytest.mark.parametrize("block", CLI)
def test_shell_block_runs_as_written(block, tmp_path):
    for line in block.strip().splitlines():
        args = shlex.split(line)
        assert args[0] == "promptpaint"
        done = subprocess.run([sys.executable, "-m", "promptpaint", *args[1:]], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    assert (tmp_path / "fox.png").exists() and (tmp_path / "night.png").exists()


def test_the_first_python_block_pasted_as_one_cell_shows_the_widget(tmp_path, monkeypatch):
    """A cell displays only its last expression: the first block must end with the Studio."""
    import ast

    monkeypatch.chdir(tmp_path)
    tree = ast.parse(PYTHON[0])
    last = tree.body[-1]
    assert isinstance(last, ast.Expr), "the block's last line is an expression a cell displays"
    namespace = {"__name__": "__readme__"}
    exec(compile(ast.Module(tree.body[:-1], []), "README.md", "exec"), namespace)
    shown = eval(compile(ast.Expression(last.value), "README.md", "eval"), namespace)
    assert isinstance(shown, __import__("promptpaint").Studio)
    assert len(shown.turns) == 2


def test_the_from_code_block_runs_offline_as_its_comment_says(tmp_path, monkeypatch):
    block = next(code for code in PYTHON if "pp.Client(" in code)
    gemini = 'pp.Client("gemini", model="gemini-3.1-flash-image")'
    assert gemini in block and '"offline" needs none' in block
    monkeypatch.chdir(tmp_path)
    exec(compile(block.replace(gemini, 'pp.Client("offline")'), "README.md", "exec"), {"__name__": "__readme__"})
