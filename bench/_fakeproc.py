"""The test fake in a child process, so its rendering and JSON work never count against the
client being measured (its CPU time, its memory, its GIL)."""

from __future__ import annotations

import multiprocessing as mp
import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent / "tests")


def _serve(conn) -> None:
    sys.path.insert(0, TESTS)
    from fakes import FakeProviders

    with FakeProviders() as fake:
        conn.send((fake.openai_base, fake.gemini_base))
        while True:
            cmd, value = conn.recv()
            if cmd == "stop":
                break
            if cmd == "latency":
                fake.latency = value
            elif cmd == "step":
                fake.batches.step = value
            elif cmd == "billed":
                value = str(fake.bill_total())  # the fake's own record of what it charged
            conn.send(value)


class FakeProcess:
    def __enter__(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        self.openai_base, self.gemini_base = self.conn.recv()
        return self

    def set(self, cmd: str, value=None):
        self.conn.send((cmd, value))
        return self.conn.recv()

    def __exit__(self, *exc):
        self.conn.send(("stop", None))
        self.proc.join(10)
