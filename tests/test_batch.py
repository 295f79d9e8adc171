"""Batch jobs against the fake Batch APIs: wire format, money, and collection from a new process."""

import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from fakeserver import GEMINI_KEY, OPENAI_KEY, colour_for
from promptpaint.providers import gemini_batch

GEMINI = "gemini-3.1-flash-image"


@pytest.fixture
def fast(fake):
    fake.batches.step = 0.05
    return fake


def openai(fake, **kw):
    return pp.Client("openai", api_key=OPENAI_KEY, base_url=fake.openai_base, **kw)


def gemini(fake, **kw):
    return pp.Client("gemini", model=GEMINI, api_key=GEMINI_KEY, base_url=fake.gemini_base, **kw)


def ledger_rows():
    return pp.ledger().entries(limit=10_000)


def line_costs(job_id):
    """The cost booked for each line of a job, by its custom id / key, read from the ledger rows."""
    rows = {r["id"]: r for r in ledger_rows()}
    from promptpaint.batch import Records

    lines = Records(pp.ledger()).lines(job_id)
    return {f"pp-{i}": rows[line["ledger_row"]]["cost"] for i, line in lines.items() if line["ledger_row"]}


def collect_in_new_process(fake, home, provider):
    """Find the newest job with pp.batches() in a fresh interpreter, wait for it and collect it."""
    code = textwrap.dedent("""
        import json, promptpaint as pp
        job = pp.batches()[0]
        job.wait(poll=0.05, progress=False)
        out = []
        for r in job.results():
            out.append({"ok": isinstance(r, pp.Result), "path": str(r.paths[0]) if isinstance(r, pp.Result) else None,
                        "cost": str(r.cost) if isinstance(r, pp.Result) else None,
                        "error": None if isinstance(r, pp.Result) else type(r).__name__})
        print(json.dumps({"id": job.id, "results": out}))
    """)
    env = {**os.environ, "PROMPTPAINT_HOME": str(home), "OPENAI_API_KEY": OPENAI_KEY, "GEMINI_API_KEY": GEMINI_KEY}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_openai_batch_wire_format_and_a_new_process_collects_every_line_at_batch_price(fast, isolated_home):
    fake = fast
    job = openai(fake, budget=1).batch(["a red fox", "a grey heron", "a black cat"], quality="low", size="1024x1024")
    upload, create = fake.requests[0], fake.requests[1]
    assert (upload.method, upload.path) == ("POST", "/v1/files")
    assert upload.form["purpose"] == ["batch"]
    filename, _, data = upload.files["file"][0]
    assert filename.endswith(".jsonl")
    lines = [json.loads(x) for x in data.decode().splitlines()]
    assert lines[1] == {"custom_id": "pp-1", "method": "POST", "url": "/v1/images/generations",
                        "body": {"model": "gpt-image-2", "prompt": "a grey heron", "quality": "low",
                                 "size": "1024x1024"}}
    assert (create.method, create.path) == ("POST", "/v1/batches")
    assert create.json["endpoint"] == "/v1/images/generations" and create.json["completion_window"] == "24h"
    assert create.json["input_file_id"] == upload.response_json["id"]
    assert job.id == create.response_json["id"] and job.state == "pending"

    got = collect_in_new_process(fake, isolated_home, "openai")
    assert got["id"] == job.id and all(r["ok"] for r in got["results"])
    for prompt, r in zip(["a red fox", "a grey heron", "a black cat"], got["results"]):
        assert Image.open(r["path"]).convert("RGB").getpixel((500, 500)) == colour_for(prompt)
    billed = {b["key"]: b["usd"] for b in fake.batches.billed}
    assert line_costs(job.id) == billed
    assert [Decimal(r["cost"]) for r in got["results"]] == [billed[f"pp-{i}"] for i in range(3)]
    assert pp.ledger().total() == fake.batches.total()
    # Batch price is half the direct one: the same usage through the direct API would cost twice as much.
    direct = openai(fake).generate("a red fox", quality="low", size="1024x1024")
    assert direct.cost == 2 * billed["pp-0"]


def test_gemini_batch_inline_with_a_refused_and_a_failed_line(fast):
    fake = fast
    fake.fault("gemini", "blocked")       # line 0: answered without an image, prompt tokens billed
    fake.fault("gemini", "permission")    # line 1: the provider's error, not billed
    job = gemini(fake, budget=1).batch(["a fox", "a heron", "a cat"], aspect_ratio="16:9")
    create = fake.requests[0]
    assert create.path == f"/v1beta/models/{GEMINI}:batchGenerateContent"
    assert create.headers["x-goog-api-key"] == GEMINI_KEY
    reqs = create.json["batch"]["inputConfig"]["requests"]["requests"]
    assert reqs[2] == {"request": {"contents": [{"role": "user", "parts": [{"text": "a cat"}]}],
                                   "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                                                        "imageConfig": {"aspectRatio": "16:9"}}},
                       "metadata": {"key": "pp-2"}}
    assert job.id.startswith("batches/")
    refused, failed, ok = job.wait(poll=0.05, progress=False).results()
    assert isinstance(refused, pp.Refused) and refused.cost > 0
    assert isinstance(failed, pp.AccessError) and "Generative Language API" in failed.message
    assert isinstance(ok, pp.Result) and ok.image.convert("RGB").getpixel((10, 300)) == colour_for("a cat")
    billed = {b["key"]: b["usd"] for b in fake.batches.billed}
    costs = line_costs(job.id)
    assert costs == {**billed, "pp-1": Decimal(0)}
    assert refused.cost == billed["pp-0"] and ok.cost == billed["pp-2"]
    assert pp.ledger().total() == fake.batches.total()
    assert job.results()[2].paths == ok.paths and len(ledger_rows()) == 4  # collecting again books nothing


def test_gemini_batch_large_job_goes_as_an_uploaded_file_and_comes_back_as_one(fast, monkeypatch):
    monkeypatch.setattr(gemini_batch, "INLINE_LIMIT", 0)
    job = gemini(fast).batch(["a fox", "a heron"])
    start, finish, create = fast.requests[:3]
    assert start.path == "/upload/v1beta/files" and start.headers["x-goog-upload-command"] == "start"
    assert finish.headers["x-goog-upload-command"] == "upload, finalize"
    assert [json.loads(x)["key"] for x in finish.raw.decode().splitlines()] == ["pp-0", "pp-1"]
    assert create.json["batch"]["inputConfig"] == {"fileName": finish.response_json["file"]["name"]}
    results = job.wait(poll=0.05, progress=False).results()
    assert [r.prompt for r in results] == ["a fox", "a heron"]
    assert any(r.path.endswith(":download") and r.query == {"alt": "media"} for r in fast.requests)
    assert pp.ledger().total() == fast.batches.total() > 0


def test_a_budget_refuses_a_batch_before_anything_is_uploaded(fake):
    client = openai(fake, budget=0.05)
    one = client.estimate("a fox", quality="low")
    assert one < Decimal("0.05") < 30 * one / 2  # one direct call fits; thirty at batch price do not
    with pytest.raises(pp.BudgetExceeded):
        client.batch([f"fox {i}" for i in range(30)], quality="low")
    assert fake.requests == []
    assert pp.ledger().total() == 0


def test_the_jobs_reservation_counts_against_the_budget_until_it_is_collected(fast):
    fast.batches.step = 30  # the job stays pending for the whole test
    probe = gemini(fast)
    # Room for the job's worst case (half a direct call's) or one direct call, not both.
    client = gemini(fast, budget=probe.estimate("a heron") + probe.estimate("a fox") / 4)
    job = client.batch(["a fox"])
    with pytest.raises(pp.BudgetExceeded):
        client.generate("a heron")
    assert [r.path for r in fast.requests].count(f"/v1beta/models/{GEMINI}:generateContent") == 0
    assert job.status() == "pending"


def test_a_cancelled_job_releases_what_never_ran(fast):
    fast.batches.step = 0.5
    client = openai(fast, budget=0.5)
    job = client.batch(["a fox", "a heron"], quality="low")
    assert job.cancel() in ("cancelling", "cancelled")
    results = job.wait(poll=0.05, progress=False).results()
    assert job.state == "cancelled"
    assert all(isinstance(r, pp.Cancelled) and "not run" in r.message for r in results)
    assert fast.batches.billed == [] and pp.ledger().total() == 0
    # The whole budget is free again.
    assert client.generate("a cat", quality="low").cost > 0


def test_an_expired_job_books_the_lines_that_ran_and_releases_the_rest(fast):
    fast.batches.step = 0.2
    job = gemini(fast, budget=1).batch([f"fox {i}" for i in range(4)])
    while not fast.batches.lines_run:  # let at least one line run, then the 24 h window "ends"
        job.status()
    fast.batches.expire(job.id)
    results = job.wait(poll=0.05, progress=False).results()
    assert job.state == "expired"
    ran = [r for r in results if isinstance(r, pp.Result)]
    assert 1 <= len(ran) < 4 and all(isinstance(r, pp.Cancelled) for r in results[len(ran):])
    assert sum(r.cost for r in ran) == fast.batches.total() == pp.ledger().total()


def test_results_before_the_job_ends_says_to_wait(fast):
    fast.batches.step = 30
    job = gemini(fast).batch(["a fox"])
    with pytest.raises(pp.InvalidRequest, match=r"wait\(\)"):
        job.results()
    with pytest.raises(pp.Timeout, match="still pending"):
        job.wait(timeout=0.1, poll=0.05, progress=False)


def test_openai_batch_edits_are_refused_before_spending(fake):
    im = Image.new("RGB", (32, 32), "red")
    with pytest.raises(pp.InvalidRequest, match="generation only"):
        openai(fake, budget=1).batch(["make it blue"], images=[im])
    assert fake.requests == [] and ledger_rows() == []


def test_gemini_batch_edits_send_each_lines_image(fast):
    im = Image.new("RGB", (40, 30), "red")
    job = gemini(fast).batch(["make it blue", "make it green"], images=[im, [im, im]])
    reqs = fast.requests[0].json["batch"]["inputConfig"]["requests"]["requests"]
    assert [sum("inlineData" in p for p in r["request"]["contents"][0]["parts"]) for r in reqs] == [1, 2]
    results = job.wait(poll=0.05, progress=False).results()
    assert [r.usage.input_images for r in results] == [1, 2]
    assert pp.ledger().total() == fast.batches.total()
    with pytest.raises(pp.InvalidRequest, match="one entry per prompt"):
        gemini(fast).batch(["a", "b"], images=[im])


def test_batches_needs_a_key_to_reach_the_provider(fast, monkeypatch):
    gemini(fast).batch(["a fox"])
    job = pp.batches()[0]
    with pytest.raises(pp.AuthError, match="GEMINI_API_KEY"):
        job.status()
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    assert pp.batches()[0].status() in ("pending", "running", "completed")
