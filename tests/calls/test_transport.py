"""Transport: what is retried, what may have been billed, what the user must fix, and retry notices.

The connection faults here come from real sockets, not mocks: a server that reads the whole request
and hangs up, one that resets, one that cuts its answer short, a port nobody listens on.
"""

import socket
import struct
import threading
import time

import pytest

import promptpaint as pp
from promptpaint import errors, transport
from fakes import GEMINI_KEY, OPENAI_KEY


def hang_up(conn):
    pass  # closing without a byte of answer: RemoteDisconnected on the client


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST


def cut_short(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
                 b'{"data": [{"b64_json": "iVBOR')


def client(provider, base, **kw):
    """A Client for ``provider`` at ``base`` (a server root; OpenAI's API lives under /v1)."""
    if provider == "openai":
        return pp.Client("openai", api_key=OPENAI_KEY, base_url=base + "/v1", backoff=0.01, **kw)
    return pp.Client("gemini", api_key=GEMINI_KEY, base_url=base, backoff=0.01, **kw)


def root(fake, provider):
    return fake.openai_base.removesuffix("/v1") if provider == "openai" else fake.gemini_base


@pytest.mark.parametrize("provider", ["openai", "gemini"])
@pytest.mark.parametrize("act", [hang_up, reset, cut_short])
def test_a_request_that_reached_the_server_is_sent_once_and_may_have_been_billed(raw, provider, act):
    server = raw(act)
    with pytest.raises(pp.ProviderError) as exc:
        client(provider, server.base, max_retries=3).generate("a fox")
    assert len(server.requests) == 1
    assert b"a fox" in server.requests[0]  # the whole request got there before the hang-up
    assert exc.value.maybe_billed is True
    assert "may have been billed" in str(exc.value)
    assert exc.value.__cause__ is None and exc.value.__context__ is None


def test_connection_refused_is_retried_and_was_not_billed():
    with socket.socket() as s:  # a port that was free a moment ago and nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen = []
    token = transport.on_retry.set(seen.append)
    try:
        with pytest.raises(pp.ProviderError, match="Could not reach") as exc:
            client("openai", f"http://127.0.0.1:{port}", max_retries=2).generate("a fox")
    finally:
        transport.on_retry.reset(token)
    assert exc.value.maybe_billed is False
    assert "billed" not in str(exc.value)
    assert [n["attempt"] for n in seen] == [2, 3]


def test_read_timeout_may_have_been_billed(fake):
    fake.fault("openai", "slow", seconds=1.0)
    with pytest.raises(pp.Timeout) as exc:
        client("openai", root(fake, "openai"), timeout=0.3).generate("a fox")
    assert exc.value.maybe_billed is True and len(fake.by_provider("openai")) == 1


def test_an_answer_that_stalls_midway_is_a_timeout_that_may_have_been_billed(raw):
    def stall(conn):
        cut_short(conn)
        time.sleep(1.0)

    server = raw(stall)
    with pytest.raises(pp.Timeout) as exc:
        client("openai", server.base, timeout=0.3).generate("a fox")
    assert exc.value.maybe_billed is True and len(server.requests) == 1


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_2xx_that_is_not_json_may_have_been_billed(fake, provider):
    fake.fault(provider, "non_json")
    with pytest.raises(pp.ProviderError) as exc:
        client(provider, root(fake, provider)).generate("a fox")
    assert exc.value.maybe_billed is True


def test_a_server_error_answer_was_not_billed(fake):
    for _ in range(3):
        fake.fault("gemini", "server_error", status=503)
    with pytest.raises(pp.ProviderError) as exc:
        client("gemini", fake.gemini_base).generate("a fox")
    assert exc.value.maybe_billed is False and len(fake.by_provider("gemini")) == 3


def test_on_retry_reports_each_wait_with_title_delay_and_attempt(fake):
    fake.fault("openai", "rate_limit", retry_after_ms=20)
    fake.fault("openai", "server_error", status=503)
    seen = []
    token = transport.on_retry.set(seen.append)
    try:
        r = client("openai", root(fake, "openai")).generate("a fox")
    finally:
        transport.on_retry.reset(token)
    assert r.images
    assert [(n["provider"], n["title"], n["attempt"], n["attempts"]) for n in seen] == [
        ("openai", "Rate limited", 2, 3), ("openai", "Provider problem", 3, 3)]
    assert seen[0]["delay"] == pytest.approx(0.02) and isinstance(seen[1]["delay"], float)
    assert "rate limit" in seen[0]["message"].lower()


def test_on_retry_is_per_thread_and_a_failing_callback_does_not_fail_the_call(fake):
    fake.fault("openai", "server_error", status=503)

    def broken(notice):
        raise RuntimeError("the status display fell over")

    other_thread = []
    t = threading.Thread(target=lambda: other_thread.append(transport.on_retry.get()))
    token = transport.on_retry.set(broken)
    try:
        t.start()
        t.join()
        assert client("openai", root(fake, "openai")).generate("a fox").images
    finally:
        transport.on_retry.reset(token)
    assert other_thread == [None]


def every_error_class():
    """promptpaint's own error classes (not ones other tests define to simulate failures)."""
    found, todo = [], [pp.PromptpaintError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("promptpaint"):
            found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_error_class_has_a_title_in_words():
    import promptpaint.ledger  # noqa: F401  (its LedgerError is an error class too)

    classes = every_error_class()
    exported = {getattr(errors, name) for name in errors.__all__}
    assert {c for c in exported if issubclass(c, pp.PromptpaintError)} <= set(classes)
    for cls in classes:
        assert "title" in vars(cls), cls.__name__
        assert cls.title and cls.title[0].isupper() and " " in cls.title or cls.title == "Cancelled"
    assert len({cls.title for cls in classes}) == len(classes)
    assert pp.RateLimited.title == "Rate limited" and pp.BudgetExceeded.title == "Budget exceeded"
    assert pp.PromptpaintError("x").maybe_billed is False


@pytest.mark.parametrize("provider, kw", [
    ("openai", {"retry_after": "soon"}),
    ("openai", {"retry_after": "-5"}),
    ("openai", {"retry_after": "nan"}),
    ("openai", {"retry_after": "inf"}),
    ("openai", {"retry_after": "Thu, 99 Foo 2026 99:00:00 GMT"}),
    ("openai", {"retry_after_ms": "NaN", "retry_after": None}),
    ("gemini", {"retry_delay": "1..5s"}),
    ("gemini", {"retry_delay": "-3s"}),
    ("gemini", {"retry_delay": "soon"}),
])
def test_junk_retry_hints_are_ignored_and_the_call_still_retries(fake, provider, kw):
    fake.fault(provider, "rate_limit", **kw)
    seen = []
    token = transport.on_retry.set(seen.append)
    try:
        r = client(provider, root(fake, provider)).generate("a fox")
    finally:
        transport.on_retry.reset(token)
    assert r.images and len(fake.by_provider(provider)) == 2
    assert len(seen) == 1 and 0 <= seen[0]["delay"] <= 120


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "-5"}, 0.0),
    ({"retry-after": "nan"}, None),
    ({"retry-after": "1e400"}, None),
    ({"retry-after": "soon"}, None),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),
    ({"retry-after-ms": "junk", "retry-after": "2"}, 2.0),
    ({}, None),
])
def test_server_delay_reads_numbers_and_dates_and_ignores_junk(headers, expected):
    assert transport.server_delay(headers) == expected


def test_gemini_retry_delay_accepts_only_a_protobuf_duration():
    from promptpaint.providers.gemini import retry_delay

    def body(delay):
        return {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}}

    assert retry_delay(body("2.5s")) == 2.5
    for junk in ("1..5s", "s", "5", "-3s", 5, None):
        assert retry_delay(body(junk)) is None
    assert retry_delay({"error": "a string, not an object"}) is None
    assert retry_delay({"error": {"details": "not a list"}}) is None


def test_a_wait_longer_than_two_minutes_is_reported_not_slept(fake):
    fake.fault("openai", "rate_limit", retry_after="300")
    with pytest.raises(pp.RateLimited) as exc:
        client("openai", root(fake, "openai")).generate("a fox")
    assert exc.value.retry_after == 300 and len(fake.by_provider("openai")) == 1


@pytest.mark.parametrize("status", ["502 Bad Gateway", "504 Gateway Timeout"])
def test_a_gateways_5xx_page_may_have_been_billed_and_is_not_resent(raw, status):
    from rawserver import answer

    server = raw(answer(status, {"Content-Type": "text/html"}, b"<html><h1>upstream timed out</h1></html>"))
    with pytest.raises(pp.ProviderError) as exc:
        client("openai", server.base).generate("a fox")
    assert len(server.requests) == 1 and exc.value.maybe_billed is True
    assert "may have been billed" in str(exc.value)


def test_a_body_that_cannot_be_encoded_is_the_callers_to_fix(raw):
    from promptpaint.providers.openai import classify

    server = raw(lambda conn: None)
    t = transport.Transport("openai", (OPENAI_KEY,), classify)
    with pytest.raises(pp.InvalidRequest) as exc:
        t.post(server.base + "/v1/images/generations", headers={}, json={"temperature": float("nan")})
    assert server.requests == [] and exc.value.maybe_billed is False and "billed" not in str(exc.value)


JUNK_BODIES = [
    {}, {"error": "a string"}, {"error": None}, {"error": 42}, {"error": []},
    {"error": {"message": 5, "code": ["x"], "param": {"a": 1}, "type": None}},
    {"error": {"message": None, "status": 7, "details": "not a list"}},
    {"error": {"details": [None, 1, "x", {"@type": 5}, {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                                                        "violations": "nope"}]}},
    {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [None, 1]}]}},
    {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": ["1s"]}]}},
    {"_text": "<html>oops</html>"}, {"_value": [1, 2]},
]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 409, 429, 500, 503])
@pytest.mark.parametrize("body", JUNK_BODIES)
def test_odd_error_bodies_are_classified_never_crash(status, body):
    from promptpaint.providers import gemini, openai

    for classify in (openai.classify, gemini.classify):
        err = classify(status, body, {}, None)
        assert isinstance(err, pp.PromptpaintError) and err.message and err.title
    assert gemini.retry_delay(body) is None


def test_urllib3s_reason_tells_connect_phase_failures_from_drops_after_sending():
    """DNS failure, refusal and connect timeout never reached the provider: retried, not billed.
    A drop or a read timeout after sending may have been billed: not retried."""
    import requests
    from urllib3.exceptions import (MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError,
                                    ReadTimeoutError)
    from promptpaint.providers.openai import classify

    t = transport.Transport("openai", (OPENAI_KEY,), classify)
    url = "https://api.example.test/v1/images/generations"

    def wrapped(reason):
        return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1", reason))

    before = [
        wrapped(NameResolutionError("api.example.test", None, OSError("Name or service not known"))),
        wrapped(NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")),
        requests.exceptions.ConnectTimeout("connect timed out"),
    ]
    after = [
        requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104))),
        wrapped(ProtocolError("Connection aborted.", ConnectionResetError(104))),
        requests.exceptions.ConnectionError(ReadTimeoutError(None, "/v1", "Read timed out.")),
        requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
        requests.exceptions.ReadTimeout("read timed out"),
    ]
    for exc in before:
        err, retry = t._failure(exc, url)
        assert retry is True and err.maybe_billed is False, exc
    for exc in after:
        err, retry = t._failure(exc, url)
        assert retry is False and err.maybe_billed is True, exc


def test_get_for_a_model_list_is_retried_on_a_503_and_never_follows_a_redirect(raw):
    """``Transport.get`` (a provider's model list): the same path as a call, a GET being safe to resend."""
    from rawserver import answer
    from promptpaint.providers.gemini import classify

    answers = [answer("503 Service Unavailable", {"Content-Type": "application/json"},
                      b'{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}'),
               answer("200 OK", {"Content-Type": "application/json"}, b'{"models": [{"name": "models/x"}]}')]
    server = raw(lambda conn: answers.pop(0)(conn))
    t = transport.Transport("gemini", (GEMINI_KEY,), classify, retry=transport.RetryPolicy(2, backoff=0.01))
    reply = t.get(server.base + "/v1beta/models", headers={"x-goog-api-key": GEMINI_KEY})
    assert reply.body == {"models": [{"name": "models/x"}]} and reply.attempts == 2
    assert all(r.startswith(b"GET /v1beta/models") for r in server.requests)

    elsewhere = raw(answer("200 OK", {"Content-Type": "application/json"}, b"{}"))
    moved = raw(answer("301 Moved Permanently", {"Location": elsewhere.base.replace("127.0.0.1", "localhost")}))
    with pytest.raises(pp.ProviderError, match="redirect"):
        t.get(moved.base + "/v1beta/models", headers={"x-goog-api-key": GEMINI_KEY})
    assert elsewhere.requests == []
