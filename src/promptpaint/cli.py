"""``promptpaint generate|edit|cost|models`` — the engine from a shell, with exit codes scripts can use."""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
import sys
import threading
import time
import warnings
from pathlib import Path

from . import cli_ledger

# What -o can write, by file suffix (Pillow format names).
OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}
# Our parameter names -> this command line's flags.
FLAGS = {"size": "--size", "aspect_ratio": "--aspect", "image_size": "--image-size", "quality": "--quality",
         "n": "--n", "seed": "--seed", "background": "--background", "output_format": "--format",
         "budget": "--budget", "timeout": "--timeout", "model": "--model"}

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


def _output_format(out: str | None) -> str | None:
    """The Pillow format for ``-o``'s suffix, checked before any money is spent."""
    if out is None:
        return None
    fmt = OUTPUT_FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        from .errors import InvalidRequest

        raise InvalidRequest(f"-o {out}: cannot tell the image format from {Path(out).suffix or 'no suffix'!r}.",
                             param="output", hint=f"End the file name in one of {', '.join(OUTPUT_FORMATS)}.")
    return fmt


def _save(source: Path, target: Path, fmt: str) -> None:
    """``source`` at ``target`` in ``fmt``: the same bytes when it is already that format."""
    from PIL import Image

    with Image.open(source) as im:
        if im.format == fmt:
            shutil.copyfile(source, target)
            return
        im.load()
        if fmt == "JPEG" and im.mode != "RGB":
            # JPEG has no alpha: put transparent parts on white, as image viewers show them.
            rgba = im.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            im = flat
        im.save(target, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))


def _write(result, out: str | None) -> list[Path]:
    fmt = _output_format(out)
    written = []
    for i, path in enumerate(result.paths):
        if out is None:
            written.append(path)
            continue
        target = Path(out)
        if len(result.paths) > 1:
            target = target.with_name(f"{target.stem}-{i + 1}{target.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        _save(path, target, fmt)
        written.append(target)
    return written


def _provider(args) -> str | None:
    """``--provider``, or the provider of ``--model`` when only the model is named."""
    if args.provider or not args.model:
        return args.provider
    from . import registry
    from .errors import InvalidRequest

    try:
        return registry.get(args.model).provider
    except InvalidRequest:
        raise InvalidRequest(f"Unknown model {args.model!r}: name its provider too, e.g. "
                             f"--provider openai --model {args.model}.", param="model") from None


def for_shell(text: str) -> str:
    """A library message reworded for the command line: flags instead of Python arguments."""
    def client(m):
        out = f"--provider {m.group(2)}"
        return out + (f" --model {m.group(4)}" if m.group(4) else "")

    text = re.sub(r"pp\.Client\((['\"])(\w+)\1(?:, model=(['\"])([^'\"]+)\3)?(?:, api_key=…)?\)", client, text)
    text = re.sub(r",? or (?:pass )?(?:api_key|base_url)=", "", text)
    text = text.replace("retry_on_timeout=True", "--retry-on-timeout")
    text = re.sub(r"\b(" + "|".join(FLAGS) + r")=(?=[\s.,;:)]|$)", lambda m: FLAGS[m.group(1)], text)
    return re.sub(r"\b(" + "|".join(FLAGS) + r")=", lambda m: FLAGS[m.group(1)] + "=", text)


def _call(args) -> int:
    import promptpaint as pp

    _output_format(args.output)  # a bad -o fails now, not after a paid call
    client = pp.Client(_provider(args), model=args.model, budget=args.budget, timeout=args.timeout,
                       retry_on_timeout=args.retry_on_timeout)
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
    from .ledger import AWAITING, SESSION_ID, dollars
    from .clock import utc_now

    led = pp.ledger()
    # Calls of unknown cost and interrupted ones are shown apart, never folded in as $0.
    print(f"this session: {led.summary(session=SESSION_ID)}")
    print(f"today (UTC):  {led.summary(day=utc_now().date())}")
    every = led.summary()
    print(f"all time:     {every}")
    if every.counted != every.known:
        print(f"counting against caps today: {dollars(led.spent(day=utc_now().date()))} "
              "(calls of unknown cost count at their reservation)")
    rows = led.entries(args.last) if args.last else []
    interrupted = [r for r in led.entries(10_000) if r["state"] == "interrupted"] if every.interrupted_calls else []
    if interrupted:
        print("interrupted (the process died before booking the answer; each counts at its "
              "reservation until reconciled):")
        for row in interrupted:
            print(f"  #{row['id']} {row['ts'][:19]} {row['provider']}/{row['model']}  up to "
                  f"{dollars(row['reserved'])}  {(row['prompt'] or '')[:50]}")
    awaiting = [r for r in led.entries(10_000) if r["state"] == AWAITING] if every.batches_awaiting else []
    if awaiting:
        print(f"batch jobs {AWAITING} (they run at the provider; collect them with pp.batches() from "
              "any session; each counts at its worst case until then):")
        for row in awaiting:
            print(f"  #{row['id']} {row['ts'][:19]} {row['provider']}/{row['model']}  up to "
                  f"{dollars(row['reserved'])}  {(row['prompt'] or '')[:50]}")
    for row in rows:
        if row["cost"] is not None:
            cost = dollars(row["cost"])
        else:
            held = f", up to {dollars(row['reserved'])}" if row["reserved"] else ""
            state = row["state"] if row["state"] in ("interrupted", AWAITING) else "unknown"
            cost = f"{state}{held}"
        # The row id (for pp.ledger().reconcile(row, cost=...)) and whose call it was.
        print(f"#{row['id']:<6} {row['ts'][:19]}  {row['user'] or '-':12} {row['status']:8} "
              f"{row['provider']}/{row['model']}  {cost}  {(row['prompt'] or '')[:50]}")
    return 0


def _models(args) -> int:
    from . import clock, registry

    today = clock.today()
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


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("promptpaint")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        from . import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    from . import providers

    ap = argparse.ArgumentParser(
        prog="promptpaint", description="Generate and edit images with Gemini or OpenAI image models; "
        "see what it cost. Keys come from OPENAI_API_KEY / GEMINI_API_KEY; with none, --provider offline "
        "runs at $0.",
        epilog="Exit codes: 0 ok, 2 bad input, 3 key or access, 4 refused, 5 rate limit or quota, "
               "6 budget, 7 provider error or timeout, 8 retired model.")
    ap.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="command")
    for name, what in (("generate", "make an image from a prompt"), ("edit", "change an image as a prompt says")):
        p = sub.add_parser(name, help=what, description=what[0].upper() + what[1:] + ".")
        p.add_argument("prompt", help="what to draw" if name == "generate" else "what to change")
        if name == "edit":
            p.add_argument("--image", required=True, help="the image to edit (PNG, JPEG, WEBP or GIF)")
            p.add_argument("--mask", help="PNG, painted (non-zero / opaque) where to change")
        p.add_argument("-o", "--output", metavar="FILE",
                       help="write the image here, in the format its suffix names (.png, .jpg, .webp, .gif); "
                            "several images get -1, -2... (default: print the store path)")
        p.add_argument("--provider", choices=list(providers.NAMES),
                       help="who makes the image (default: the provider of --model, else the one whose "
                            "key is set, else offline)")
        p.add_argument("--model", help="model id, e.g. gpt-image-2 or gemini-3.1-flash-image "
                                       "(`promptpaint models` lists them)")
        p.add_argument("--size", help="WIDTHxHEIGHT, e.g. 1024x1024 (OpenAI)")
        p.add_argument("--aspect", help="aspect ratio, e.g. 16:9 (Gemini)")
        p.add_argument("--image-size", dest="image_size", help="1K, 2K or 4K (Gemini)")
        p.add_argument("--quality", help="low, medium or high (OpenAI)")
        p.add_argument("--n", type=int, help="how many images to make in one call")
        p.add_argument("--seed", type=int, help="repeatable results where the model supports it")
        p.add_argument("--background", help="transparent, opaque or auto (OpenAI)")
        p.add_argument("--format", help="the format the provider answers in: png, jpeg or webp (OpenAI)")
        p.add_argument("--budget", type=float, metavar="USD", help="refuse to spend more than this on the call")
        p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                       help="how long to wait for the answer (default: 600)")
        p.add_argument("--retry-on-timeout", action="store_true",
                       help="send the call again after a timeout (it may then be billed twice)")
    c = sub.add_parser("cost", help="what calls have cost: session, today and all time",
                       description="What calls have cost, from the ledger.")
    c.add_argument("--last", type=int, default=0, metavar="N", help="also list the last N calls")
    m = sub.add_parser("models", help="models with prices and lifecycle",
                       description="Models with their prices and lifecycle.")
    m.add_argument("--all", action="store_true", help="include retired models")
    cli_ledger.add_parsers(sub, c)  # ledger, budget, cost --by: a class on one ledger
    from .gateway import cli as gateway_cli  # the class gateway (its server deps load only to serve)

    gateway_cli.add_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import PromptpaintError

    warnings.simplefilter("default")
    warnings.formatwarning = lambda msg, cat, *a, **k: f"promptpaint: {msg}\n"
    try:
        if args.command == "gateway":
            from .gateway import cli as gateway_cli

            return gateway_cli.main(args)
        if args.command == "cost" and args.by:
            return cli_ledger.cost_by(args)
        return {"generate": _call, "edit": _call, "cost": _cost, "models": _models,
                "ledger": cli_ledger.ledger_cmd, "budget": cli_ledger.budget_cmd}[args.command](args)
    except PromptpaintError as exc:
        print(f"promptpaint: {type(exc).__name__}: {for_shell(str(exc))}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
