"""The class gateway as a teacher starts it: ``promptpaint gateway serve`` in its own process,
with the provider keys in its environment only, in front of the fake providers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fakes import GEMINI_KEY, OPENAI_KEY
from servers import free_port, start, stop

BIN = Path(sys.executable).parent / "promptpaint"
KEYS = ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL", "GOOGLE_GEMINI_BASE_URL",
        "PROMPTPAINT_LEDGER", "PROMPTPAINT_GATEWAY", "PROMPTPAINT_TOKEN", "JUPYTERHUB_API_TOKEN")


def teacher_env(fake, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env.update(OPENAI_API_KEY=OPENAI_KEY, GEMINI_API_KEY=GEMINI_KEY, OPENAI_BASE_URL=fake.openai_base,
               GOOGLE_GEMINI_BASE_URL=fake.gemini_base, PROMPTPAINT_HOME=str(home))
    return env


def promptpaint(*args, env: dict) -> subprocess.CompletedProcess:
    """The CLI as a teacher types it."""
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120)


def new_token(ledger: str, user: str, env: dict, *, cli: bool = False) -> str:
    """A token for ``user``: as the teacher makes it (``cli=True``: `promptpaint gateway token add`,
    the token alone on the last line), or through the same function without a process start."""
    if cli:
        done = promptpaint("gateway", "token", "add", user, "--ledger", ledger, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]
    from promptpaint.gateway import tokens
    from promptpaint.ledger import ledger as open_ledger

    return tokens.add(open_ledger(ledger), user)


class Gateway:
    """``promptpaint gateway serve`` on a free port, ready when its /healthz answers; stop() it."""

    def __init__(self, ledger: str, env: dict, log: Path, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.proc = start([str(BIN), "gateway", "serve", "--ledger", ledger, "--port", str(self.port), *args],
                          ready_url=f"{self.url}/healthz", log=log, env=env, name="the gateway")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown, nothing settled."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        stop(self.proc, wait=10)
