"""``promptpaint generate`` and ``promptpaint edit``: one paid call, its images written where asked."""

from __future__ import annotations

import itertools
import shutil
import sys
import threading
import time
from pathlib import Path

from .safe import shown
from .params import CALL_PARAMS, Command, P, model_params

# What -o can write, by file suffix (Pillow format names).
OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF", ".svg": "SVG"}


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


def output_format(out: str | None) -> str | None:
    """The Pillow format for ``-o``'s suffix, checked before any money is spent."""
    if out is None:
        return None
    fmt = OUTPUT_FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        from ..errors import InvalidRequest

        raise InvalidRequest(f"-o {out}: cannot tell the image format from {Path(out).suffix or 'no suffix'!r}.",
                             param="output", hint=f"End the file name in one of {', '.join(OUTPUT_FORMATS)}.")
    return fmt


def _save(source: Path, target: Path, fmt: str) -> None:
    """``source`` at ``target`` in ``fmt``: the same bytes when it is already that format."""
    from PIL import Image

    if source.suffix == ".svg" or fmt == "SVG":  # a drawing is no raster: only ever copied as it is
        if source.suffix != ".svg" or fmt != "SVG":
            from ..errors import InvalidRequest

            raise InvalidRequest(f"{target.name}: an SVG is saved as .svg and a picture as a raster "
                                 "format.", param="output")
        shutil.copyfile(source, target)
        return
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
    fmt = output_format(out)
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
    from .. import providers, registry
    from ..errors import InvalidRequest

    try:
        return registry.get(args.model).provider
    except InvalidRequest:
        named = " or ".join(f"--provider {c.name} --model {args.model}"
                            for c in providers.all_providers() if not c.offline)
        raise InvalidRequest(f"Unknown model {args.model!r}: name its provider too, e.g. {named}.",
                             param="model") from None


def run(args) -> int:
    import promptpaint as pp

    from .. import money

    if args.output and (output_format(args.output) == "SVG") != (model_params(args).get("output_format") == "svg"):
        from ..errors import InvalidRequest  # a drawing and a picture cannot become each other

        raise InvalidRequest(f"-o {args.output}: --format svg writes .svg, and only it does.", param="output")
    budget = money.parse(args.budget, "--budget") if args.budget is not None else None
    client = pp.Client(_provider(args), model=args.model, budget=budget, timeout=args.timeout,
                       retry_on_timeout=args.retry_on_timeout)
    with Spinner(f"{client.provider_name}/{client.model.id}"):
        if args.command == "generate":
            r = client.generate(args.prompt, **model_params(args))
        else:
            r = client.edit(args.prompt, image=args.image, mask=args.mask, **model_params(args))
    for p in _write(r, args.output):
        print(p)
    tag = " (offline stand-in)" if r.offline else ""
    print(f"{client.provider_name}/{shown(client.model.id)}: {len(r.ids)} image(s), {money.format(r.cost)}{tag}",
          file=sys.stderr)
    if r.text and not r.offline:
        print(shown(r.text, lines=True), file=sys.stderr)  # the model's words: shown, never obeyed
    return 0


COMMANDS = [
    Command("generate", "make an image from a prompt", run,
            (P("prompt", help="what to draw"), *CALL_PARAMS)),
    Command("edit", "change an image as a prompt says", run,
            (P("prompt", help="what to change"),
             P("--image", required=True, help="the image to edit (PNG, JPEG, WEBP or GIF)"),
             P("--mask", help="PNG, painted (non-zero / opaque) where to change"),
             *CALL_PARAMS)),
]
