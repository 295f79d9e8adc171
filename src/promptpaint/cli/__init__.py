"""``promptpaint generate|edit|cost|models|ledger|budget|gateway``: the engine from a shell, with exit codes
scripts can branch on.

One module per group of subcommands, each with a ``COMMANDS`` list of ``params.Command`` rows built
from the one parameter table in ``params.py``; ``GROUPS`` below registers the modules. Adding a
subcommand (``gateway``) is a module with ``COMMANDS`` and its name in ``GROUPS``; adding a flag
(``models --check``) is a ``Param`` row in that command's ``params``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import warnings

from .params import Command, Param, flags_for_library_names

#: The modules of subcommands, in the order ``--help`` lists them.
GROUPS = ("images", "cost", "models", "ledger", "gateway")

# Exit codes, and what each means in the epilog of --help.
EXIT = {"ok": 0, "error": 1, "usage": 2, "auth": 3, "refused": 4, "rate": 5, "budget": 6,
        "provider": 7, "retired": 8}
EXIT_WORDS = {0: "ok", 1: "any other error", 2: "bad input", 3: "key or access", 4: "refused",
              5: "rate limit or quota", 6: "budget", 7: "provider error or timeout", 8: "retired or unreachable model"}


def _exit_code(exc) -> int:
    from .. import errors as e

    for cls, name in ((e.AuthError, "auth"), (e.AccessError, "auth"), (e.Refused, "refused"),
                      (e.RateLimited, "rate"), (e.QuotaExceeded, "rate"), (e.BudgetExceeded, "budget"),
                      (e.ModelRetired, "retired"), (e.ModelUnavailable, "retired"), (e.InvalidRequest, "usage"),
                      (e.ProviderError, "provider"), (e.Timeout, "provider")):
        if isinstance(exc, cls):
            return EXIT[name]
    return EXIT["error"]


def for_shell(text: str) -> str:
    """A library message reworded for the command line: flags instead of Python arguments."""
    flags = flags_for_library_names()

    def client(m):
        out = f"--provider {m.group(2)}"
        return out + (f" --model {m.group(4)}" if m.group(4) else "")

    text = re.sub(r"pp\.Client\((['\"])(\w+)\1(?:, model=(['\"])([^'\"]+)\3)?(?:, api_key=…)?\)", client, text)
    text = re.sub(r",? or (?:pass )?(?:api_key|base_url)=", "", text)
    text = text.replace("retry_on_timeout=True", "--retry-on-timeout")
    names = "|".join(n for n in flags if n not in ("provider", "retry_on_timeout"))
    text = re.sub(r"\b(" + names + r")=(?=[\s.,;:)]|$)", lambda m: flags[m.group(1)], text)
    return re.sub(r"\b(" + names + r")=", lambda m: flags[m.group(1)] + "=", text)


class Facts:
    """What help texts say about providers and models, read from the provider classes and the
    registry (never written here), once per parser."""

    def __init__(self):
        from .. import providers, registry

        self.providers = [c for c in providers.all_providers() if not c.offline]
        current = [m for m in registry.all_models() if not m.is_retired()]
        self.takes = {}  # model parameter -> labels of the providers with a model that takes it
        for cls in self.providers:
            for m in current:
                if m.provider == cls.name:
                    for name in m.params:
                        self.takes.setdefault(name, [])
                        if cls.label not in self.takes[name]:
                            self.takes[name].append(cls.label)
        firsts = [next((m.id for m in current if m.provider == c.name), None) for c in self.providers]
        self.words = {
            "labels": " or ".join(c.label for c in self.providers),
            "keys": " / ".join(name for c in self.providers for name in c.key_env),
            "examples": " or ".join(f for f in firsts if f),
        }

    def help(self, p: Param) -> str:
        text = p.help.format(**self.words)
        takes = self.takes.get(p.ours, [])
        if p.model_param and takes and len(takes) < len(self.providers):
            text += f" ({', '.join(takes)})"
        return text


def _add(sub, cmd: Command, facts: Facts, depth: int = 0) -> None:
    text = cmd.help.format(**facts.words)
    parser = sub.add_parser(cmd.name, help=text, description=cmd.description or text[0].upper() + text[1:] + ".")
    for p in cmd.params:
        p.add_to(parser, facts.help(p))
    if cmd.run is not None:
        parser.set_defaults(run=cmd.run)
    if cmd.actions:
        names = [a.name for a in cmd.actions]
        actions = parser.add_subparsers(dest=f"action{depth or ''}", required=True, metavar="action",
                                        help=", ".join(names[:-1]) + " or " + names[-1])
        for action in cmd.actions:
            _add(actions, action, facts, depth + 1)


def commands() -> list[Command]:
    """Every subcommand, from the modules in ``GROUPS``."""
    return [cmd for group in GROUPS for cmd in importlib.import_module(f".{group}", __name__).COMMANDS]


def build_parser() -> argparse.ArgumentParser:
    from ..version import version

    facts = Facts()
    ap = argparse.ArgumentParser(
        prog="promptpaint",
        description=f"Generate and edit images with {facts.words['labels']} image models; see what it "
                    f"cost. Keys come from {facts.words['keys']}; with none, --provider offline runs at $0.",
        epilog="Exit codes: " + ", ".join(f"{code} {what}" for code, what in EXIT_WORDS.items()) + ".")
    ap.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="command")
    for cmd in commands():
        _add(sub, cmd, facts)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..errors import PromptpaintError

    warnings.simplefilter("default")
    from .safe import shown

    warnings.formatwarning = lambda msg, cat, *a, **k: f"promptpaint: {shown(msg, lines=True)}\n"
    try:
        return args.run(args)
    except PromptpaintError as exc:
        from .safe import shown

        # A model's or a server's words may carry control characters: shown, never obeyed.
        print(f"promptpaint: {type(exc).__name__}: {shown(for_shell(str(exc)), lines=True)}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
