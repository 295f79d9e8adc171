"""How long scrubbing takes on long, hostile text: an error that quotes a long value must not
freeze the kernel. The old masked-key pattern backtracked once per starting position (quadratic);
its time is shown on the small sizes only, for comparison."""

import re
import statistics
import time

from _setup import isolate

isolate()

from promptpaint import redact  # noqa: E402

OLD_MASKED = re.compile(r"[A-Za-z0-9_\-]{2,}\*{3,}[A-Za-z0-9_\-]{0,12}")
ROUNDS = 5

redact.register("fake-registered-secret-0123456789abcdef")
redact.register("fake-registered-secret-fedcba9876543210")


def inputs(n: int) -> dict[str, str]:
    return {
        "one long word": "a" * n,
        "key-ish run": ("sk-" * (n // 3 + 1))[:n],
        "masked tail": "x" * (n - 8) + "***abcd",
        "many ://": ("://a" * (n // 4 + 1))[:n],
        "prose with keys": ("a prompt sk-proj-abcdefghijkl and https://u:p@h/v1 " * (n // 52 + 1))[:n],
    }


def median_ms(fn, text, rounds=ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    print(f"{'input':18} {'size':>9} {'scrub ms':>10} {'old masked-key regex ms':>24}   (median of {ROUNDS})")
    for n in (16_384, 102_400, 1_048_576):
        for label, text in inputs(n).items():
            new = median_ms(redact.scrub, text)
            old = (f"{median_ms(lambda t: OLD_MASKED.sub('[key]', t), text, 1):24.1f}"
                   if n <= 16_384 else f"{'(not run)':>24}")
            print(f"{label:18} {n:9d} {new:10.2f} {old}")


if __name__ == "__main__":
    main()
