"""Issue 18 in the Studio: "at most" is the reservation the next call makes, "typically" is never
above it, the buttons know before the click when a call would be refused and why, and a re-used
budget id says whether it starts fresh or resumes."""

from __future__ import annotations

import warnings
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from helpers import gemini_studio, openai_studio


def reserved():
    return pp.ledger().entries(1)[0]["reserved"]


def test_at_most_is_the_reservation_of_the_next_generate_and_edit(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch, budget=5)
    studio.params = {**studio.params, "quality": "high"}
    studio.prompt = "a fox"
    shown = Decimal(studio.costs["estimate"])
    front.run("generate")
    assert shown == reserved()
    studio.session.set_mask(Image.new("L", studio.session.image_size, 255))
    studio.prompt = "give it a hat"
    shown = Decimal(studio.costs["estimate"])
    front.run("edit")
    assert studio.error == {} and shown == reserved()


def test_a_gemini_conversation_is_quoted_with_its_whole_history(fake, monkeypatch):
    studio, front = gemini_studio(fake, monkeypatch, budget=5)
    front.run("generate", "a lighthouse")
    for prompt in ("now at night", "add a ship"):
        studio.prompt = prompt
        shown = Decimal(studio.costs["estimate"])
        front.run("edit")
        assert len(fake.last("gemini").json["contents"]) > 1 and shown == reserved()


@pytest.mark.parametrize("quality", ["auto", "low", "medium", "high"])
def test_typically_is_never_above_at_most(fake, monkeypatch, quality):
    studio, front = openai_studio(fake, monkeypatch)
    studio.params = {**studio.params, "quality": quality, "size": "1024x1024"}
    studio.prompt = "a fox"
    assert Decimal(studio.costs["estimate_typical"]) <= Decimal(studio.costs["estimate"])
    fake.auto_quality = "high"  # the ledger's recent calls: dearer than the table's "usual"
    front.run("generate")
    assert Decimal(studio.costs["estimate_typical"]) <= Decimal(studio.costs["estimate"])


def test_the_buttons_know_before_the_click_that_the_call_would_be_refused(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch, budget=0.1)
    studio.params = {**studio.params, "quality": "low", "size": "1024x1024"}
    studio.prompt = "a fox"
    assert studio.costs["refused"]["generate"] is None
    studio.params = {**studio.params, "quality": "high"}
    why = studio.costs["refused"]["generate"]
    assert why and studio.costs["estimate"].rstrip("0") in why and "tomorrow" not in why
    front.run("generate")
    assert studio.error["kind"] == "BudgetExceeded" and studio.error["message"] in why
    assert not fake.by_provider("openai")


def test_a_rerun_with_the_same_budget_id_starts_fresh_and_says_so_or_resumes(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch, budget=1, budget_id="homework-3")
    studio.params = {**studio.params, "quality": "low"}
    front.run("generate", "a fox")
    spent = pp.ledger().total()
    assert spent > 0 and studio.notice == ""
    again, _ = openai_studio(fake, monkeypatch, budget=1, budget_id="homework-3")  # the cell re-run
    assert "starts a fresh $1.00 budget" in again.notice and "resume=True" in again.notice
    assert Decimal(again.costs["budget_left"]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed, _ = openai_studio(fake, monkeypatch, budget=1, budget_id="homework-3", resume=True)
    assert "Resuming budget 'homework-3'" in resumed.notice
    assert Decimal(resumed.costs["budget_left"]) == 1 - spent


def test_the_compare_estimate_is_the_sum_of_the_reservations_its_cells_make(fake, monkeypatch):
    studio, front = openai_studio(fake, monkeypatch, budget=5)
    studio.prompt = "a fox in snow"
    quoted = studio.session.compare_estimate(["gpt-image-2"], ["low", "high"], 2)
    front.msg({"kind": "compare", "models": ["gpt-image-2"], "qualities": ["low", "high"], "repeats": 2})
    front.wait()
    rows = pp.ledger().entries(10)
    assert [c["status"] for c in studio.compare["cells"]] == ["ok"] * 4
    assert Decimal(quoted["worst_case"]) == sum(r["reserved"] for r in rows)


@pytest.mark.parametrize("resume", [False, True])
def test_rerunning_the_cell_says_the_budget_starts_fresh_or_resumes_it(fake, monkeypatch, resume):
    from promptpaint.studio import reruns
    run = ["run-1"]
    monkeypatch.setattr(reruns, "cell_run", lambda: ("cell-3", run[0]))
    old, front = openai_studio(fake, monkeypatch, budget=1)
    old.params = {**old.params, "quality": "low"}
    front.run("generate", "a fox")
    spent = pp.ledger().total()
    run[0] = "run-2"  # the cell is run again
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new, new_front = openai_studio(fake, monkeypatch, budget=1, resume=resume)
    assert old.closed == "replaced"
    if resume:
        assert "Resuming this cell's earlier budget" in new.notice
        assert Decimal(new.costs["budget_left"]) == 1 - spent
        new.params = {**new.params, "quality": "low"}
        new_front.run("generate", "a heron")
        assert {r["budget"] for r in pp.ledger().entries(5)} == {old.session.budget_id}
    else:
        assert "starts a fresh $1.00 budget" in new.notice and "resume=True" in new.notice
        assert Decimal(new.costs["budget_left"]) == 1
