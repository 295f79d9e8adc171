"""``promptpaint gateway serve|token``: what a teacher runs to put a class behind one gateway.

  promptpaint gateway serve --ledger postgresql://teacher@db/course [--host H] [--port P] [--jupyterhub]
  promptpaint gateway token add alice --ledger URL      (prints the token alone on its last line)
  promptpaint gateway token list|revoke ...

The provider keys and upstream addresses come from the gateway's own environment
(OPENAI_API_KEY, GEMINI_API_KEY or GOOGLE_API_KEY, OPENAI_BASE_URL, GOOGLE_GEMINI_BASE_URL);
students' kernels get only PROMPTPAINT_GATEWAY and their token.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from decimal import Decimal

DEFAULT_PORT = 8765


def add_parser(sub) -> None:
    gw = sub.add_parser("gateway", help="the class budget gateway: holds the keys, enforces every cap",
                        description="The class budget gateway: it holds the provider keys and the class "
                        "ledger, and students' kernels call the providers through it with a token.")
    gsub = gw.add_subparsers(dest="gateway_action", required=True, metavar="action", help="serve or token")
    serve = gsub.add_parser("serve", help="run the gateway (keys from this environment)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--jupyterhub", action="store_true",
                       help="run as a JupyterHub service: also accept users' own JUPYTERHUB_API_TOKEN")
    serve.add_argument("--ceiling", metavar="USD",
                       help="admit settings nothing else bounds (xhigh, max) at this worst case per call")
    serve.add_argument("--max-body", type=int, default=50, metavar="MB", help="largest request (default 50 MB)")
    tok = gsub.add_parser("token", help="students' tokens: add, list, revoke")
    tsub = tok.add_subparsers(dest="token_action", required=True, metavar="action")
    add = tsub.add_parser("add", help="make a token for USER (printed once, alone on the last line)")
    add.add_argument("user")
    lst = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    rev = tsub.add_parser("revoke", help="stop every token of USER at once")
    rev.add_argument("user")
    for p in (serve, add, lst, rev):
        p.add_argument("--ledger", help="the class ledger: postgresql://... or a SQLite file "
                                        "(default: PROMPTPAINT_LEDGER)")


def open_ledger(where: str | None):
    from ..errors import InvalidRequest
    from ..ledger import SQLiteLedger

    where = where or os.environ.get("PROMPTPAINT_LEDGER", "").strip()
    if not where:
        raise InvalidRequest("Name the class ledger: --ledger postgresql://OWNER@HOST/DB (or a SQLite "
                             "file for one host), made with `promptpaint ledger init`.")
    if where.startswith(("postgresql://", "postgres://")):
        from ..ledger.postgres import PostgresLedger

        led = PostgresLedger(where)
        led.keep_idle = 40  # one connection per worker thread (anyio's default pool), none opened per call
        return led
    return SQLiteLedger(os.path.expanduser(where))


def main(args) -> int:
    if args.gateway_action == "token":
        return _token(args)
    return _serve(args)


def _token(args) -> int:
    from . import tokens

    led = open_ledger(args.ledger)
    if args.token_action == "add":
        token = tokens.add(led, args.user)
        print(f"A gateway token for {args.user}. It is shown only now: give it to them privately; they set "
              "PROMPTPAINT_TOKEN to it (with PROMPTPAINT_GATEWAY to the gateway's address).")
        print(token)
    elif args.token_action == "revoke":
        n = tokens.revoke(led, args.user)
        print(f"{args.user}: {n} token{'s' if n != 1 else ''} revoked" if n else f"{args.user} has no live token")
    else:
        rows = tokens.listing(led)
        for r in rows:
            state = f"revoked {r['revoked'][:19]}" if r["revoked"] else "live"
            print(f"{r['user']:24} {r['id']}  made {r['created'][:19]}  {state}")
        if not rows:
            print("no tokens")
    return 0


def upstreams() -> dict:
    """The providers this gateway calls, with the teacher's keys, from its own environment."""
    from .. import config, redact
    from ..providers import provider_class
    from .forward import Upstream

    out = {}
    for name in ("openai", "gemini"):
        cls = provider_class(name)
        key = next((os.environ[v].strip() for v in cls.key_env if os.environ.get(v, "").strip()), None)
        redact.register(key)
        base = (os.environ.get(cls.base_url_env, "").strip() or cls.default_base_url).rstrip("/")
        config.check_base_url(name, base, cls.base_url_env)
        out[name] = Upstream(name, base, key)
    return out


def _serve(args) -> int:
    import uvicorn

    from ..config import dollars
    from ..errors import InvalidRequest
    from .app import MB, Settings, create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ups = upstreams()
    if not any(u.key for u in ups.values()):
        raise InvalidRequest("The gateway has no provider key: set OPENAI_API_KEY and/or GEMINI_API_KEY in "
                             "the gateway's environment (never in the students').")
    host, port, prefix = args.host, args.port, ""
    if args.jupyterhub:
        from urllib.parse import urlsplit

        service = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL", ""))
        host = host or service.hostname
        port = port or service.port
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
    host, port = host or "127.0.0.1", port or DEFAULT_PORT
    settings = Settings(ledger=open_ledger(args.ledger), upstreams=ups, hub=args.jupyterhub,
                        ceiling=Decimal(dollars(args.ceiling, "--ceiling")) if args.ceiling else None,
                        max_body=args.max_body * MB, prefix=prefix)
    app = create_app(settings)
    where = getattr(settings.ledger, "where", None) or getattr(settings.ledger, "path", "")
    print(f"promptpaint gateway on http://{host}:{port} (ledger {where}; keys for "
          f"{', '.join(n for n, u in ups.items() if u.key)}). Kernels: PROMPTPAINT_GATEWAY=http://{host}:{port}",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=True)
    return 0


if __name__ == "__main__":  # python -m promptpaint.gateway.cli serve ...
    ap = argparse.ArgumentParser(prog="promptpaint")
    add_parser(ap.add_subparsers(dest="command", required=True))
    sys.exit(main(ap.parse_args(sys.argv[1:])))
