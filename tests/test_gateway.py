"""The class gateway, started as a teacher starts it, in front of the fake providers: the
providers' own wire APIs, tokens, and what it books (SQLite here; PostgreSQL in
test_gateway_class.py)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
import requests

from fakeserver import GEMINI_KEY, OPENAI_KEY
from gatewayproc import Gateway, new_token, promptpaint, teacher_env


@pytest.fixture
def teacher(fake, tmp_path):
    env = teacher_env(fake, tmp_path / "teacher-home")
    ledger = str(tmp_path / "class.sqlite3")
    gw = Gateway(ledger, env, tmp_path / "gateway.log")
    yield {"env": env, "ledger": ledger, "gw": gw}
    gw.stop()


def rows(ledger: str) -> list[dict]:
    from promptpaint.ledger import SQLiteLedger

    return SQLiteLedger(ledger).entries(100)


def test_a_student_generates_through_the_gateway_and_the_call_is_booked_at_the_bill(teacher, fake):
    token = new_token(teacher["ledger"], "alice", teacher["env"])
    assert token.startswith("ppg_")
    r = requests.post(f"{teacher['gw'].url}/openai/v1/images/generations",
                      headers={"Authorization": f"Bearer {token}"},
                      json={"model": "gpt-image-2", "prompt": "a red fox", "quality": "low", "size": "1024x1024"})
    assert r.status_code == 200, r.text
    assert base64.b64decode(r.json()["data"][0]["b64_json"])[:8] == b"\x89PNG\r\n\x1a\n"
    sent = fake.last("openai")
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"  # the teacher's key, not the token
    assert token not in json.dumps(dict(sent.headers))
    [row] = rows(teacher["ledger"])
    assert row["user"] == "alice" and row["status"] == "ok"
    assert abs(row["cost"] - fake.bill_total()) < Decimal("1e-6")
    assert row["reserved"] >= row["cost"]
