"""A student's kernel for the class-ledger tests: ``calls`` generate calls on each of ``threads``
threads, as ``user``, booking into the ledger at ``where``. Run in processes forked from a
forkserver that imported promptpaint once, so sixteen kernels start in milliseconds, not in
sixteen interpreter start-ups."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor


def run(where: str, home: str, user: str, base: str, key: str, threads: int, calls: int, results) -> None:
    os.environ.update(PROMPTPAINT_LEDGER=where, PROMPTPAINT_HOME=home, PROMPTPAINT_USER=user)
    import promptpaint as pp

    def work(t):
        client = pp.Client("gemini", api_key=key, base_url=base, backoff=0.01)
        out = []
        for i in range(calls):
            try:
                out.append(str(client.generate(f"{user} fox {os.getpid()}-{t}-{i}").cost))
            except pp.BudgetExceeded:
                out.append("refused")
        return out

    with ThreadPoolExecutor(threads) as pool:
        results.put([o for got in pool.map(work, range(threads)) for o in got])
