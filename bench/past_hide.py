"""Hiding images from the Studio's Past images: each hide appends one line, so the 4,000th costs
what the first did (it used to rewrite every hidden id each time: 4,000 hides took 10-12 s). Also
how long the drawer takes to list with that many hidden."""

import time

from _setup import isolate

isolate()

from promptpaint.studio import past  # noqa: E402

for n in (1000, 4000):
    start = time.perf_counter()
    base = len(past.hidden())
    for i in range(n):
        past.hide(f"{base + i:064x}")
    took = time.perf_counter() - start
    start = time.perf_counter()
    assert len(past.hidden()) == base + n
    read = time.perf_counter() - start
    print(f"{n:5} hides: {took:.3f} s ({took / n * 1e6:.0f} us each); reading {base + n} hidden ids: {read * 1e3:.1f} ms")
