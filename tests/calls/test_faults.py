"""Every provider fault maps to its error; nothing paid is lost; no key is ever shown."""

import base64
import logging
from decimal import Decimal

import pytest

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY
from helpers import client_on

KEYS = (OPENAI_KEY, GEMINI_KEY)


def assert_no_key(*texts):
    for text in texts:
        for key in KEYS:
            assert key not in text
            assert key[-8:] not in text and key[:10] not in text


def ledger_dump():
    return repr(pp.ledger().entries(100))


CASES = [
    ("openai", "org_unverified", {}, pp.AccessError, 1),
    ("openai", "quota", {}, pp.QuotaExceeded, 1),
    ("gemini", "permission", {}, pp.AccessError, 1),
    ("gemini", "free_tier", {}, pp.QuotaExceeded, 1),
]


@pytest.mark.parametrize("provider, fault, kw, error, attempts", CASES)
def test_errors_that_retrying_cannot_fix_are_not_retried(fake, provider, fault, kw, error, attempts):
    fake.fault(provider, fault, **kw)
    with pytest.raises(error) as exc:
        client_on(fake, provider).generate("a fox")
    assert len(fake.by_provider(provider)) == attempts
    assert exc.value.hint
    row = pp.ledger().entries(1)[0]
    assert row["status"] == "error" and row["cost"] == 0


def test_org_verification_says_how_to_fix_it(fake):
    fake.fault("openai", "org_unverified")
    with pytest.raises(pp.AccessError) as exc:
        client_on(fake, "openai").generate("a fox")
    assert "Verify" in str(exc.value) and "15 minutes" in str(exc.value) and "gemini" in str(exc.value)


def test_free_tier_limit_zero_says_enable_billing(fake):
    fake.fault("gemini", "free_tier")
    with pytest.raises(pp.QuotaExceeded, match="billing"):
        client_on(fake, "gemini").generate("a fox")


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_bad_key_is_an_auth_error_and_the_echoed_key_is_scrubbed(fake, provider, caplog):
    fake.fault(provider, "auth")
    caplog.set_level(logging.DEBUG, logger="promptpaint")
    with pytest.raises(pp.AuthError) as exc:
        client_on(fake, provider).generate("a fox")
    assert len(fake.by_provider(provider)) == 1
    assert_no_key(str(exc.value), repr(exc.value), exc.value.message, caplog.text, ledger_dump())


def test_wrong_key_echo_is_scrubbed(fake):
    wrong = "sk-proj-WRONGkey-abcdefghijklmnop1234"
    c = pp.Client("openai", api_key=wrong, base_url=fake.openai_base)
    with pytest.raises(pp.AuthError) as exc:
        c.generate("a fox")
    assert wrong not in str(exc.value) and wrong[-4:] not in str(exc.value)
    assert wrong[:8] not in str(exc.value)
    assert wrong not in repr(c)


@pytest.mark.parametrize("provider, fault, kw", [
    ("openai", "rate_limit", {"retry_after_ms": 20}),
    ("openai", "rate_limit", {"retry_after": 0}),
    ("openai", "server_error", {}),
    ("openai", "server_error", {"status": 503}),
    ("gemini", "rate_limit", {"retry_delay": "0.02s"}),
    ("gemini", "server_error", {"status": 503}),
    ("gemini", "server_error", {}),
])
def test_transient_faults_are_retried_then_succeed_and_are_booked_once(fake, provider, fault, kw):
    fake.fault(provider, fault, **kw)
    r = client_on(fake, provider).generate("a fox")
    assert r.images
    assert len(fake.by_provider(provider)) == 2
    rows = pp.ledger().entries(10)
    assert [row["status"] for row in rows] == ["ok"]
    assert pp.ledger().total() == r.cost


@pytest.mark.parametrize("provider, fault, error", [
    ("openai", "rate_limit", pp.RateLimited),
    ("openai", "server_error", pp.ProviderError),
    ("gemini", "rate_limit", pp.RateLimited),
    ("gemini", "server_error", pp.ProviderError),
])
def test_retries_give_up_after_max_retries(fake, provider, fault, error):
    for _ in range(3):
        fake.fault(provider, fault, **({"retry_after_ms": 5} if provider == "openai" and fault == "rate_limit" else
                                       {"retry_delay": "0.01s"} if fault == "rate_limit" else {}))
    with pytest.raises(error) as exc:
        client_on(fake, provider, max_retries=2).generate("a fox")
    assert len(fake.by_provider(provider)) == 3
    if error is pp.RateLimited:
        assert exc.value.retry_after is not None
    assert pp.ledger().total() == 0


def test_long_server_wait_is_reported_not_slept(fake):
    fake.fault("gemini", "rate_limit", retry_delay="300s")
    with pytest.raises(pp.RateLimited) as exc:
        client_on(fake, "gemini").generate("a fox")
    assert exc.value.retry_after == 300 and len(fake.by_provider("gemini")) == 1


def test_moderation_refusal_is_not_retried_and_is_booked(fake):
    fake.fault("openai", "moderation")
    with pytest.raises(pp.Refused) as exc:
        client_on(fake, "openai").generate("something refused")
    assert exc.value.reason == "moderation_blocked"
    assert len(fake.by_provider("openai")) == 1
    assert pp.ledger().entries(1)[0]["status"] == "refused"


@pytest.mark.parametrize("fault, kw, reason", [
    ("image_safety", {}, "IMAGE_SAFETY"),
    ("image_safety", {"reason": "IMAGE_PROHIBITED_CONTENT"}, "IMAGE_PROHIBITED_CONTENT"),
    ("image_safety", {"reason": "NO_IMAGE"}, "NO_IMAGE"),
    ("blocked", {}, "PROHIBITED_CONTENT"),
    ("text_only", {}, "NO_IMAGE"),
])
def test_gemini_no_image_is_refused_with_reason_text_and_billed_cost(fake, fault, kw, reason):
    fake.fault("gemini", fault, **kw)
    with pytest.raises(pp.Refused) as exc:
        client_on(fake, "gemini").generate("something refused")
    assert exc.value.reason == reason
    assert len(fake.by_provider("gemini")) == 1
    answer = fake.last("gemini").response_json
    billed = answer["usageMetadata"]
    assert exc.value.usage.input_text_tokens == billed["promptTokenCount"]
    row = pp.ledger().entries(1)[0]
    assert row["status"] == "refused" and row["cost"] == exc.value.cost > 0
    assert pp.ledger().total() == exc.value.cost
    if fault == "text_only":
        assert exc.value.text and exc.value.text in str(exc.value)


@pytest.mark.parametrize("provider", ["openai", "gemini"])
@pytest.mark.parametrize("fault", ["non_json", "truncated"])
def test_unreadable_answers_are_provider_errors_not_resent(fake, provider, fault):
    fake.fault(provider, fault)
    with pytest.raises(pp.ProviderError, match="billed"):
        client_on(fake, provider).generate("a fox")
    assert len(fake.by_provider(provider)) == 1


def test_read_timeout_is_not_retried_unless_asked(fake):
    fake.fault("openai", "slow", seconds=1.0)
    with pytest.raises(pp.Timeout, match="billed"):
        client_on(fake, "openai", timeout=0.3).generate("a fox")
    assert len(fake.by_provider("openai")) == 1
    fake.fault("openai", "slow", seconds=1.0)
    r = client_on(fake, "openai", timeout=0.5, retry_on_timeout=True).generate("a fox")
    assert r.images and len(fake.by_provider("openai")) == 3


def test_connection_refused_is_a_clear_provider_error():
    c = pp.Client("openai", api_key=OPENAI_KEY, base_url="http://127.0.0.1:9/v1", max_retries=1, backoff=0.01)
    with pytest.raises(pp.ProviderError, match="Could not reach"):
        c.generate("a fox")


def test_unknown_model_on_the_server_is_an_invalid_request(fake):
    with pytest.warns(pp.UnknownPriceWarning):
        c = pp.Client("gemini", model="gemini-9-image", api_key=GEMINI_KEY, base_url=fake.gemini_base)
    with pytest.raises(pp.InvalidRequest, match="not found"), pytest.warns(pp.UnknownPriceWarning):
        c.generate("a fox")


def test_a_paid_answer_is_booked_even_when_storing_it_fails(fake, monkeypatch):
    c = client_on(fake, "openai")

    def broken(data):
        raise OSError("disk full")

    monkeypatch.setattr(c.store, "put", broken)
    with pytest.raises(OSError):
        c.generate("a fox")
    row = pp.ledger().entries(1)[0]
    assert row["cost"] == Decimal("0.053065") == fake.bill_total() and "not stored" in row["error"]


def test_an_answer_without_usage_is_booked_as_unknown_not_free(fake):
    png = base64.b64encode(_png(8, 8)).decode()
    fake.fault("openai", "status", code=200, body={"created": 1, "data": [{"b64_json": png}]})
    with pytest.warns(pp.UnknownPriceWarning, match="no usage"):
        r = client_on(fake, "openai").generate("a fox")
    assert r.images[0].size == (8, 8) and r.cost is None
    assert pp.ledger().entries(1)[0]["cost"] is None and pp.ledger().summary().unknown_calls == 1


def _png(w, h):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


# -- issue 19: a null next to a good image loses only itself ------------------------------------------

def test_openai_data_null_beside_an_image_keeps_the_image(raw):
    import base64 as b64
    import json as js

    from helpers import png_bytes
    from rawserver import answer

    good = png_bytes((16, 16), (10, 200, 10))
    body = {"created": 1, "data": [None, {"b64_json": b64.b64encode(good).decode()}, "junk"],
            "usage": {"input_tokens": 10, "output_tokens": 200,
                      "input_tokens_details": {"text_tokens": 10, "image_tokens": 0}}}
    server = raw(answer("200 OK", {"Content-Type": "application/json"}, js.dumps(body).encode()))
    r = pp.Client("openai", api_key=OPENAI_KEY, base_url=server.base + "/v1", max_retries=0).generate("a fox")
    assert r.paths[0].read_bytes() == good and r.cost > 0


def test_gemini_null_part_beside_an_image_keeps_the_image(raw):
    import base64 as b64
    import json as js

    from helpers import png_bytes
    from rawserver import answer

    good = png_bytes((16, 16), (10, 200, 10))
    body = {"candidates": [{"content": {"role": "model", "parts": [None, {"inlineData": {
        "mimeType": "image/png", "data": b64.b64encode(good).decode()}}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1290}}
    server = raw(answer("200 OK", {"Content-Type": "application/json"}, js.dumps(body).encode()))
    r = pp.Client("gemini", api_key=GEMINI_KEY, base_url=server.base, max_retries=0).generate("a fox")
    assert r.paths[0].read_bytes() == good and r.cost > 0
