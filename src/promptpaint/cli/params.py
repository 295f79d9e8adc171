"""The command line's one parameter table: each flag once, with its help, its type and the library
argument it feeds. The parser, ``--help`` and the rewording of library messages into flags
(``for_shell``) are all built from it, so a new flag is one row.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Param:
    """One command-line parameter.

    ``flags`` are argparse's names (``("-o", "--output")``, or ``("prompt",)`` for a positional);
    ``ours`` is the library's keyword it becomes (``aspect_ratio``), if any; ``model_param`` marks
    a model parameter (passed to generate/edit, its help names the providers whose models take it).
    ``options`` is anything else argparse takes (``type``, ``default``, ``choices``, ``action``...).
    """

    flags: tuple[str, ...]
    help: str
    ours: str | None = None
    model_param: bool = False
    options: dict = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return self.options.get("dest") or self.flags[-1].lstrip("-").replace("-", "_")

    def add_to(self, parser: argparse.ArgumentParser, help_text: str) -> None:
        # A callable option (``choices=provider_names``) is read when the parser is built.
        options = {k: v() if callable(v) and k == "choices" else v for k, v in self.options.items()}
        parser.add_argument(*self.flags, help=help_text, **options)


@dataclass(frozen=True)
class Command:
    """One subcommand: its parameters, the function that runs it (returns the exit code), and
    ``actions`` for a group such as ``budget set|remove|list``."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int] | None = None
    params: tuple[Param, ...] = ()
    actions: tuple["Command", ...] = ()
    description: str | None = None


def P(*flags: str, help: str, ours: str | None = None, model_param: bool = False, **options) -> Param:  # noqa: A002
    return Param(flags, help, ours, model_param, options)


# Model parameters of generate and edit. The providers named in their help come from the
# registry (which models take the parameter), so the help never goes stale.
MODEL_PARAMS = (
    P("--size", ours="size", model_param=True, help="WIDTHxHEIGHT, e.g. 1024x1024"),
    P("--aspect", ours="aspect_ratio", model_param=True, help="aspect ratio, e.g. 16:9"),
    P("--image-size", ours="image_size", model_param=True, dest="image_size", help="1K, 2K or 4K"),
    P("--quality", ours="quality", model_param=True, help="low, medium or high"),
    P("--n", ours="n", model_param=True, type=int, help="how many images to make in one call"),
    P("--seed", ours="seed", model_param=True, type=int,
      help="repeatable results where the model supports it"),
    P("--background", ours="background", model_param=True, help="transparent, opaque or auto"),
    P("--format", ours="output_format", model_param=True,
      help="the format the provider answers in: png, jpeg or webp (gif and svg on newer models)"),
    P("--frame-count", ours="frame_count", model_param=True, type=int, dest="frame_count",
      help="with --format gif: how many frames, 2 to 16"),
    P("--frame-ms", ours="frame_duration_ms", model_param=True, type=int, dest="frame_duration_ms",
      help="with --format gif: how long each frame shows, in milliseconds"),
)

# What every paid call takes besides the model's parameters.
CALL_PARAMS = (
    P("-o", "--output", metavar="FILE",
      help="write the image here, in the format its suffix names (.png, .jpg, .webp, .gif); several "
           "images get -1, -2... (default: print the store path)"),
    P("--provider", ours="provider", choices=lambda: list(_provider_names()),
      help="who makes the image (default: the provider of --model, else the one whose key is set, "
           "else offline)"),
    P("--model", ours="model", help="model id, e.g. {examples} (`promptpaint models` lists them)"),
    *MODEL_PARAMS,
    P("--budget", ours="budget", metavar="USD", help="refuse to spend more than this on the call"),
    P("--timeout", ours="timeout", type=float, default=600.0, metavar="SECONDS",
      help="how long to wait for the answer (default: 600)"),
    P("--retry-on-timeout", ours="retry_on_timeout", action="store_true",
      help="send the call again after a timeout (it may then be billed twice)"),
)

LEDGER_FLAG = P("--ledger", help="the ledger (default: PROMPTPAINT_LEDGER, else your own file)")
PER_DAY = P("--per", choices=["day"], help="a cap per UTC day instead of for all time")


def _provider_names():
    from ..providers import NAMES

    return NAMES


def flags_for_library_names(params=CALL_PARAMS) -> dict[str, str]:
    """``{"aspect_ratio": "--aspect", ...}``: how a library argument is spelled on this command line."""
    return {p.ours: p.flags[-1] for p in params if p.ours and p.flags[-1].startswith("--")}


def model_params(args) -> dict:
    """The model parameters given on the command line, under the library's names."""
    return {p.ours: getattr(args, p.dest) for p in MODEL_PARAMS if getattr(args, p.dest, None) is not None}
