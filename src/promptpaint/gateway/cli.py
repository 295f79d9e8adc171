"""``promptpaint gateway serve|token``: what a teacher runs to put a class behind one gateway (the
command-line rows are in ``promptpaint/cli/gateway.py``).

  promptpaint gateway serve --ledger postgresql://teacher@db/course [--host H] [--port P] [--jupyterhub]
  promptpaint gateway token add alice --ledger URL      (prints the token alone on its last line)
  promptpaint gateway token list|revoke ...

The provider keys and upstream addresses come from the gateway's own environment
(OPENAI_API_KEY, GEMINI_API_KEY or GOOGLE_API_KEY, OPENAI_BASE_URL, GOOGLE_GEMINI_BASE_URL);
students' kernels get only PROMPTPAINT_GATEWAY and their token.
"""

from __future__ import annotations

import logging
import os
import sys
from decimal import Decimal

DEFAULT_PORT = 8765


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


def token(args) -> int:
    from . import tokens

    led = open_ledger(args.ledger)
    action = args.action1  # gateway (action) > token (action1) > add|list|revoke
    if action == "add":
        token = tokens.add(led, args.user)
        print(f"A gateway token for {args.user}. It is shown only now: give it to them privately; they set "
              "PROMPTPAINT_TOKEN to it (with PROMPTPAINT_GATEWAY to the gateway's address).")
        print(token)
    elif action == "revoke":
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
    from .readers import readers

    out = {}
    for name, (_prefix, reader) in readers().items():
        cls = provider_class(name)
        key = next((os.environ[v].strip() for v in cls.key_env if os.environ.get(v, "").strip()), None)
        redact.register(key)
        base = (os.environ.get(cls.base_url_env, "").strip() or cls.default_base_url).rstrip("/")
        config.check_base_url(name, base, cls.base_url_env)
        out[name] = Upstream(reader, base, key)
    return out


def serve(args) -> int:
    import uvicorn

    from ..config import dollars
    from ..errors import InvalidRequest
    from .app import MB, Settings, create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ups = upstreams()
    if not any(u.key for u in ups.values()):
        from ..providers import provider_class

        names = " and/or ".join(provider_class(n).key_env[-1] for n in ups)
        raise InvalidRequest(f"The gateway has no provider key: set {names} in the gateway's environment "
                             "(never in the students').")
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
