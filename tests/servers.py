"""Start a real server (JupyterLab, marimo, the class gateway, JupyterHub) for a test and stop it
afterwards."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], *, ready_url: str, log: Path, env: dict, cwd=None, name: str = "server",
          timeout: float = 60) -> subprocess.Popen:
    """Starts ``args`` with its output in ``log``; returns once ``ready_url`` answers 200. Fails
    the test, with the log's tail, if the process exits or `timeout` seconds pass first."""
    with open(log, "wb") as out:  # the child writes to its own copy of the file
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(ready_url, timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            stop(proc)
            pytest.fail(f"{name} did not start:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(0.2)


def stop(proc: subprocess.Popen, wait: float = 20) -> None:
    """Asks ``proc`` to end; kills it if it has not within `wait` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def running(args: list[str], *, ready_url: str, log: Path, env: dict, cwd=None, name: str = "server",
            timeout: float = 60):
    """Runs ``args`` until the block ends; enters once ``ready_url`` answers 200."""
    proc = start(args, ready_url=ready_url, log=log, env=env, cwd=cwd, name=name, timeout=timeout)
    try:
        yield proc
    finally:
        stop(proc)
