"""The gateway's routes: the providers' own wire APIs, and the caller's own report.

  POST /openai/v1/images/generations | /openai/v1/images/edits
  POST /gemini/v1beta/models/{model}:generateContent | :streamGenerateContent?alt=sse (also /v1/)
  GET  /promptpaint/v1/me     GET /healthz

Each provider call goes: who (auth) -> body within the size limit -> what it is (the provider's
request reader) -> what it may cost (rules.price) -> the rate -> reserve (the ledger checks every
cap atomically) -> forward with the teacher's key -> book from the usage (booking).
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ..errors import BudgetExceeded, PromptpaintError
from ..ledger import LedgerError
from ..providers.gemini import inbound as gemini_inbound
from ..providers.openai import inbound as openai_inbound
from ..providers.inbound import NotForwarded
from . import me as me_report
from .auth import Auth, credential
from .booking import Booking
from .forward import Relay, Upstream, answer_headers, request_id
from .refusals import refuse
from .rules import Rates, Refusal, price

log = logging.getLogger("promptpaint.gateway")
MB = 1024 * 1024


@dataclass
class Settings:
    ledger: object
    upstreams: dict            # provider -> Upstream
    hub: bool = False
    ceiling: Decimal | None = None
    max_body: int = 50 * MB
    timeout: float = 600.0
    prefix: str = ""           # also served under this path (a JupyterHub service's prefix)
    auth: Auth | None = field(default=None, repr=False)


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    too_big = Refusal(413, "request_too_large", f"The request is larger than the gateway's limit of "
                      f"{limit // MB} MB.")
    if length.isdigit() and int(length) > limit:
        raise too_big
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise too_big
    return bytes(buf)


async def _who(request: Request, settings: Settings) -> str:
    token = credential(request.headers)
    if not token:
        raise Refusal(401, "missing_token", "No gateway token: pass it where the SDK takes its API key "
                      "(PROMPTPAINT_TOKEN for promptpaint). Your teacher gives you one.")
    user = await run_in_threadpool(settings.auth.user, token)
    if user is None:
        raise Refusal(401, "invalid_token", "This gateway token is not valid (revoked or mistyped): ask "
                      "your teacher for a new one.")
    return user


def _read(provider: str, request: Request, body: bytes):
    """The provider's reader for this route, and the request it read."""
    if provider == "openai":
        route = request.path_params["route"]
        return openai_inbound, openai_inbound.inbound(route, body, request.headers.get("content-type", ""))
    model, _, method = request.path_params["call"].partition(":")
    stream = method == "streamGenerateContent"
    if method not in ("generateContent", "streamGenerateContent"):
        raise Refusal(404, "not_found", f"The gateway forwards generateContent and streamGenerateContent, "
                      f"not {method or 'this'}.")
    if stream and request.query_params.get("alt") != "sse":
        raise Refusal(400, "invalid_argument", "streamGenerateContent goes through the gateway as SSE only: "
                      "add ?alt=sse.")
    return gemini_inbound, gemini_inbound.inbound(model, body, stream=stream)


async def provider_call(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    params = request.path_params
    provider = "openai" if "route" in params else "gemini"
    if params.get("route", "generations") not in ("generations", "edits") or \
            params.get("version", "v1") not in ("v1", "v1beta"):
        return refuse(provider, 404, f"The gateway has no route POST {request.url.path}.", code="not_found")
    if not settings.upstreams[provider].key:
        return refuse(provider, 503, f"This gateway has no {provider} key: use the other provider, or ask "
                      "the teacher.", code="provider_not_configured")
    try:
        user = await _who(request, settings)
        body = await _body(request, settings.max_body)
        try:
            reader, inb = _read(provider, request, body)
        except NotForwarded as exc:
            raise Refusal(400, "invalid_request", exc.message, param=exc.param) from None
        priced = price(inb, settings.ceiling)
        await run_in_threadpool(request.app.state.rates.check, user)
        booking = Booking(settings.ledger, user, inb, priced, reader.outcome)
        try:
            await booking.reserve()
        except BudgetExceeded as exc:
            raise Refusal(402, "budget_exceeded", exc.message) from None
    except Refusal as exc:
        return refuse(provider, exc.status, exc.message, code=exc.code, param=exc.param,
                      retry_after=exc.retry_after)
    except LedgerError as exc:
        log.error("ledger: %s", exc)
        return refuse(provider, 503, "The class ledger cannot be reached; nothing was sent or booked. "
                      "Tell the teacher.", code="ledger_unavailable")
    return await _forward(request, settings, provider, inb, booking, body)


async def _forward(request, settings, provider, inb, booking: Booking, body: bytes) -> Response:
    up: Upstream = settings.upstreams[provider]
    # The upstream path is rebuilt from what was checked (never the raw path): the model priced
    # is the model called.
    params = request.path_params
    if provider == "openai":
        tail = f"images/{params['route']}"
    else:
        tail = f"{params['version']}/models/{inb.model}:{params['call'].partition(':')[2]}"
    client: httpx.AsyncClient = request.app.state.http
    # Only the query the provider needs (alt=sse): a ?key= would carry a credential upstream.
    query = {k: v for k, v in request.query_params.items() if k == "alt"}
    req = client.build_request("POST", f"{up.base_url}/{tail}", params=query,
                               content=body, headers=up.headers(request.headers))
    try:
        resp = await client.send(req, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        await booking.release(f"the provider could not be reached: {type(exc).__name__}")
        return refuse(provider, 502, "The gateway could not reach the provider; nothing was billed. "
                      "Try again.", code="upstream_unreachable")
    except httpx.HTTPError as exc:
        await booking.unknown(f"no answer from the provider: {type(exc).__name__}")
        return refuse(provider, 504, "The provider did not answer in time; the call may have been billed "
                      "and is counted at its worst case.", code="upstream_timeout")
    rid = request_id(resp)
    streamed = resp.headers.get("content-type", "").startswith("text/event-stream")
    if resp.status_code == 200 and streamed:
        async def done(data: bytes, complete: bool, problem: str | None) -> None:
            if complete:
                await booking.settle_answer(data, streamed=True, request_id=rid)
            else:
                await booking.unknown(problem or "the stream ended early", rid)

        return Relay(resp, done, up.scrub)
    try:
        data = await resp.aread()
    except httpx.HTTPError as exc:
        await booking.unknown(f"the answer was cut off: {type(exc).__name__}", rid)
        return refuse(provider, 502, "The provider's answer was cut off; the call may have been billed "
                      "and is counted at its worst case.", code="upstream_cut_off")
    finally:
        await resp.aclose()
    if 200 <= resp.status_code < 300:
        await booking.settle_answer(data, streamed=streamed, request_id=rid)
    else:
        await booking.settle_error(resp.status_code, data, rid)
        if resp.status_code == 401 or b"API_KEY_INVALID" in data:
            log.error("the provider refused the gateway's %s key (HTTP %s)", provider, resp.status_code)
            return refuse(provider, 502, f"The class's {provider} key was refused by the provider; "
                          "nothing was billed. Tell the teacher.", code="upstream_key_refused")
    return Response(up.scrub(data), status_code=resp.status_code, headers=answer_headers(resp))


async def me(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    try:
        user = await _who(request, settings)
    except Refusal as exc:
        return refuse(None, exc.status, exc.message, code=exc.code)
    rates: Rates = request.app.state.rates
    report = await run_in_threadpool(lambda: me_report.report(settings.ledger, user, rate=rates.limit(user)))
    return Response(json.dumps(report, default=str), media_type="application/json")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _not_found(request: Request, exc: HTTPException) -> Response:
    path = request.url.path
    provider = "gemini" if "/gemini/" in path else "openai" if "/openai/" in path else None
    if exc.status_code == 404:
        return refuse(provider, 404, f"The gateway has no route {request.method} {path}: it forwards the "
                      "OpenAI Images API under /openai/v1 and Gemini generateContent under /gemini.",
                      code="not_found")
    return refuse(provider, exc.status_code, str(exc.detail), code="http_error")


def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, PromptpaintError):
        log.error("%s: %s", type(exc).__name__, exc.message)
    else:
        log.exception("unexpected error")
    return refuse(None, 500, "The gateway failed on this request; it has been logged.", code="gateway_error")


def routes() -> list:
    return [
        Route("/openai/v1/images/{route:str}", provider_call, methods=["POST"]),
        Route("/gemini/{version:str}/models/{call:str}", provider_call, methods=["POST"]),
        Route("/promptpaint/v1/me", me, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def create_app(settings: Settings) -> Starlette:
    if settings.auth is None:
        settings.auth = Auth(settings.ledger, hub=settings.hub)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        async with httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout, connect=10.0), limits=limits,
                                     trust_env=False) as http:
            app.state.http = http
            yield

    table = routes()
    if settings.prefix.strip("/"):
        table = [Mount("/" + settings.prefix.strip("/"), routes=routes()), *table]
    app = Starlette(routes=table, lifespan=lifespan,
                    exception_handlers={HTTPException: _not_found, Exception: _error})
    app.state.settings = settings
    app.state.rates = Rates(settings.ledger)
    return app
