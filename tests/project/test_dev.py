"""`./dev` as a newcomer meets it: it says what to install instead of failing inside pip, runs what it
can without Chromium (CI still runs everything), and the quickstart uses a key the user has set.

`dev` runs against stand-ins for the tools it calls (python, pip, pytest, node, npm, jupyter, id),
each of which records how it was called, so nothing here installs or starts anything."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from helpers import ROOT

RECORDER = """#!/bin/sh
{ printf '%s' "$(basename "$0")"; for a in "$@"; do printf ' [%s]' "$a"; done
  printf ' PROMPTPAINT_PROVIDER=%s\\n' "${PROMPTPAINT_PROVIDER-<unset>}"; } >> "$CALLS"
"""


@pytest.fixture
def sandbox(tmp_path):
    """A copy of `dev` beside a stand-in venv, and a PATH of recording stand-ins plus the basics."""
    repo = tmp_path / "repo"
    (repo / "tests" / "js").mkdir(parents=True)
    shutil.copy(ROOT / "dev", repo / "dev")
    (repo / "tests" / "js" / "a.test.mjs").write_text("")
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("bash", "sh", "dirname", "basename", "printf", "cat"):
        found = shutil.which(name)
        if found:
            (tools / name).symlink_to(found)
    for path in (venv_bin / "python", venv_bin / "jupyter", tools / "node", tools / "npm",
                 tools / "python3"):
        path.write_text(RECORDER)
        path.chmod(0o755)
    (tools / "python3").write_text("#!/bin/sh\nexit 0\n")  # a Python 3.10+: the version check passes
    (tools / "id").write_text("#!/bin/sh\necho 1000\n")     # not root: nothing may be apt-get installed
    (tools / "id").chmod(0o755)
    calls = tmp_path / "calls.txt"
    calls.touch()

    def run(*args, drop=(), **env):
        for name in drop:
            (tools / name).unlink()
        environ = {"PATH": str(tools), "CALLS": str(calls), "HOME": str(tmp_path),
                   "PROMPTPAINT_CHROMIUM": str(tmp_path / "no-chromium"), **env}
        done = subprocess.run([str(tools / "bash"), str(repo / "dev"), *args], env=environ,
                              capture_output=True, text=True, timeout=60)
        return done, calls.read_text().splitlines()

    return run


def test_without_npm_dev_says_what_to_install_before_pip_runs(sandbox):
    done, calls = sandbox("test", drop=["npm"])
    assert done.returncode == 1
    assert "Node.js" in done.stderr and "npm" in done.stderr and "apt-get install -y nodejs npm" in done.stderr
    assert len(done.stderr.splitlines()) < 8 and "Traceback" not in done.stderr
    assert calls == []  # pip never started


def test_without_chromium_dev_test_runs_the_rest_and_says_what_it_skipped(sandbox):
    done, calls = sandbox("test", "-q")
    assert done.returncode == 0, done.stderr
    assert "skipping the browser, JupyterLab and marimo tests" in done.stderr
    assert "sudo apt-get install -y chromium" in done.stderr
    assert calls[-1].startswith("python [-m] [pytest] [-m] [not browser] [-q]")
    assert any(c.startswith("node [--test]") for c in calls)


def test_in_ci_a_missing_chromium_is_a_failure(sandbox):
    done, calls = sandbox("test", "-q", CI="true")
    assert done.returncode == 1 and "CI runs every test" in done.stderr
    assert not any("[pytest]" in c for c in calls)


def test_with_chromium_dev_test_runs_everything(sandbox, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    done, calls = sandbox("test", "-q", PROMPTPAINT_CHROMIUM=str(chromium))
    assert done.returncode == 0, done.stderr
    assert calls[-1].startswith("python [-m] [pytest] [-q]")


def test_quickstart_is_offline_without_a_key(sandbox):
    done, calls = sandbox("quickstart")
    assert done.returncode == 0, done.stderr
    assert calls[-1].startswith("jupyter [lab]") and calls[-1].endswith("PROMPTPAINT_PROVIDER=offline")


def test_quickstart_uses_a_key_the_user_has_set_and_says_it_is_billed(sandbox):
    done, calls = sandbox("quickstart", GEMINI_API_KEY="AIza-users-own")
    assert done.returncode == 0, done.stderr
    assert calls[-1].endswith("PROMPTPAINT_PROVIDER=<unset>")  # the Client picks Gemini from the key
    assert "billed" in done.stderr and "PROMPTPAINT_PROVIDER=offline ./dev quickstart" in done.stderr
    assert "AIza-users-own" not in done.stderr


def test_quickstart_keeps_an_explicit_provider(sandbox):
    done, calls = sandbox("quickstart", OPENAI_API_KEY="sk-x", PROMPTPAINT_PROVIDER="offline")
    assert calls[-1].endswith("PROMPTPAINT_PROVIDER=offline") and "billed" not in done.stderr
