"""``promptpaint models --check`` / ``pp.models(check=True)`` against the fake's own model lists:
a key that reaches some models and not others, Gemini's paging, and what the exit code says."""

import promptpaint as pp
from promptpaint import cli
from fakes.gemini import GEMINI_KEY
from fakes.openai import OPENAI_KEY

STUDENT_KEY = "sk-test-openai-student-0000000000"
GEMINI_STUDENT = "AIzaSy-test-student-00000000000000000"


def on_fake(monkeypatch, fake, openai_key=None, gemini_key=None):
    if openai_key:
        monkeypatch.setenv("OPENAI_API_KEY", openai_key)
        monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    if gemini_key:
        monkeypatch.setenv("GEMINI_API_KEY", gemini_key)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.gemini_base)


def by_id(rows):
    return {r["id"]: r for r in rows}


def test_a_key_that_reaches_some_models_and_an_unpriced_one(fake, monkeypatch, day):
    day("2026-12-03")
    fake.keys.add(STUDENT_KEY)
    fake.openai_models.add("gpt-image-3-preview")  # served, but not in the registry
    fake.key_models[STUDENT_KEY] = {"gpt-image-2", "gpt-image-2.6-flare", "gpt-image-3-preview"}
    on_fake(monkeypatch, fake, openai_key=STUDENT_KEY)
    rows = pp.models(check=True)
    got = by_id(rows)
    assert got["gpt-image-2"]["reachable"] and got["gpt-image-2"]["priced"] and got["gpt-image-2"]["default"]
    assert got["gpt-image-2.6-flare"]["reachable"]
    assert not got["gpt-image-2.6-sunburst"]["reachable"]  # not enabled for this key
    assert got["gpt-image-3-preview"]["reachable"] and not got["gpt-image-3-preview"]["priced"]
    assert not got["gpt-image-3-preview"]["known"]
    assert "gpt-5.1" not in got and "whisper-1" not in got  # the list's text/audio models are no news
    assert rows.defaults_reachable
    assert rows.skipped == {"gemini": "no key (GOOGLE_API_KEY or GEMINI_API_KEY)"}
    listed = [r for r in fake.by_provider("openai") if r.path == "/v1/models"]
    assert len(listed) == 1 and listed[0].method == "GET"
    assert listed[0].headers["authorization"] == f"Bearer {STUDENT_KEY}"


def test_gemini_pages_through_the_list_and_a_missing_default_sets_the_exit_code(fake, monkeypatch, day, capsys):
    day("2026-12-03")
    fake.keys.add(GEMINI_STUDENT)
    fake.key_models[GEMINI_STUDENT] = {"gemini-3-pro-image", "gemini-3.1-flash-lite-image"}
    fake.gemini_list_page_max = 2
    on_fake(monkeypatch, fake, gemini_key=GEMINI_STUDENT)
    rows = pp.models(check=True, providers=["gemini"])
    got = by_id(rows)
    assert got["gemini-3-pro-image"]["reachable"] and got["gemini-3.1-flash-lite-image"]["reachable"]
    assert not got["gemini-3.1-flash-image"]["reachable"] and got["gemini-3.1-flash-image"]["default"]
    assert not rows.defaults_reachable
    assert "gemini-2.5-pro" not in got and "gemini-3-pro-image-interactions" not in got
    pages = [r for r in fake.by_provider("gemini") if r.path == "/v1beta/models"]
    assert len(pages) == 3 and pages[1].query.get("pageToken")  # 2 + 2 + 2 rows: paged
    assert all(r.headers["x-goog-api-key"] == GEMINI_STUDENT and "key" not in r.query for r in pages)

    assert cli.main(["models", "--check", "--provider", "gemini"]) == 8
    out = capsys.readouterr().out
    assert "NOT reachable" in out and "gemini-3.1-flash-image" in out
    assert "use gemini-3-pro-image" in out or "use gemini-3.1-flash-lite-image" in out


def test_the_cli_exits_0_when_every_default_is_reachable(fake, monkeypatch, day, capsys):
    day("2026-12-03")
    on_fake(monkeypatch, fake, openai_key=OPENAI_KEY, gemini_key=GEMINI_KEY)
    assert cli.main(["models", "--check"]) == 0
    out = capsys.readouterr().out
    assert "Reachable with your key, priced:" in out and "gpt-image-2.6-sunburst" in out
    assert "gemini-3.1-flash-image" in out
    assert {r.path for r in fake.requests} == {"/v1/models", "/v1beta/models"}


def test_a_rejected_key_is_exit_3_and_never_printed(fake, monkeypatch, capsys):
    on_fake(monkeypatch, fake, openai_key="sk-wrong-key-000000000000000000")
    assert cli.main(["models", "--check"]) == 3
    err = capsys.readouterr().err
    assert "sk-wrong-key-000000000000000000" not in err and "AuthError" in err


def test_no_key_at_all_says_what_to_set(monkeypatch, capsys):
    assert cli.main(["models", "--check"]) == 3
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_a_model_openai_no_longer_serves_raises_model_unavailable_with_the_successor(fake, openai_client, day):
    import pytest

    day("2026-11-20")  # gpt-image-1.5 is still in the registry's current rows; the provider dropped it
    fake.openai_models.discard("gpt-image-1.5")
    client = openai_client(model="gpt-image-1.5")
    with pytest.raises(pp.ModelUnavailable) as info:
        client.generate("a red kite")
    e = info.value
    assert isinstance(e, LookupError) and isinstance(e, pp.InvalidRequest)
    assert e.model == "gpt-image-1.5" and e.successor == "gpt-image-2" and e.status == 404
    assert "pp.Client('openai', model='gpt-image-2')" in str(e)
    assert fake.last("openai").response_json["error"]["code"] == "model_not_found"
    assert len(fake.by_provider("openai")) == 1  # a 404 is not retried


def test_a_gemini_default_the_key_no_longer_reaches_names_another_model(fake, gemini_client, day):
    import pytest

    day("2026-12-03")
    fake.key_models[GEMINI_KEY] = {"gemini-3-pro-image"}
    with pytest.raises(pp.ModelUnavailable) as info:
        gemini_client().generate("a red kite")
    e = info.value
    assert e.model == "gemini-3.1-flash-image" and e.successor
    assert e.successor != "gemini-3.1-flash-image"
    assert fake.last("gemini").response_json["error"]["status"] == "NOT_FOUND"
    assert "models --check" in str(e)
    assert fake.bill_total("gemini") == 0


def test_the_cli_exit_code_of_an_unavailable_model(fake, monkeypatch, day, capsys):
    day("2026-12-03")
    on_fake(monkeypatch, fake, openai_key=OPENAI_KEY)
    fake.key_models[OPENAI_KEY] = {"gpt-image-2"}
    code = cli.main(["generate", "a kite", "--provider", "openai", "--model", "gpt-image-2.6-flare",
                     "-o", str(__import__("pathlib").Path(__import__("tempfile").mkdtemp()) / "k.png")])
    assert code == 8
    assert "gpt-image-2" in capsys.readouterr().err


def test_the_studio_error_card_offers_the_successor(fake, gemini_client, day):
    from promptpaint.studio.errorcard import error_state

    day("2026-12-03")
    fake.gemini_models.pop("gemini-3.1-flash-image")
    try:
        gemini_client().generate("a kite")
    except pp.ModelUnavailable as exc:
        state = error_state(exc)
    assert state["kind"] == "ModelUnavailable" and state["successor"] == "gemini-3.1-flash-lite-image" or \
        state["successor"] in {"gemini-3-pro-image", "gemini-3.1-flash-lite-image"}
    assert error_state(pp.InvalidRequest("bad size"))["successor"] is None
