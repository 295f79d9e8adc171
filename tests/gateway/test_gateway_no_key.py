"""A gateway the teacher started with one provider's key only: a call or a model list for the
other provider is refused with a 503 in that provider's own error shape, nothing reaches the
provider, nothing is booked, and the key the gateway does hold never shows in the answer."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from fakes import GEMINI_KEY, OPENAI_KEY
from gatewayproc import Gateway, new_token, teacher_env

KEY_ENV = {"openai": "OPENAI_API_KEY", "gemini": "GEMINI_API_KEY"}
KEYS = {"openai": OPENAI_KEY, "gemini": GEMINI_KEY}
OTHER = {"openai": "gemini", "gemini": "openai"}


def call(gw: str, provider: str, token: str, prompt: str) -> requests.Response:
    if provider == "openai":
        return requests.post(f"{gw}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                             json={"model": "gpt-image-2", "prompt": prompt, "quality": "low"}, timeout=60)
    return requests.post(f"{gw}/gemini/v1beta/models/gemini-3.1-flash-image:generateContent",
                         headers={"x-goog-api-key": token},
                         json={"contents": [{"parts": [{"text": prompt}]}]}, timeout=60)


def model_list(gw: str, provider: str, token: str) -> requests.Response:
    if provider == "openai":
        return requests.get(f"{gw}/openai/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return requests.get(f"{gw}/gemini/v1beta/models", headers={"x-goog-api-key": token}, timeout=60)


def assert_no_key_refusal(r: requests.Response, missing: str) -> None:
    """The 503 as the provider's SDK reads an error of that provider, saying what to do."""
    assert r.status_code == 503, r.text
    assert r.headers["x-promptpaint-refusal"] == "provider_not_configured"
    assert r.headers["x-should-retry"] == "false"  # no key now, no key on a retry
    err = r.json()["error"]
    assert f"no {missing} key" in err["message"] and "another provider" in err["message"]
    if missing == "openai":
        assert err["code"] == "provider_not_configured" and err["type"] == "server_error"
    else:
        assert err["code"] == 503 and err["status"] == "UNAVAILABLE"
        assert err["details"][0]["reason"] == "PROVIDER_NOT_CONFIGURED"


@pytest.mark.parametrize("missing", ["openai", "gemini"])
def test_a_provider_without_a_key_is_refused_in_its_shape_and_nothing_is_booked(fake, tmp_path, missing):
    from promptpaint.ledger import SQLiteLedger

    env = teacher_env(fake, tmp_path / "teacher-home")
    del env[KEY_ENV[missing]]
    ledger = str(tmp_path / "class.sqlite3")
    gw = Gateway(ledger, env, tmp_path / "gateway.log")
    try:
        token = new_token(ledger, "nia", env)
        held = OTHER[missing]
        # The provider with a key works, so the class has spent something to stay unchanged.
        assert call(gw.url, held, token, "a lantern").status_code == 200
        before_rows, before_spent = SQLiteLedger(ledger).entries(100), SQLiteLedger(ledger).spent()
        assert len(before_rows) == 1 and before_spent > 0
        sent = len(fake.requests)

        answers = [call(gw.url, missing, token, "a moth"), model_list(gw.url, missing, token)]
        for r in answers:
            assert_no_key_refusal(r, missing)
            assert KEYS[held] not in r.text + json.dumps(dict(r.headers))
        assert len(fake.requests) == sent and fake.by_provider(missing) == []  # nothing sent
        after = SQLiteLedger(ledger)
        assert after.entries(100) == before_rows  # no row, not even a reservation
        assert after.spent() == before_spent and after.spent(user="nia") == before_spent
        assert abs(before_spent - fake.bill_total()) < Decimal("1e-6")
        assert KEYS[held] not in gw.log()
    finally:
        gw.stop()


def test_a_kernel_behind_the_gateway_is_told_once_and_does_not_retry(fake, tmp_path, monkeypatch):
    import promptpaint as pp
    from promptpaint.ledger import SQLiteLedger

    env = teacher_env(fake, tmp_path / "teacher-home")
    del env["GEMINI_API_KEY"]
    ledger = str(tmp_path / "class.sqlite3")
    gw = Gateway(ledger, env, tmp_path / "gateway.log")
    try:
        monkeypatch.setenv("PROMPTPAINT_GATEWAY", gw.url)
        monkeypatch.setenv("PROMPTPAINT_TOKEN", new_token(ledger, "oli", env))
        with pytest.raises(pp.PromptpaintError) as info:
            pp.Client("gemini").generate("a moth")
        assert isinstance(info.value, pp.AuthError) and info.value.retryable is False
        assert "no gemini key" in str(info.value) and "teacher" in str(info.value)
        assert gw.log().count("POST /gemini/") == 1, "asked once: a retry cannot bring a key"
        assert fake.requests == [] and SQLiteLedger(ledger).entries(10) == []
    finally:
        gw.stop()
