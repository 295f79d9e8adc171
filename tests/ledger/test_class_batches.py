"""Batch jobs on a class ledger (the ledger's own tables, migration 5): found again, collected
once by two kernels at a time, under class caps near their worst case, listed per user. Every
test runs on SQLite and on PostgreSQL (``backend``)."""

from __future__ import annotations

import os
from decimal import Decimal as D

import pytest

import promptpaint as pp
from fakes import GEMINI_KEY


def test_a_batch_job_on_the_class_ledger_is_found_again_and_each_line_booked_once(backend, fake, isolated_home):
    """Batch jobs live in the ledger's own tables (migration 5): on PostgreSQL too, two kernels
    collecting one job at once book each line once, under the submitter's name."""
    from helpers import check_each_line_booked_once, collect_in_two_processes_at_once

    fake.batches.step = 0.05
    prompts = [f"alice fox {i}" for i in range(6)]
    client = pp.Client("gemini", model="gemini-3.1-flash-image", api_key=GEMINI_KEY, base_url=fake.gemini_base,
                       budget=1)
    job = client.batch(prompts).wait(poll=0.05, progress=False)
    assert pp.batches()[0].id == job.id
    # On a shared ledger a collector reaches the provider at its own configured base URL, never at
    # the one in the (shared, writable) job row.
    os.environ["GOOGLE_GEMINI_BASE_URL"] = fake.gemini_base
    try:
        a, b = collect_in_two_processes_at_once(isolated_home)
    finally:
        del os.environ["GOOGLE_GEMINI_BASE_URL"]
    assert len(a) == len(b) == 6
    check_each_line_booked_once(fake, prompts)
    assert {r["user"] for r in pp.ledger().entries(100)} == {"alice"}


def gemini_batch(fake, prompts, *, room):
    """Submit a batch, then cap every user at what its worst case holds plus ``room`` dollars."""
    fake.batches.step = 0.05
    client = pp.Client("gemini", model="gemini-3.1-flash-image", api_key=GEMINI_KEY, base_url=fake.gemini_base)
    job = client.batch(prompts)
    worst = pp.ledger().spent()
    pp.ledger().set_budget("user:*", worst + room)
    return job.wait(poll=0.05, progress=False), worst


def test_a_batch_under_a_class_cap_near_its_worst_case_is_collected_in_full(backend, fake):
    """The job's row holds every line's worst case until it is collected: booking the lines must
    not count them a second time, or the cap refuses lines already paid for."""
    job, _ = gemini_batch(fake, ["alice fox", "alice heron", "alice cat"], room=D("0.01"))
    assert [type(r) for r in job.results()] == [pp.Result] * 3
    assert pp.ledger().total() == pp.ledger().spent() == fake.bill_total() > 0


def test_a_line_of_unknown_cost_under_a_tight_class_cap_keeps_the_jobs_worst_case(backend, fake):
    fake.fault("gemini", "odd_usage", kind="null")  # the first line's usage cannot be read
    # No room to hold the odd line's worst case a second time beside the job's.
    job, worst = gemini_batch(fake, ["alice fox", "alice heron"], room=D(0))
    with pytest.warns(pp.UnknownPriceWarning, match="1 line"):
        odd, fine = job.results()
    assert odd.cost is None and fine.cost > 0
    assert pp.ledger().spent() == worst + fine.cost  # more than the odd line's worst case, never less
    assert pp.ledger().total() == fine.cost


def test_on_a_shared_ledger_batches_lists_your_own_jobs_unless_asked_for_everyones(backend, fake, monkeypatch):
    fake.batches.step = 0.05
    client = pp.Client("gemini", model="gemini-3.1-flash-image", api_key=GEMINI_KEY, base_url=fake.gemini_base)
    mine = client.batch(["alice fox"])
    monkeypatch.setenv("PROMPTPAINT_USER", "bob")
    bobs = client.batch(["bob heron"])
    assert [j.id for j in pp.batches()] == [bobs.id]  # bob's newest job is his own, not alice's
    assert [j.id for j in pp.batches(user="alice")] == [mine.id]
    assert {j.id for j in pp.batches(user="*")} == {mine.id, bobs.id}
    monkeypatch.setenv("PROMPTPAINT_USER", "alice")
    assert [j.id for j in pp.batches()] == [mine.id]
