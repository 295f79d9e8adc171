"""The gateway's routes: each provider's own wire API under its prefix (``{gateway}/{provider}``
plus the path of the provider's base URL, e.g. ``/openai/v1/images/generations``,
``/gemini/v1beta/models/{model}:generateContent``), and ``GET /promptpaint/v1/me``, ``GET /healthz``.

Each provider call goes: who (auth) -> body within the size limit -> what it is (the provider's
reader) -> what it may cost (rules.price) -> the rate -> reserve (the ledger checks every cap
atomically) -> forward with the teacher's key -> book from the usage (booking). The routes and
everything provider-shaped come from the readers (``readers.py``): no provider is named here.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal

import anyio
import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ..errors import BudgetExceeded, GatewayRefusal, InvalidRequest, LedgerError, PromptpaintError
from . import me as me_report
from .auth import Auth, credential
from .booking import Booking
from .forward import Relay, Upstream, answer_headers, request_id
from .readers import reader_for_path, readers
from .refusals import refuse
from .rules import Rates, price

log = logging.getLogger("promptpaint.gateway")
MB = 1024 * 1024


@dataclass
class Settings:
    ledger: object
    upstreams: dict            # provider name -> Upstream
    hub: bool = False
    ceiling: Decimal | None = None
    max_body: int = 50 * MB
    timeout: float = 600.0
    prefix: str = ""           # also served under this path (a JupyterHub service's prefix)
    auth: Auth | None = field(default=None, repr=False)


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    too_big = GatewayRefusal(413, "request_too_large", f"The request is larger than the gateway's limit of "
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
        raise GatewayRefusal(401, "missing_token", "No gateway token: pass it where the SDK takes its API key "
                             "(PROMPTPAINT_TOKEN for promptpaint). Your teacher gives you one.")
    try:
        user = await run_in_threadpool(settings.auth.user, token)
    except (LedgerError, GatewayRefusal):
        raise
    except Exception as exc:  # the Hub could not be asked (down, restarting): nothing is sent or booked
        log.error("checking a token failed: %s", type(exc).__name__)
        raise GatewayRefusal(503, "auth_unavailable", "The gateway cannot check tokens right now; try again "
                             "in a minute.") from None
    if user is None:
        raise GatewayRefusal(401, "invalid_token", "This gateway token is not valid (revoked or mistyped): "
                             "ask your teacher for a new one.")
    return user


def _refused(reader, exc: GatewayRefusal) -> Response:
    return refuse(reader, exc.status, exc.message, code=exc.code, param=exc.param, retry_after=exc.retry_after)


def _upstream(request: Request, name: str) -> tuple[Settings, Upstream, Response | None]:
    """The gateway's settings, the provider's upstream, and the refusal to send when the teacher
    set no key for it (None when there is one)."""
    settings: Settings = request.app.state.settings
    up: Upstream = settings.upstreams[name]
    if up.key:
        return settings, up, None
    return settings, up, refuse(up.reader, 503, f"This gateway has no {name} key: use another provider, "
                                "or ask the teacher.", code="provider_not_configured")


async def provider_call(request: Request, name: str) -> Response:
    settings, up, missing = _upstream(request, name)
    reader = up.reader
    if missing is not None:
        return missing
    try:
        user = await _who(request, settings)
        body = await _body(request, settings.max_body)
        try:
            inb = reader.read(request.path_params, request.query_params, request.headers, body)
        except InvalidRequest as exc:
            raise GatewayRefusal(400, "invalid_request", exc.message, param=exc.param) from None
        priced = price(inb, settings.ceiling)
        booking = Booking(settings.ledger, user, inb, priced, reader.outcome)
        # One user's requests to this gateway count and book one at a time, so a burst cannot all
        # pass the rate check before any of them is booked (across gateways the count may lag by
        # the requests in flight at that moment).
        async with request.app.state.user_locks.setdefault(user, anyio.Lock()):
            await run_in_threadpool(request.app.state.rates.check, user)
            try:
                await booking.reserve()
            except BudgetExceeded as exc:
                raise GatewayRefusal(402, "budget_exceeded", exc.message) from None
    except GatewayRefusal as exc:
        return _refused(reader, exc)
    except LedgerError as exc:
        log.error("ledger: %s", exc)
        return refuse(reader, 503, "The class ledger cannot be reached; nothing was sent or booked. "
                      "Tell the teacher.", code="ledger_unavailable")
    return await _forward(request, up, inb, booking, body)


async def _forward(request, up: Upstream, inb, booking: Booking, body: bytes) -> Response:
    reader, name = up.reader, inb.provider
    client: httpx.AsyncClient = request.app.state.http
    # The upstream path and query are rebuilt from what was checked (never the raw path, and never
    # a ?key=): the model priced is the model called, and no credential of the student's goes on.
    req = client.build_request("POST", f"{up.base_url}/{reader.upstream_path(request.path_params, inb)}",
                               params=reader.upstream_query(request.query_params), content=body,
                               headers=up.headers(request.headers))
    try:
        resp = await client.send(req, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        await booking.release(f"the provider could not be reached: {type(exc).__name__}")
        return refuse(reader, 502, "The gateway could not reach the provider; nothing was billed. "
                      "Try again.", code="upstream_unreachable")
    except httpx.TimeoutException as exc:
        await booking.unknown(f"no answer from the provider in time: {type(exc).__name__}")
        return refuse(reader, 504, "The provider did not answer in time; the call may have been billed "
                      "and is counted at its worst case.", code="upstream_timeout")
    except httpx.HTTPError as exc:
        await booking.unknown(f"the provider closed the connection without an answer: {type(exc).__name__}")
        return refuse(reader, 502, "The provider closed the connection without an answer; the call may have "
                      "been billed and is counted at its worst case.", code="upstream_cut_off")
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
        return refuse(reader, 502, "The provider's answer was cut off; the call may have been billed "
                      "and is counted at its worst case.", code="upstream_cut_off")
    finally:
        await resp.aclose()
    if 200 <= resp.status_code < 300:
        await booking.settle_answer(data, streamed=streamed, request_id=rid)
    else:
        await booking.settle_error(resp.status_code, data, rid)
        if resp.status_code == 401 or b"API_KEY_INVALID" in data:
            log.error("the provider refused the gateway's %s key (HTTP %s)", name, resp.status_code)
            return refuse(reader, 502, f"The class's {name} key was refused by the provider; nothing was "
                          "billed. Tell the teacher.", code="upstream_key_refused")
    return Response(up.scrub(data), status_code=resp.status_code, headers=answer_headers(resp))


async def me(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    rates: Rates = request.app.state.rates
    try:
        user = await _who(request, settings)
        report = await run_in_threadpool(lambda: me_report.report(settings.ledger, user, rate=rates.limit(user)))
    except GatewayRefusal as exc:
        return _refused(None, exc)
    except LedgerError as exc:
        log.error("ledger: %s", exc)
        return refuse(None, 503, "The class ledger cannot be reached; try again later.", code="ledger_unavailable")
    return Response(json.dumps(report, default=str), media_type="application/json")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _http_error(request: Request, exc: HTTPException) -> Response:
    reader = reader_for_path(request.url.path)
    if exc.status_code in (404, 405):
        served = ", ".join(pre for pre, _ in readers().values())
        return refuse(reader, 404, f"The gateway has no route {request.method} {request.url.path}: it "
                      f"forwards each provider's own API under its prefix ({served}).", code="not_found")
    return refuse(reader, exc.status_code, str(exc.detail), code="http_error")


def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, PromptpaintError):
        log.error("%s: %s", type(exc).__name__, exc.message)
    else:
        log.exception("unexpected error")
    return refuse(None, 500, "The gateway failed on this request; it has been logged.", code="gateway_error")


async def model_list(request: Request, name: str) -> Response:
    """The provider's model list, with the teacher's key, for a student with a token: nothing is
    billed for it, so nothing is reserved or booked."""
    settings, up, missing = _upstream(request, name)
    reader = up.reader
    if missing is not None:
        return missing
    try:
        await _who(request, settings)
    except GatewayRefusal as exc:
        return _refused(reader, exc)
    path = reader.list_path(request.path_params)
    if path is None:
        return refuse(reader, 404, f"The gateway has no route GET {request.url.path}.", code="not_found")
    client: httpx.AsyncClient = request.app.state.http
    try:
        resp = await client.get(f"{up.base_url}/{path}", params=reader.list_query(request.query_params),
                                headers=up.headers(request.headers))
    except httpx.HTTPError as exc:
        log.error("model list: %s", type(exc).__name__)
        return refuse(reader, 502, "The gateway could not reach the provider. Try again.",
                      code="upstream_unreachable")
    return Response(up.scrub(resp.content), status_code=resp.status_code, headers=answer_headers(resp),
                    media_type=resp.headers.get("content-type", "application/json"))


def _endpoint(name: str, handler=provider_call):
    async def endpoint(request: Request) -> Response:
        return await handler(request, name)

    endpoint.__name__ = f"{name}_{handler.__name__}"
    return endpoint


def routes() -> list:
    table = [Route(pre + path, _endpoint(name), methods=["POST"])
             for name, (pre, reader) in readers().items() for path in reader.ROUTES]
    table += [Route(pre + path, _endpoint(name, model_list), methods=["GET"])
              for name, (pre, reader) in readers().items() for path in getattr(reader, "LIST_ROUTES", ())]
    return table + [Route("/promptpaint/v1/me", me, methods=["GET"]), Route("/healthz", healthz, methods=["GET"])]


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
                    exception_handlers={HTTPException: _http_error, Exception: _error})
    app.state.settings = settings
    app.state.rates = Rates(settings.ledger)
    app.state.user_locks = {}
    return app
