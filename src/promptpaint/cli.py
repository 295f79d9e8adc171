"""``promptpaint generate|edit|cost|models`` — the engine from a shell, with exit codes scripts can use."""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import threading
import time
import warnings
from pathlib import Path

EXIT = {"ok": 0, "error": 1, "usage": 2, "auth": 3, "refused": 4, "rate": 5, "budget": 6,
        "provider": 7, "retired": 8}


def _exit_code(exc) -> int:
    from . import errors as e

    for cls, name in ((e.AuthError, "auth"), (e.AccessError, "auth"), (e.Refused, "refused"),
                      (e.RateLimited, "rate"), (e.QuotaExceeded, "rate"), (e.BudgetExceeded, "budget"),
                      (e.ModelRetired, "retired"), (e.InvalidRequest, "usage"),
                      (e.ProviderError, "provider"), (e.Timeout, "provider")):
        if isinstance(exc, cls):
            return EXIT[name]
    return EXIT["error"]


class Spinner:
    """Elapsed seconds on stderr while a call runs, only when stderr is a terminal."""

    def __init__(self, label: str):
        self.label, self._stop = label, threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self):
        start = time.monotonic()
        for ch in itertools.cycle("|/-\\"):
            if self._stop.wait(0.2):
                break
            sys.stderr.write(f"\r{ch} {self.label} {time.monotonic() - start:5.1f} s")
            sys.stderr.flush()
        sys.stderr.write("\r" + " " * (len(self.label) + 12) + "\r")

    def __enter__(self):
        if sys.stderr.isatty():
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _params(args) -> dict:
    names = {"size": "size", "aspect": "aspect_ratio", "image_size": "image_size", "quality": "quality",
             "n": "n", "seed": "seed", "background": "background", "format": "output_format"}
    return {ours: getattr(args, attr) for attr, ours in names.items() if getattr(args, attr, None) is not None}


def _write(result, out: str | None) -> list[Path]:
    written = []
    for i, path in enumerate(result.paths):
        if out is None:
            written.append(path)
            continue
        target = Path(out)
        if len(result.paths) > 1:
            target = target.with_name(f"{target.stem}-{i + 1}{target.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(target)
    return written


def _call(args) -> int:
    import promptpaint as pp

    client = pp.Client(args.provider, model=args.model, budget=args.budget)
    with Spinner(f"{client.provider_name}/{client.model.id}"):
        if args.command == "generate":
            r = client.generate(args.prompt, **_params(args))
        else:
            r = client.edit(args.prompt, image=args.image, mask=args.mask, **_params(args))
    for p in _write(r, args.output):
        print(p)
    cost = "unknown" if r.cost is None else f"${r.cost:.6f}"
    tag = " (offline stand-in)" if r.offline else ""
    print(f"{client.provider_name}/{client.model.id}: {len(r.ids)} image(s), {cost}{tag}", file=sys.stderr)
    if r.text and not r.offline:
        print(r.text, file=sys.stderr)
    return 0


def _cost(args) -> int:
    import promptpaint as pp

    led = pp.ledger()
    print(f"this session: ${led.session():.6f}")
    print(f"today (UTC):  ${led.today():.6f}")
    print(f"all time:     ${led.total():.6f}")
    unknown = led.summary().unknown_calls
    if unknown:
        print(f"plus {unknown} call(s) whose price is unknown")
    for row in led.entries(args.last) if args.last else []:
        cost = "unknown" if row["cost"] is None else f"${row['cost']:.6f}"
        print(f"{row['ts'][:19]}  {row['status']:8} {row['provider']}/{row['model']}  {cost}  {(row['prompt'] or '')[:50]}")
    return 0


def _models(args) -> int:
    import datetime as dt

    from . import registry

    today = dt.date.today()
    for m in registry.all_models():
        if m.is_retired(today) and not args.all:
            continue
        p = m.price_on(today)
        price = (f"in ${p.input_text}/${p.input_image} out ${p.output_text}/${p.output_image} per 1M "
                 "(text/image)") if p else "price unknown"
        if m.provider == "offline":
            price = "$0"
        state = "current"
        if m.is_retired(today):
            state = f"retired {m.shutdown} -> {m.successor}"
        elif m.shutdown_warning(today):
            state = f"shuts down {m.shutdown} -> {m.successor}"
        print(f"{m.id:40} {m.provider:8} {state:36} {price}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="promptpaint", description="Generate and edit images; see what it cost.")
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("generate", "edit"):
        p = sub.add_parser(name, help=f"{name} an image")
        p.add_argument("prompt")
        if name == "edit":
            p.add_argument("--image", required=True, help="the image to edit")
            p.add_argument("--mask", help="PNG, painted (non-zero / opaque) where to change")
        p.add_argument("-o", "--output", help="where to write the image (default: print the store path)")
        p.add_argument("--provider", choices=["gemini", "openai", "offline"])
        p.add_argument("--model")
        p.add_argument("--size")
        p.add_argument("--aspect", help="aspect ratio, e.g. 16:9 (Gemini)")
        p.add_argument("--image-size", dest="image_size", help="1K, 2K or 4K (Gemini)")
        p.add_argument("--quality")
        p.add_argument("--n", type=int)
        p.add_argument("--seed", type=int)
        p.add_argument("--background")
        p.add_argument("--format")
        p.add_argument("--budget", type=float, help="refuse to spend more than this (USD)")
    c = sub.add_parser("cost", help="ledger totals")
    c.add_argument("--last", type=int, default=0, help="also list the last N calls")
    m = sub.add_parser("models", help="models with prices and lifecycle")
    m.add_argument("--all", action="store_true", help="include retired models")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import PromptpaintError

    warnings.simplefilter("default")
    warnings.formatwarning = lambda msg, cat, *a, **k: f"promptpaint: {msg}\n"
    try:
        return {"generate": _call, "edit": _call, "cost": _cost, "models": _models}[args.command](args)
    except PromptpaintError as exc:
        print(f"promptpaint: {type(exc).__name__}: {exc}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
