"""HTTP with retries that respect the server, and messages that never carry a key.

A request is retried only when it certainly did not reach the provider (DNS, refused, connect
timeout) or when the server said so (408/409/429/5xx with the provider's JSON error). Anything
else that leaves us without a usable answer after the request was sent (a read timeout, a drop, a
cut-off or unreadable answer, a gateway's 5xx page) is raised with ``maybe_billed=True`` and never
resent.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import requests
from urllib3 import exceptions as urllib3_exceptions
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProxyError, ReadTimeoutError

from . import config
from .errors import AuthError, Cancelled, InvalidRequest, PromptpaintError, ProviderError, RateLimited, Timeout
from .redact import SecretURL, origin as _origin, redact_url, scrub, scrubbed as _scrubbed
from .retry_after import _seconds, server_delay
from .streamwatch import Watch

__all__ = ["Reply", "RetryPolicy", "Transport", "Watch", "on_retry", "scrub", "server_delay"]

log = logging.getLogger("promptpaint")

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
MAX_SERVER_WAIT = 120.0  # a server asking for a longer wait gets an error with retry_after instead

#: Called (when set) before each retry's wait with ``{"provider", "title", "message", "delay",
#: "attempt", "attempts"}``; a UI sets it in its worker thread to say "Rate limited — retrying in
#: 3 s (attempt 2 of 3)". A ContextVar, so each thread or task sees only its own.
on_retry: contextvars.ContextVar[Callable[[dict], None] | None] = contextvars.ContextVar(
    "promptpaint_on_retry", default=None)

BILLED_HINT = "The call may have been billed; it was not retried. Try again."


@dataclass
class Reply:
    status: int
    headers: dict
    body: dict
    request_id: str | None
    elapsed: float
    attempts: int
    stream: requests.Response | None = field(default=None, repr=False)  # an open event stream


@dataclass
class RetryPolicy:
    max_retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0
    retry_on_timeout: bool = False


@dataclass
class Transport:
    """Posts to one provider. ``classify`` turns a failed reply into the right error;
    ``hint_delay`` reads a provider-specific wait from the body (a Retry-Info detail);
    ``request_id_headers`` are where the provider names its request id, in the order read.

    Redirects are never followed: requests drops ``Authorization`` on a cross-host redirect but
    not a key in a header of the provider's own, and an API call has no business being
    redirected anyway.
    """

    provider: str
    secrets: tuple[str, ...] = field(repr=False)
    classify: Callable[[int, dict, dict, str | None], PromptpaintError] = field(repr=False)
    hint_delay: Callable[[dict], float | None] = field(default=lambda body: None, repr=False)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: tuple[float, float] = (10.0, 600.0)
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    request_id_headers: tuple[str, ...] = ("x-request-id",)

    def request_id(self, headers) -> str | None:
        """The provider's id for a request, from the reply's headers (None if it gave none)."""
        return next((headers[h] for h in self.request_id_headers if headers.get(h)), None)

    def post(self, url: str, *, headers: dict, json: dict | None = None, data=None, files=None,
             cancel: threading.Event | None = None, stream: bool = False) -> Reply:
        """Post and return the answer. With ``stream``, a 2xx ``text/event-stream`` answer comes
        back unread as ``Reply.stream``, for ``chunks()``; any other answer is read as usual."""
        return self.request("POST", url, headers=headers, json=json, data=data, files=files,
                            cancel=cancel, stream=stream)

    def get(self, url: str, *, headers: dict, cancel: threading.Event | None = None) -> Reply:
        """GET a JSON answer (a model list, a job's state), retried like a post: a GET changes nothing."""
        return self.request("GET", url, headers=headers, cancel=cancel)

    def request(self, method: str, url: str, *, headers: dict, json: dict | None = None, data=None,
                files=None, cancel: threading.Event | None = None, stream: bool = False) -> Reply:
        """One API call with this Transport's retries; the JSON answer as a ``Reply``."""
        url = SecretURL(url)  # prints without credentials, here and in tracebacks with locals
        start = time.monotonic()
        attempt = 0
        attempts = self.retry.max_retries + 1
        while True:
            attempt += 1
            if cancel is not None and cancel.is_set():
                raise Cancelled("Cancelled before the request was sent.", provider=self.provider)
            # Each failure is turned into our error inside the except clause and raised outside
            # it, so no requests/urllib3 exception (which holds the headers, hence the key) is
            # left in __context__ or __cause__.
            err, wait, retryable, resp = None, None, False, None
            try:
                resp = self._send(method, url, headers, json, data, files, stream)
            except (requests.exceptions.RequestException, UnicodeError, ValueError) as exc:
                err, retryable = self._failure(exc, url)
            if resp is not None:
                rid = self.request_id(resp.headers)
                if 300 <= resp.status_code < 400:
                    resp.close()
                    err = self._redirected(resp, url, rid)
                elif resp.status_code < 300 and "event-stream" in resp.headers.get("content-type", ""):
                    return Reply(resp.status_code, dict(resp.headers), {}, rid,
                                 time.monotonic() - start, attempt, stream=resp)
                else:
                    body, parse_error = _parse(resp)
                    if resp.status_code < 400 and parse_error is None:
                        return Reply(resp.status_code, dict(resp.headers), body, rid,
                                     time.monotonic() - start, attempt)
                    if resp.status_code < 400:
                        # A 2xx we cannot read may still have been billed: do not send it again.
                        err = ProviderError(
                            f"{self.provider} answered with a body that is not valid JSON ({parse_error}).",
                            provider=self.provider, status=resp.status_code, request_id=rid,
                            hint=BILLED_HINT, maybe_billed=True)
                    else:
                        body = _scrubbed(body, self.secrets)  # rebound: this frame's locals are shown too
                        err, wait, retryable = self._answer_error(resp, body, rid, parse_error)
            if not retryable or attempt >= attempts:
                log.warning("%s call failed after %d attempt(s): %s", self.provider, attempt, err)
                raise err
            delay = min(wait, MAX_SERVER_WAIT) if wait is not None else self._backoff(attempt)
            log.info("%s: retrying in %.2f s (%s)", self.provider, delay, err.message)
            self._announce(err, delay, attempt + 1, attempts)
            if cancel is not None:
                if cancel.wait(delay):
                    raise Cancelled("Cancelled while waiting to retry.", provider=self.provider)
            else:
                self.sleep(delay)

    def once(self, method: str, url: str, *, headers: dict, json=None, data=None, files=None,
             stream: bool = False) -> requests.Response:
        """One request, never retried (a Batch API's create would bill twice), redirects refused;
        the answer as it came (for its headers, or a file to stream), or the provider's error."""
        url = SecretURL(url)
        err = resp = None
        try:
            resp = self._send(method, url, headers, json, data, files, stream)
        except (requests.exceptions.RequestException, UnicodeError, ValueError) as exc:
            err, _ = self._failure(exc, url)
        if resp is not None and resp.status_code >= 300:
            rid = self.request_id(resp.headers)
            if resp.status_code < 400:
                err = self._redirected(resp, url, rid)
            else:
                body, parse_error = _parse(resp)
                err, _, _ = self._answer_error(resp, _scrubbed(body, self.secrets), rid, parse_error)
            resp.close()
        if err is not None:
            log.warning("%s %s failed: %s", self.provider, method, err)
            raise err
        return resp

    def _send(self, method, url, headers, json, data, files, stream) -> requests.Response:
        """The one place promptpaint sends anything: redirects are never followed."""
        return self.session.request(method, url, headers=headers, json=json, data=data, files=files,
                                    timeout=self.timeout, allow_redirects=False, stream=stream)

    def chunks(self, reply: Reply, url: str, cancel: threading.Event | None = None,
               watch: "Watch | None" = None):
        """The bytes of a streamed answer as they arrive, chunked or not. A stream that breaks off
        (dropped, read timeout) raises our error with ``maybe_billed``, never retried: the work
        may have been done. ``cancel`` and ``watch`` (whose reader calls ``beat()`` per event:
        no event within ``watch.idle`` seconds) end it at once, from a watcher thread that shuts
        the socket: ``Cancelled`` or ``Timeout``, both ``maybe_billed``, since the provider may
        bill a call it has started."""
        resp = reply.stream
        watch = watch or Watch(float("inf"))  # a caller that does not beat per event gets no idle limit
        stop = watch.guard(resp, cancel)
        err = None
        try:
            while True:
                if stop.reason is None:
                    try:
                        chunk = _read_some(resp)
                    except (requests.exceptions.RequestException, urllib3_exceptions.HTTPError,
                            OSError, ValueError) as exc:
                        err = self._stream_failure(exc, url)
                        chunk = b""
                else:
                    chunk = b""
                if stop.reason is not None:
                    err = self._stopped(stop.reason, watch.idle)
                if not chunk or err is not None:
                    break
                yield chunk
        finally:
            stop.done()
            resp.close()
        if err is not None:
            err.request_id = reply.request_id
            raise err

    def _stopped(self, reason: str, idle: float) -> PromptpaintError:
        if reason == "cancel":
            return Cancelled(f"Cancelled while {self.provider} was streaming its answer.",
                             provider=self.provider, maybe_billed=True,
                             hint="The provider had started the call, so it may be billed: it stays booked "
                                  "at its reservation, cost unknown.")
        return Timeout(f"{self.provider} sent no event within {idle:g} s (only keep-alives, "
                       "or nothing); the stream was closed.", provider=self.provider, maybe_billed=True,
                       hint=BILLED_HINT)

    def _stream_failure(self, exc: BaseException, url: str) -> PromptpaintError:
        if isinstance(exc, urllib3_exceptions.ReadTimeoutError) or isinstance(exc, TimeoutError):
            return Timeout(f"{self.provider} did not answer within {self.timeout[1]:g} s.",
                           provider=self.provider, maybe_billed=True, hint=BILLED_HINT)
        if isinstance(exc, requests.exceptions.RequestException):
            return self._failure(exc, url)[0]
        why = _reason(exc)
        return ProviderError(f"{self.provider}'s answer was cut off or the connection dropped after the "
                             f"request was sent ({why}).", provider=self.provider, hint=BILLED_HINT,
                             maybe_billed=True)

    def _answer_error(self, resp, body: dict, rid, parse_error):
        """The error for a 4xx/5xx answer (``body`` already scrubbed), the server's wait (if any)
        and whether to retry."""
        err = None
        if resp.headers.get("x-promptpaint-refusal"):  # the class gateway's own refusal, not the provider's
            from .gateway.env import refusal_error

            err = refusal_error(resp.headers["x-promptpaint-refusal"], body, self.provider, rid)
        if err is None:
            err = self.classify(resp.status_code, body, resp.headers, rid)
        retryable = resp.status_code in RETRY_STATUSES and getattr(err, "retryable", True)
        if resp.status_code >= 500 and parse_error is not None:
            # Not the provider's JSON error but a gateway's page (a 502/504 from a proxy): the
            # provider may have got the request and done the work, so it is not resent.
            err.maybe_billed, err.hint, retryable = True, BILLED_HINT, False
        wait = server_delay(resp.headers)
        if wait is None:
            try:
                hinted = self.hint_delay(body)
                wait = _seconds(hinted) if hinted is not None else None
            except (AttributeError, TypeError, ValueError, KeyError):
                wait = None  # a malformed hint is no reason to lose the real error
        if isinstance(err, RateLimited) and wait is not None:
            err.retry_after = wait
        if wait is not None and wait > MAX_SERVER_WAIT:
            retryable = False
        return err, wait, retryable

    def _redirected(self, resp, url: str, rid) -> PromptpaintError:
        to = redact_url(resp.headers.get("location", "") or "(no location)")
        return ProviderError(
            f"{self.provider} at {_origin(url)} answered {resp.status_code}, a redirect to {to}. "
            "promptpaint does not follow redirects on API calls, so the key never goes to another host.",
            provider=self.provider, status=resp.status_code, request_id=rid,
            hint=f"Set the base URL ({_url_setting(self.provider)}) to the address the API really lives at.")

    def _failure(self, exc: BaseException, url: str) -> tuple[PromptpaintError, bool]:
        """Our error for an exception from requests, and whether it may be retried.

        Only a failure before the request was written (DNS, refused, connect timeout) is retried;
        a failure after it may have been billed. Failures before anything could be sent (a bad
        URL, a header value that cannot be encoded) are the caller's to fix.
        """
        p, where = self.provider, _origin(url)
        why = _reason(exc)
        x = requests.exceptions
        if isinstance(exc, (x.MissingSchema, x.InvalidSchema, x.InvalidURL)):
            return InvalidRequest(
                f"The {p} base URL {where} cannot be used ({why}).", provider=p, param="base_url",
                hint=f"Set {_url_setting(p)} to a full address such as {config.DEFAULT_BASE_URL[p]}."), False
        if isinstance(exc, (x.InvalidHeader, UnicodeError)):
            return AuthError(
                f"The {p} API key cannot be sent in an HTTP header: it contains a line break, "
                "a quote or another character headers do not allow.", provider=p,
                hint=f"Copy the key again, as plain text, into {_key_setting(p)}."), False
        if isinstance(exc, (x.InvalidJSONError, ValueError)):
            return InvalidRequest(f"The request to {p} could not be encoded ({why}).", provider=p), False
        if _before_send(exc):
            if isinstance(exc, x.ConnectTimeout):
                return Timeout(f"Could not connect to {p} at {where} within {self.timeout[0]:g} s.",
                               provider=p, hint="Check the network or the base URL."), True
            return ProviderError(
                f"Could not reach {p} at {where}: the connection failed ({why}).", provider=p,
                hint="Check the network, the base URL and any proxy; offline, use "
                     "pp.Client('offline')."), True
        if isinstance(exc, x.SSLError) and "CERTIFICATE_VERIFY_FAILED" in why:
            return ProviderError(f"{p} at {where} has a TLS certificate that could not be verified.",
                                 provider=p, hint="Check the base URL and any proxy."), False
        if isinstance(exc, x.ReadTimeout) or isinstance(_underlying(exc), ReadTimeoutError):
            return Timeout(f"{p} did not answer within {self.timeout[1]:g} s.", provider=p,
                           maybe_billed=True), self.retry.retry_on_timeout
        # Dropped after sending, cut off midway, unreadable: the provider may have done the work.
        return ProviderError(f"{p}'s answer was cut off or the connection dropped after the request "
                             f"was sent ({why}).", provider=p, hint=BILLED_HINT, maybe_billed=True), False

    def _announce(self, err: PromptpaintError, delay: float, attempt: int, attempts: int) -> None:
        callback = on_retry.get()
        if callback is None:
            return
        try:
            callback({"provider": self.provider, "title": err.title, "message": err.message,
                      "delay": float(delay), "attempt": attempt, "attempts": attempts})
        except Exception:  # a status display must never fail a call that may be paid for
            log.exception("promptpaint: the on_retry callback failed")

    def _backoff(self, attempt: int) -> float:
        base = min(self.retry.backoff * 2 ** (attempt - 1), self.retry.max_backoff)
        return base * (1 - 0.25 * random.random())


def _underlying(exc: BaseException):
    """urllib3's reason beneath a requests exception (MaxRetryError and ProxyError unwrapped)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, ProxyError):  # could not reach the proxy itself
        reason = getattr(reason, "original_error", None)
    return reason


def _before_send(exc: BaseException) -> bool:
    """True when the request certainly never left: DNS failure, refused, connect timeout.

    requests folds all of these and a connection dropped after sending into one ConnectionError;
    urllib3's underlying reason tells them apart (NewConnectionError and NameResolutionError are
    ConnectTimeoutErrors; a drop after sending is a ProtocolError).
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return isinstance(exc, requests.exceptions.ConnectionError) and isinstance(_underlying(exc), ConnectTimeoutError)


def _reason(exc: BaseException) -> str:
    """A short, scrubbed account of what went wrong underneath, for the message."""
    inner = exc
    for _ in range(4):  # requests wraps urllib3, which wraps the socket error
        nxt = getattr(inner, "reason", None) or (inner.args[0] if inner.args and
                                                 isinstance(inner.args[0], BaseException) else None)
        if not isinstance(nxt, BaseException):
            break
        inner = nxt
    text = scrub(str(inner)) if not isinstance(inner, UnicodeError) else inner.reason
    text = text if len(text) <= 200 else text[:200] + "…"
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


def _url_setting(provider: str) -> str:
    return f"{config.BASE_URL_ENV.get(provider, 'the base URL')} or base_url="


def _key_setting(provider: str) -> str:
    return f"{' or '.join(config.KEY_ENV.get(provider, ()))} or api_key="


def _parse(resp: requests.Response) -> tuple[dict, str | None]:
    try:
        body = resp.json()
    except ValueError as exc:
        return {"_text": resp.text[:500]}, type(exc).__name__
    except requests.exceptions.RequestException as exc:
        return {}, type(exc).__name__
    if not isinstance(body, dict):
        return {"_value": body}, "not a JSON object"
    return body, None


def _read_some(resp: requests.Response) -> bytes:
    """What has arrived (up to 64 KiB), without waiting for more: ``iter_content(None)`` waits
    for the whole body of a close-delimited stream, so previews would arrive with the answer."""
    raw = resp.raw
    if hasattr(raw, "read1"):
        return raw.read1(1 << 16, decode_content=True) or b""
    return raw.read(1 << 16, decode_content=True) or b""  # a test double without read1
