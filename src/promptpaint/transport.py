"""HTTP with retries that respect the server, and messages that never carry a key."""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import requests

from .errors import Cancelled, PromptpaintError, ProviderError, RateLimited, Timeout

log = logging.getLogger("promptpaint")

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
MAX_SERVER_WAIT = 120.0  # a server asking for a longer wait gets an error with retry_after instead

_MASKED = re.compile(r"[A-Za-z0-9_\-]{2,}\*{3,}[A-Za-z0-9_\-]{0,12}")
_KEYLIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{8,})")


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without any key, whole, partly masked (as OpenAI echoes it) or key-shaped."""
    if not text:
        return text
    for s in secrets:
        if s:
            text = text.replace(s, "[key]")
            if len(s) > 12:
                text = text.replace(s[:8], "[key]").replace(s[-8:], "[key]")
    text = _MASKED.sub("[key]", text)
    return _KEYLIKE.sub("[key]", text)


@dataclass
class Reply:
    status: int
    headers: dict
    body: dict
    request_id: str | None
    elapsed: float
    attempts: int


@dataclass
class RetryPolicy:
    max_retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0
    retry_on_timeout: bool = False


def server_delay(headers) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), in seconds."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if ra:
        try:
            return float(ra)
        except ValueError:
            when = email.utils.parsedate_to_datetime(ra)
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    return None


@dataclass
class Transport:
    """Posts to one provider. ``classify`` turns a failed reply into the right error;
    ``hint_delay`` reads a provider-specific wait from the body (Gemini's RetryInfo)."""

    provider: str
    secrets: tuple[str, ...]
    classify: Callable[[int, dict, dict, str | None], PromptpaintError]
    hint_delay: Callable[[dict], float | None] = lambda body: None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: tuple[float, float] = (10.0, 600.0)
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep

    def post(self, url: str, *, headers: dict, json: dict | None = None, data=None, files=None,
             cancel: threading.Event | None = None) -> Reply:
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            if cancel is not None and cancel.is_set():
                raise Cancelled("Cancelled before the request was sent.", provider=self.provider)
            try:
                resp = self.session.post(url, headers=headers, json=json, data=data, files=files,
                                         timeout=self.timeout)
            except requests.exceptions.ConnectTimeout as exc:
                err = Timeout(f"Could not connect to {self.provider} within {self.timeout[0]:.0f} s.",
                              provider=self.provider, hint="Check the network or base URL.")
                wait, retryable = None, True
                cause = exc
            except requests.exceptions.ReadTimeout as exc:
                err = Timeout(f"{self.provider} did not answer within {self.timeout[1]:.0f} s.",
                              provider=self.provider)
                wait, retryable, cause = None, self.retry.retry_on_timeout, exc
            except requests.exceptions.ConnectionError as exc:
                err = ProviderError(
                    f"Could not reach {self.provider} at {_origin(url)}: the connection failed.",
                    provider=self.provider,
                    hint="Check the network, the base URL and any proxy; offline, use pp.Client('offline').")
                wait, retryable, cause = None, True, exc
            except requests.exceptions.RequestException as exc:
                # The answer broke off midway: the call may have been billed, so it is not resent.
                raise ProviderError(
                    f"{self.provider}'s answer was cut off ({type(exc).__name__}).",
                    provider=self.provider,
                    hint="The call may have been billed; it was not retried. Try again.") from None
            else:
                cause = None
                rid = resp.headers.get("x-request-id") or resp.headers.get("x-goog-request-id")
                body, parse_error = _parse(resp)
                if resp.status_code < 400 and parse_error is None:
                    return Reply(resp.status_code, dict(resp.headers), body, rid,
                                 time.monotonic() - start, attempt)
                if resp.status_code < 400:
                    # A 200 we cannot read may still have been billed: do not send it again.
                    raise ProviderError(
                        f"{self.provider} answered with a body that is not valid JSON ({parse_error}).",
                        provider=self.provider, status=resp.status_code, request_id=rid,
                        hint="The call may have been billed; it was not retried. Try again.")
                err = self.classify(resp.status_code, body, resp.headers, rid)
                err.message = scrub(err.message, self.secrets)
                retryable = resp.status_code in RETRY_STATUSES and getattr(err, "retryable", True)
                wait = server_delay(resp.headers)
                if wait is None:
                    wait = self.hint_delay(body)
                if isinstance(err, RateLimited) and wait is not None:
                    err.retry_after = wait
                if wait is not None and wait > MAX_SERVER_WAIT:
                    retryable = False
            if not retryable or attempt > self.retry.max_retries:
                log.warning("%s call failed after %d attempt(s): %s", self.provider, attempt,
                            scrub(str(err), self.secrets))
                raise err from cause
            delay = wait if wait is not None else self._backoff(attempt)
            log.info("%s: retrying in %.2f s (%s)", self.provider, delay, scrub(err.message, self.secrets))
            if cancel is not None:
                if cancel.wait(delay):
                    raise Cancelled("Cancelled while waiting to retry.", provider=self.provider)
            else:
                self.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        base = min(self.retry.backoff * 2 ** (attempt - 1), self.retry.max_backoff)
        return base * (1 - 0.25 * random.random())


def _origin(url: str) -> str:
    m = re.match(r"^(\w+://[^/]+)", url)
    return m.group(1) if m else url


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
