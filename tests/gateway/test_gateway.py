"""The class gateway, started as a teacher starts it, in front of the fake providers: the
providers' own wire APIs, tokens, and what it books (SQLite here; PostgreSQL in
test_gateway_class.py)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
import requests

from fakes import GEMINI_KEY, OPENAI_KEY, FakeProviders
from gatewayproc import Gateway, new_token, promptpaint, teacher_env
from helpers import loaded_by, png_bytes


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One fake provider and one gateway (on a SQLite ledger) for this module's tests: each test
    books as a user of its own, and the fake forgets everything between tests."""
    home = tmp_path_factory.mktemp("gateway")
    with FakeProviders() as provider:
        env = teacher_env(provider, home / "teacher-home")
        ledger = str(home / "class.sqlite3")
        gw = Gateway(ledger, env, home / "gateway.log")
        yield {"fake": provider, "env": env, "ledger": ledger, "gw": gw}
        gw.stop()


@pytest.fixture
def fake(shared):
    shared["fake"].reset()
    return shared["fake"]


@pytest.fixture
def teacher(shared, fake):
    return shared


def rows(ledger: str, user: str | None = None, *, settled: bool = True) -> list[dict]:
    """The ledger's rows (``user``'s only, if given), once the gateway has settled them (a stream
    is booked just after its last byte reaches the student)."""
    import time

    from promptpaint.ledger import SQLiteLedger

    for _ in range(200):
        got = SQLiteLedger(ledger).entries(1000, user=user)
        if not settled or all(r["status"] != "reserved" for r in got):
            return got
        time.sleep(0.05)
    return got


def test_a_student_generates_through_the_gateway_and_the_call_is_booked_at_the_bill(teacher, fake):
    token = new_token(teacher["ledger"], "alice", teacher["env"], cli=True)
    assert token.startswith("ppg_")
    r = requests.post(f"{teacher['gw'].url}/openai/v1/images/generations",
                      headers={"Authorization": f"Bearer {token}"},
                      json={"model": "gpt-image-2", "prompt": "a red fox", "quality": "low", "size": "1024x1024"})
    assert r.status_code == 200, r.text
    assert base64.b64decode(r.json()["data"][0]["b64_json"])[:8] == b"\x89PNG\r\n\x1a\n"
    sent = fake.last("openai")
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"  # the teacher's key, not the token
    assert token not in json.dumps(dict(sent.headers))
    [row] = rows(teacher["ledger"], "alice")
    assert row["user"] == "alice" and row["status"] == "ok"
    assert abs(row["cost"] - fake.bill_total()) < Decimal("1e-6")
    assert row["reserved"] >= row["cost"]


def test_the_official_sdks_work_unchanged_through_the_gateway(teacher, fake):
    openai = pytest.importorskip("openai")
    genai = pytest.importorskip("google.genai")
    token = new_token(teacher["ledger"], "bob", teacher["env"])
    gw = teacher["gw"].url
    oa = openai.OpenAI(base_url=f"{gw}/openai/v1", api_key=token, max_retries=0)
    img = oa.images.generate(model="gpt-image-2", prompt="a lighthouse", quality="low")
    assert base64.b64decode(img.data[0].b64_json)[:4] == b"\x89PNG"
    edited = oa.images.edit(model="gpt-image-2", prompt="make it night", image=("in.png", png_bytes(), "image/png"),
                            quality="low")
    assert base64.b64decode(edited.data[0].b64_json)[:4] == b"\x89PNG"
    assert fake.last("openai").files["image"][0][2] == png_bytes()  # the student's bytes, unchanged
    events = list(oa.images.generate(model="gpt-image-2", prompt="s", stream=True, partial_images=2, quality="low"))
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    gm = genai.Client(api_key=token, http_options={"base_url": f"{gw}/gemini"})  # /v1/ by default
    resp = gm.models.generate_content(model="gemini-3.1-flash-image", contents="a red fox")
    assert any(p.inline_data for p in resp.candidates[0].content.parts)
    assert fake.last("gemini").headers["x-goog-api-key"] == GEMINI_KEY
    chunks = list(gm.models.generate_content_stream(model="gemini-3.1-flash-image", contents="a red fox"))
    assert chunks[-1].candidates[0].finish_reason == "STOP"
    assert fake.last("gemini").query == {"alt": "sse"}
    booked = rows(teacher["ledger"], "bob")
    assert len(booked) == 5 and {r["status"] for r in booked} == {"ok"} and {r["user"] for r in booked} == {"bob"}
    assert abs(sum(r["cost"] for r in booked) - fake.bill_total()) < Decimal("1e-6")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{gw}/openai/v1", api_key="ppg_not-a-token", max_retries=0).images.generate(
            model="gpt-image-2", prompt="x")
    stranger = genai.Client(api_key="ppg_nope", http_options={"base_url": f"{gw}/gemini"})
    with pytest.raises(genai.errors.ClientError) as info:
        stranger.models.generate_content(model="gemini-3.1-flash-image", contents="x")
    assert info.value.code == 401 and info.value.status == "UNAUTHENTICATED"


def test_streamed_previews_arrive_through_the_gateway_before_the_final_image(teacher, fake):
    from promptpaint.sse import events

    token = new_token(teacher["ledger"], "carol", teacher["env"])
    fake.streaming.delay = 0.3
    with requests.post(f"{teacher['gw'].url}/openai/v1/images/edits", headers={"Authorization": f"Bearer {token}"},
                       data={"model": "gpt-image-2", "prompt": "add a hat", "stream": "true", "partial_images": "2",
                             "quality": "low"}, files={"image": ("in.png", png_bytes(), "image/png")}, stream=True) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        seen = []
        for ev in events(r.iter_content(chunk_size=None)):
            seen.append(ev.event)
            if len(seen) == 1:  # the first preview is here while the provider is still working
                assert ev.event == "image_edit.partial_image"
                assert "image_edit.completed" not in fake.streaming.sent[-1]
    assert seen == ["image_edit.partial_image"] * 2 + ["image_edit.completed"]
    [row] = rows(teacher["ledger"], "carol")
    assert abs(row["cost"] - fake.bill_total()) < Decimal("1e-6")  # previews' 100 tokens each included
    assert row["params"]["partial_images"] == 2


def test_a_stream_the_student_abandons_stays_booked_at_its_reservation(teacher, fake):
    from promptpaint.sse import events

    token = new_token(teacher["ledger"], "dan", teacher["env"])
    fake.streaming.delay = 0.5
    with requests.post(f"{teacher['gw'].url}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                       json={"model": "gpt-image-2", "prompt": "x", "stream": True, "partial_images": 2,
                             "quality": "low"}, stream=True) as r:
        next(events(r.iter_content(chunk_size=None)))  # one preview, then the kernel is gone
    [row] = rows(teacher["ledger"], "dan")
    assert row["status"] == "error" and row["cost"] is None and row["state"] == "unknown cost"
    assert row["reserved"] > 0 and "disconnected" in row["error"]


def test_what_the_gateway_refuses_it_refuses_in_the_providers_shape_before_spending(teacher, fake):
    token = new_token(teacher["ledger"], "erin", teacher["env"])
    gw, auth = teacher["gw"].url, {"Authorization": f"Bearer {token}"}
    r = requests.post(f"{gw}/openai/v1/images/generations", json={"model": "gpt-image-2", "prompt": "x"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_token"
    r = requests.post(f"{gw}/openai/v1/images/generations", headers=auth,
                      json={"model": "gpt-image-3", "prompt": "x"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "model_not_allowed"
    r = requests.post(f"{gw}/openai/v1/images/generations", headers=auth,
                      json={"model": "gpt-image-2.5-sunburst", "prompt": "x", "quality": "xhigh"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "setting_not_allowed"
    r = requests.post(f"{gw}/openai/v1/images/generations", headers=auth,
                      json={"model": "gpt-image-2", "prompt": "x", "price": {"output_image": 0}})
    assert r.status_code == 400 and r.json()["error"]["param"] == "price"
    r = requests.post(f"{gw}/gemini/v1beta/models/gemini-3.1-flash-image:generateContent",
                      headers={"x-goog-api-key": token}, json={"contents": [{"parts": [{"text": "x"}]}],
                                                                "tools": [{"googleSearch": {}}]})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r = requests.post(f"{gw}/openai/v1/models", headers=auth)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = requests.post(f"{gw}/openai/v1/images/generations", headers=auth, data=b"x" * (51 * 1024 * 1024))
    assert r.status_code == 413
    assert fake.requests == [] and rows(teacher["ledger"], "erin") == []  # nothing sent, nothing booked


def test_a_kernel_with_only_the_gateway_and_a_token_uses_both_providers(teacher, fake, monkeypatch):
    import promptpaint as pp
    from promptpaint.ledger import SQLiteLedger

    SQLiteLedger(teacher["ledger"]).set_budget("user:fay", "1.00")
    token = new_token(teacher["ledger"], "fay", teacher["env"])
    monkeypatch.setenv("PROMPTPAINT_GATEWAY", teacher["gw"].url)
    monkeypatch.setenv("PROMPTPAINT_TOKEN", token)  # no provider key, no database URL
    previews = []
    r = pp.Client("openai", model="gpt-image-2").generate("a kite", quality="low",
                                                          on_partial=lambda im, i: previews.append(i))
    assert r.image.size == (1024, 1024) and previews == [0, 1]
    g = pp.Client("gemini").generate("a boat")
    assert g.image.size == (1024, 1024)
    assert {q.path for q in fake.requests} == {"/v1/images/generations",
                                               "/v1beta/models/gemini-3.1-flash-image:generateContent"}
    booked = rows(teacher["ledger"], "fay")
    assert {b["user"] for b in booked} == {"fay"} and len(booked) == 2
    # Masked edits on both providers (OpenAI: a mask file; Gemini: a mask image and an instruction).
    from PIL import Image

    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (0, 0, 32, 48))
    pp.Client("openai", model="gpt-image-2").edit("a hat", image=png_bytes(), mask=mask, quality="low", n=2)
    pp.Client("gemini").edit("a hat", image=png_bytes(), mask=mask)
    booked = rows(teacher["ledger"], "fay")
    assert len(booked) == 4
    # One code path: the gateway reserved, from the request alone, what the kernel's Client did.
    # (The Gemini mask instruction goes on the wire after "\n\n", which the Client's count leaves
    # out: the gateway, counting the bytes sent, holds those 2 tokens more, at $0.50 per 1M.)
    kernel_side = [b["reserved"] for b in pp.ledger().entries(4)]
    assert [b["reserved"] for b in booked][1:] == kernel_side[1:]
    assert booked[0]["reserved"] - kernel_side[0] == Decimal("0.000001")
    # The gateway's ledger is the truth: the kernel's allowance and report come from it.
    spent = sum(b["cost"] for b in booked)
    assert pp.ledger().allowance() == Decimal("1.00") - spent
    assert [c["prompt"] for c in pp.ledger().calls()][2:] == ["a boat", "a kite"]
    assert "fay" in pp.ledger()._repr_mimebundle_()["text/plain"]
    from promptpaint.gateway import kernel

    assert kernel.class_allowance() == Decimal("1.00") - spent
    SQLiteLedger(teacher["ledger"]).set_budget("user:fay", "0.001")
    with pytest.raises(pp.BudgetExceeded, match="fay's class allowance"):  # the gateway's refusal, as ours
        pp.Client("openai", model="gpt-image-2").generate("one more", quality="low")
    monkeypatch.setenv("PROMPTPAINT_TOKEN", "ppg_revoked-or-mistyped")
    with pytest.raises(pp.AuthError, match="not valid"):
        pp.Client("gemini").generate("a boat")
    assert len(fake.requests) == 4  # neither refusal reached the provider


def test_a_per_user_rate_is_kept_and_refused_as_the_provider_would(fake, tmp_path):
    env, ledger = teacher_env(fake, tmp_path / "home"), str(tmp_path / "class.sqlite3")
    done = promptpaint("budget", "set", "user:*", "--rate", "2/min", "--ledger", ledger, env=env)
    assert done.returncode == 0, done.stderr
    server = Gateway(ledger, env, tmp_path / "gateway.log")  # its own: the rates are read when it starts
    token = new_token(ledger, "gus", env)
    gw, auth = server.url, {"Authorization": f"Bearer {token}"}
    body = {"model": "gpt-image-2", "prompt": "x", "quality": "low"}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:  # a burst: no more than the rate gets through
        codes = sorted(pool.map(lambda _: requests.post(f"{gw}/openai/v1/images/generations", headers=auth,
                                                        json=body).status_code, range(6)))
    assert codes == [200, 200, 429, 429, 429, 429]
    r = requests.post(f"{gw}/openai/v1/images/generations", headers=auth, json=body)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    r = requests.post(f"{gw}/gemini/v1beta/models/gemini-3.1-flash-image:generateContent",
                      headers={"x-goog-api-key": token}, json={"contents": [{"parts": [{"text": "x"}]}]})
    assert r.status_code == 429 and r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert len(fake.requests) == 2
    server.stop()


def test_an_unbounded_setting_goes_through_only_under_the_teachers_ceiling(fake, tmp_path):
    env = teacher_env(fake, tmp_path / "home")
    ledger = str(tmp_path / "class.sqlite3")
    gw = Gateway(ledger, env, tmp_path / "gateway.log", "--ceiling", "0.75")
    try:
        token = new_token(ledger, "hal", env)
        r = requests.post(f"{gw.url}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                          json={"model": "gpt-image-2.5-sunburst", "prompt": "x", "quality": "xhigh"})
        assert r.status_code == 200, r.text
        [row] = rows(ledger)
        assert row["reserved"] == Decimal("0.75") and abs(row["cost"] - fake.bill_total()) < Decimal("1e-6")
    finally:
        gw.stop()


@pytest.mark.parametrize("fault", ["drop", "error"])
def test_a_stream_that_breaks_upstream_stays_booked_at_its_reservation(teacher, fake, fault):
    token = new_token(teacher["ledger"], f"ivy-{fault}", teacher["env"])
    fake.streaming.fault(fault, after=1)
    with requests.post(f"{teacher['gw'].url}/gemini/v1beta/models/gemini-3.1-flash-image:streamGenerateContent",
                       params={"alt": "sse"}, headers={"x-goog-api-key": token},
                       json={"contents": [{"role": "user", "parts": [{"text": "a heron"}]}]}, stream=True) as r:
        assert r.status_code == 200
        try:
            r.content
        except requests.RequestException:
            pass  # the provider's broken stream reaches the student broken
    [row] = rows(teacher["ledger"], f"ivy-{fault}")
    assert row["cost"] is None and row["state"] == "unknown cost" and row["reserved"] > Decimal("0.1")


def test_the_cli_goes_through_the_gateway_too(teacher, fake, tmp_path):
    token = new_token(teacher["ledger"], "jo", teacher["env"])
    env = {k: v for k, v in teacher["env"].items() if not k.startswith(("OPENAI", "GEMINI", "GOOGLE"))}
    env.update(PROMPTPAINT_GATEWAY=teacher["gw"].url, PROMPTPAINT_TOKEN=token, PROMPTPAINT_HOME=str(tmp_path / "kernel"))
    done = promptpaint("generate", "a red kite", "--provider", "openai", "--quality", "low", "-o",
                       str(tmp_path / "kite.png"), env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kite.png").read_bytes()[:4] == b"\x89PNG"
    [row] = rows(teacher["ledger"], "jo")
    assert row["user"] == "jo" and row["prompt"] == "a red kite"


def test_import_promptpaint_and_its_cli_load_no_server_or_driver():
    code = "import promptpaint, promptpaint.cli; promptpaint.cli.build_parser()"
    assert loaded_by(code, {"starlette", "uvicorn", "httpx", "anyio", "psycopg", "jupyterhub"}) == []


def test_the_studios_cost_panel_shows_what_the_gateway_says(teacher, fake, monkeypatch):
    import promptpaint as pp
    from promptpaint.ledger import SQLiteLedger

    from helpers import Front

    SQLiteLedger(teacher["ledger"]).set_budget("user:kim", "0.50")
    token = new_token(teacher["ledger"], "kim", teacher["env"])
    # An earlier call from another kernel of the same student: the gateway counts it, this kernel never saw it.
    assert requests.post(f"{teacher['gw'].url}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                         json={"model": "gpt-image-2", "prompt": "elsewhere", "quality": "low"}).status_code == 200
    monkeypatch.setenv("PROMPTPAINT_GATEWAY", teacher["gw"].url)
    monkeypatch.setenv("PROMPTPAINT_TOKEN", token)
    studio = pp.Studio("openai", model="gpt-image-2")
    Front(studio).run("generate", "a kite")
    booked = rows(teacher["ledger"], "kim")
    assert len(booked) == 2
    spent = sum(r["cost"] for r in booked)
    assert Decimal(studio.costs["budget_left"]) == Decimal("0.50") - spent
    assert Decimal(studio.costs["all_time"]) == spent


def test_an_answer_whose_usage_cannot_be_read_keeps_counting_at_its_reservation(teacher, fake):
    token = new_token(teacher["ledger"], "lou", teacher["env"])
    fake.fault("openai", "odd_usage", kind="negative")
    r = requests.post(f"{teacher['gw'].url}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                      json={"model": "gpt-image-2", "prompt": "x", "quality": "low"})
    assert r.status_code == 200  # the student gets the image the provider made
    [row] = rows(teacher["ledger"], "lou")
    assert row["status"] == "ok" and row["cost"] is None and row["state"] == "unknown cost"
    assert row["reserved"] > 0 and "not a token count" in row["error"]


def test_serve_says_what_is_missing(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "GEMINI", "GOOGLE", "PROMPTPAINT_"))}
    env["PROMPTPAINT_HOME"] = str(tmp_path)
    done = promptpaint("gateway", "serve", "--ledger", str(tmp_path / "class.sqlite3"), env=env)
    assert done.returncode == 2 and "no provider key" in done.stderr and "never in the students'" in done.stderr
    done = promptpaint("gateway", "serve", env={**env, "OPENAI_API_KEY": OPENAI_KEY})
    assert done.returncode == 2 and "--ledger postgresql://" in done.stderr and OPENAI_KEY not in done.stderr


@pytest.mark.parametrize("fault", ["truncated", "drop_after_read"])
def test_an_answer_cut_off_upstream_stays_booked_at_its_reservation(teacher, fake, fault):
    user = f"max-{fault}"
    token = new_token(teacher["ledger"], user, teacher["env"])
    fake.fault("openai", fault)
    r = requests.post(f"{teacher['gw'].url}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                      json={"model": "gpt-image-2", "prompt": "x", "quality": "low"})
    # The provider's own shape, saying it may have been billed (the SDKs show it as a server error).
    assert (r.status_code, r.json()["error"]["code"]) == (502, "upstream_cut_off")
    [row] = rows(teacher["ledger"], user)
    assert row["cost"] is None and row["state"] == "unknown cost" and row["reserved"] > 0
    assert "may have been billed" in row["error"]


def test_models_check_reads_the_providers_lists_through_the_gateway_and_books_nothing(teacher, fake, monkeypatch):
    import promptpaint as pp

    openai = pytest.importorskip("openai")
    token = new_token(teacher["ledger"], "gus", teacher["env"])
    gw = teacher["gw"].url
    fake.key_models[OPENAI_KEY] = {"gpt-image-2"}  # what the teacher's key reaches
    monkeypatch.setenv("PROMPTPAINT_GATEWAY", gw)
    monkeypatch.setenv("PROMPTPAINT_TOKEN", token)  # no provider key in this kernel
    got = {r["id"]: r for r in pp.models(check=True)}
    assert got["gpt-image-2"]["reachable"] and not got["gpt-image-2.6-flare"]["reachable"]
    assert got["gemini-3.1-flash-image"]["reachable"]
    listed = [q for q in fake.requests if q.method == "GET"]
    assert {q.path for q in listed} == {"/v1/models", "/v1beta/models"}
    assert all(token not in json.dumps(dict(q.headers.items())) for q in listed)  # the teacher's key went on
    ids = [m.id for m in openai.OpenAI(base_url=f"{gw}/openai/v1", api_key=token).models.list()]
    assert "gpt-image-2" in ids and "gpt-image-2.6-flare" not in ids  # the SDK reads the same list
    assert rows(teacher["ledger"], "gus", settled=False) == []  # a list is free: nothing reserved
    anon = requests.get(f"{gw}/openai/v1/models", timeout=10)
    assert anon.status_code == 401 and anon.json()["error"]["code"] == "missing_token"
