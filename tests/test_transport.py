"""Transport: what is retried, what may have been billed, what the user must fix, and retry notices.

The connection faults here come from real sockets, not mocks: a server that reads the whole request
and hangs up, one that resets, one that cuts its answer short, a port nobody listens on.
"""

import socket
import struct
import threading

import pytest

import promptpaint as pp
from promptpaint import errors, transport
from fakeserver import GEMINI_KEY, OPENAI_KEY


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


def test_every_error_class_has_a_title_in_words():
    classes = [getattr(errors, name) for name in errors.__all__]
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
