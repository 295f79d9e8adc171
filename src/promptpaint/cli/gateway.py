"""``promptpaint gateway serve|token add|list|revoke``: the class budget gateway (its server in
``promptpaint.gateway``; Starlette, uvicorn and httpx load only when it serves)."""

from __future__ import annotations

from .params import LEDGER_FLAG, Command, P

GATEWAY_LEDGER = P("--ledger", help="the class ledger: postgresql://... or a SQLite file (default: PROMPTPAINT_LEDGER)")


def serve(args) -> int:
    from ..gateway import cli

    return cli.serve(args)


def token(args) -> int:
    from ..gateway import cli

    return cli.token(args)


COMMANDS = [
    Command("gateway", "the class budget gateway: holds the keys, enforces every cap", None, actions=(
        Command("serve", "run the gateway (provider keys from this environment)", serve, (
            GATEWAY_LEDGER,
            P("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"),
            P("--port", type=int, help="port (default 8765)"),
            P("--jupyterhub", action="store_true",
              help="run as a JupyterHub service: also accept users' own JUPYTERHUB_API_TOKEN"),
            P("--ceiling", metavar="USD",
              help="admit settings nothing else bounds (xhigh, max) at this worst case per call"),
            P("--max-body", type=int, default=50, metavar="MB", help="largest request (default 50 MB)"),
        )),
        Command("token", "students' tokens: add, list, revoke", None, actions=(
            Command("add", "make a token for USER (printed once, alone on the last line)", token,
                    (P("user", help="the student's name, as the ledger and the caps know it"), GATEWAY_LEDGER)),
            Command("list", "list tokens (never the tokens themselves)", token, (GATEWAY_LEDGER,)),
            Command("revoke", "stop every token of USER at once", token,
                    (P("user", help="the student's name"), GATEWAY_LEDGER)),
        )),
    ), description="The class budget gateway: it holds the provider keys and the class ledger, and "
                   "students' kernels call the providers through it with a token."),
]

__all__ = ["COMMANDS", "LEDGER_FLAG"]
