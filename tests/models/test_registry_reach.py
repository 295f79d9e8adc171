"""The registry's side of "which models does this key reach" and "what instead of a gone model"."""

import json

from promptpaint import registry, registry_reach


def rows_by_id(rows):
    return {r["id"]: r for r in rows}


def test_a_key_reaching_some_models_and_an_unpriced_one(day):
    day("2026-12-03")
    rows = registry_reach.reach({"openai": ["gpt-image-2-2026-04-21", "gpt-image-2.6-flare",
                                            "gpt-image-3-preview", "gpt-image-1.5"]})
    got = rows_by_id(rows)
    assert got["gpt-image-2"]["reachable"] and got["gpt-image-2"]["default"]  # by its dated alias
    assert got["gpt-image-2.6-flare"]["reachable"] and got["gpt-image-2.6-flare"]["priced"]
    assert not got["gpt-image-2.5-sunburst"]["reachable"]
    assert got["gpt-image-3-preview"] == {
        "id": "gpt-image-3-preview", "provider": "openai", "reachable": True, "priced": False,
        "known": False, "status": None, "successor": None, "default": False, "user_file": None}
    # still listed by the provider, but shut down 2026-12-01: retired, and no price after that day
    assert got["gpt-image-1.5"]["status"] == "retired" and not got["gpt-image-1.5"]["priced"]
    assert got["gpt-image-1.5"]["successor"] == "gpt-image-2"
    assert {r["provider"] for r in rows} == {"openai"}
    assert registry_reach.defaults_reachable(rows)


def test_an_unreachable_default_is_what_the_exit_code_reports(day):
    day("2026-12-03")
    rows = registry_reach.reach({"openai": ["gpt-image-2"], "gemini": ["gemini-3-pro-image"]})
    assert not rows_by_id(rows)["gemini-3.1-flash-image"]["reachable"]
    assert not registry_reach.defaults_reachable(rows)


def test_the_replacement_follows_successors_the_key_can_reach(day):
    day("2026-12-03")
    assert registry_reach.replacement("gpt-image-1", "openai") == "gpt-image-2.5-sunburst"
    assert registry_reach.replacement("gpt-image-1", "openai", ["gpt-image-2"]) == "gpt-image-2"
    assert registry_reach.replacement("gpt-image-1.5", "openai") == "gpt-image-2"


def test_a_gone_default_is_replaced_by_a_model_the_key_reaches(day):
    day("2026-12-03")
    got = registry_reach.replacement("gemini-3.1-flash-image", "gemini", ["gemini-3-pro-image"])
    assert got == "gemini-3-pro-image"
    assert registry_reach.replacement("gemini-3.1-flash-image", "gemini", []) is None


def test_models_from_the_users_file_are_marked(isolated_home, day):
    day("2026-12-03")
    path = isolated_home / "models.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"models": {"gemini-nano-banana-2.1": {
        "provider": "gemini", "params": "gemini",
        "prices": [{"from": "2026-11-20", "input_text": 1.5, "output_image": 30, "source": "notes"}]}}}))
    got = rows_by_id(registry_reach.reach({"gemini": ["gemini-nano-banana-2.1"]}))
    assert got["gemini-nano-banana-2.1"]["user_file"] == str(path)
    assert got["gemini-nano-banana-2.1"]["known"] and got["gemini-nano-banana-2.1"]["priced"]
    assert registry_reach.replacement("gemini-3.1-flash-image", "gemini",
                                      ["gemini-nano-banana-2.1"]) == "gemini-nano-banana-2.1"
    assert registry.get("gemini-3.1-flash-image").origin == ""
