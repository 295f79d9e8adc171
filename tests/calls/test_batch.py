"""Batch jobs against the fake Batch APIs: wire format, money, and collection from a new process."""

import base64
import io
import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY, colour_for
from helpers import check_each_line_booked_once, collect_in_two_processes_at_once
from promptpaint.providers.gemini import batch as gemini_batch

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
    assert pp.ledger().total() == fake.batches.total() == fake.bill_total()
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
                                                        # the cap its reservation assumed
                                                        "maxOutputTokens": 1120 + 2048,
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
    assert pp.ledger().total() == fake.batches.total() == fake.bill_total()
    assert job.results()[2].paths == ok.paths and len(ledger_rows()) == 4  # collecting again books nothing


@pytest.mark.parametrize("limit", [("INLINE_MAX_LINES", 1), ("INLINE_LIMIT", 100)], ids=["many lines", "20 MB"])
def test_gemini_batch_large_job_goes_as_an_uploaded_file_and_comes_back_as_one(fast, monkeypatch, limit):
    monkeypatch.setattr(gemini_batch, *limit)  # as 17+ lines or 20 MB of requests would
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


def test_a_job_whose_creation_answer_is_lost_keeps_its_worst_case_counting(fast):
    fast.batches.drop_create = True
    client = openai(fast, budget=1)
    with pytest.raises(pp.ProviderError) as exc:
        client.batch(["a fox", "a heron"], quality="low")
    assert exc.value.maybe_billed and len(fast.batches.jobs) == 1  # it exists, and will run and bill
    name = next(iter(fast.batches.jobs.values())).extra.get("metadata", {}).get("promptpaint")
    assert name and name in str(exc.value) and name in ledger_rows()[0]["error"]  # findable at the provider
    held = client.estimate("a fox", quality="low") / 2 + client.estimate("a heron", quality="low") / 2
    assert pp.ledger().spent(budget=client._budget_id) == held > 0


def test_a_job_the_provider_refused_to_create_releases_its_reservation(fast):
    client = pp.Client("openai", api_key="sk-not-a-valid-key-000000", base_url=fast.openai_base, budget=1)
    with pytest.raises(pp.AuthError) as exc:
        client.batch(["a fox"], quality="low")
    assert not exc.value.maybe_billed and fast.batches.jobs == {}
    assert pp.ledger().spent(budget=client._budget_id) == 0
    assert "not-a-valid" not in str(exc.value) and "not-a-valid" not in str(ledger_rows())


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
    fast.batches.step = 30  # still validating when the cancel arrives
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
    fast.batches.step = 30
    job = gemini(fast, budget=1).batch([f"fox {i}" for i in range(4)])
    fast.batches.expire(job.id, ran=2)  # the 24 h window ends after two lines ran
    results = job.wait(poll=0.05, progress=False).results()
    assert job.state == "expired"
    ran = [r for r in results if isinstance(r, pp.Result)]
    assert len(ran) == 2 and all(isinstance(r, pp.Cancelled) and "expired" in r.message for r in results[2:])
    assert sum(r.cost for r in ran) == fast.batches.total() == pp.ledger().total() == fast.bill_total()


def test_a_line_whose_usage_cannot_be_read_keeps_counting_at_its_worst_case(fast):
    fast.fault("gemini", "odd_usage", kind="null")
    client = gemini(fast, budget=1)
    job = client.batch(["a fox", "a heron"])
    with pytest.warns(pp.UnknownPriceWarning, match="1 line"):
        odd, fine = job.wait(poll=0.05, progress=False).results()
    assert odd.cost is None and fine.cost > 0 and odd.image  # the image is kept
    rows = {r["id"]: r for r in ledger_rows()}
    from promptpaint.batch import Records
    line = Records(pp.ledger()).lines(job.id)[0]
    held = rows[line["ledger_row"]]["reserved"]
    assert held > 0 and pp.ledger().spent(budget=client._budget_id) == held + fine.cost


def test_results_before_the_job_ends_says_to_wait(fast):
    fast.batches.step = 30
    job = gemini(fast).batch(["a fox"])
    with pytest.raises(pp.InvalidRequest, match=r"wait\(\)"):
        job.results()
    with pytest.raises(pp.Timeout, match="still pending"):
        job.wait(timeout=0.1, poll=0.05, progress=False)


def test_openai_batch_edits_send_json_image_references_and_are_booked_at_batch_price(fast):
    red, blue = Image.new("RGB", (48, 32), "red"), Image.new("RGB", (16, 16), "blue")
    job = openai(fast, budget=1).batch(["add a hat", "add a scarf"], images=[red, [red, blue]], quality="low")
    upload, create = fast.requests[0], fast.requests[1]
    assert create.json["endpoint"] == "/v1/images/edits"
    lines = [json.loads(x) for x in upload.files["file"][0][2].decode().splitlines()]
    assert lines[0]["url"] == "/v1/images/edits" and lines[0]["body"]["prompt"] == "add a hat"
    refs = lines[1]["body"]["images"]
    assert [list(r) for r in refs] == [["image_url"], ["image_url"]]
    sent = Image.open(io.BytesIO(base64.b64decode(refs[1]["image_url"].split(",", 1)[1])))
    assert sent.size == (16, 16) and refs[1]["image_url"].startswith("data:image/png;base64,")
    hat, scarf = job.wait(poll=0.05, progress=False).results()
    assert hat.image.size == (48, 32)  # an edit keeps the first image's size
    assert [hat.usage.input_images, scarf.usage.input_images] == [1, 2] and scarf.usage.input_image_tokens > 0
    assert pp.ledger().total() == fast.batches.total() == fast.bill_total() > 0
    with pytest.raises(pp.InvalidRequest, match="all generations or all edits"):
        openai(fast).batch(["a", "b"], images=[red, None])


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


def test_a_ledger_without_tables_of_its_own_says_which_ones_keep_batches(fast):
    class Elsewhere:  # a Ledger someone wrote that keeps no tables promptpaint can add to
        pass

    with pytest.raises(pp.InvalidRequest, match="default ledger .SQLite. or a PostgreSQL one"):
        pp.batches(ledger=Elsewhere())


def test_the_batch_tables_are_part_of_the_versioned_schema_not_made_on_first_use(isolated_home):
    import sqlite3

    from promptpaint.ledger import migrations

    pp.ledger().total()  # opening the ledger migrates it; no batch code has run
    db = sqlite3.connect(isolated_home / "ledger.sqlite3")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"batch_jobs", "batch_lines"} <= tables
    assert db.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST >= 5
    assert [m.version for m in migrations.MIGRATIONS if "batch" in m.summary] == [5]


def test_a_file_whose_batch_tables_were_made_on_first_use_migrates_and_keeps_its_jobs(fast, isolated_home):
    import sqlite3

    from promptpaint.ledger import migrations

    job = gemini(fast, budget=1).batch(["a fox", "a heron"])
    path = isolated_home / "ledger.sqlite3"
    pp.ledger().close()
    sys.modules["promptpaint.ledger"]._ledgers.clear()
    db = sqlite3.connect(path)  # as the pre-release code left it: version 4, jobs without a user
    db.execute("ALTER TABLE batch_jobs DROP COLUMN user")
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    found = pp.batches(api_key=GEMINI_KEY)
    assert [j.id for j in found] == [job.id] and found[0]._record["user"]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert [type(r) for r in found[0].wait(poll=0.05, progress=False).results()] == [pp.Result] * 2


def test_batches_needs_a_key_to_reach_the_provider(fast, monkeypatch):
    gemini(fast).batch(["a fox"])
    job = pp.batches()[0]
    with pytest.raises(pp.AuthError, match="GEMINI_API_KEY"):
        job.status()
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    assert pp.batches()[0].status() in ("pending", "running", "completed")


def test_a_line_answered_with_unreadable_image_data_keeps_counting(fast, monkeypatch):
    from promptpaint.providers.openai import batch as openai_batch

    real = openai_batch.answer_from

    def garbled(body, n_in, rid, attempts=1):  # the provider answered (and billed) this line
        body = {**body, "data": [{"b64_json": "!!not base64!!"}]}
        return real(body, n_in, rid, attempts)

    monkeypatch.setattr(openai_batch, "answer_from", garbled)
    client = openai(fast, budget=1)
    job = client.batch(["a fox"], quality="low").wait(poll=0.05, progress=False)
    with pytest.warns(pp.UnknownPriceWarning, match="1 line"):  # said once, when collected
        (line,) = job.results()
    assert isinstance(line, pp.ProviderError)
    assert pp.ledger().spent(budget=client._budget_id) == client.estimate("a fox", quality="low") / 2 > 0


def test_two_sessions_collecting_one_job_at_once_book_each_line_once(fast):
    from concurrent.futures import ThreadPoolExecutor

    job = gemini(fast, budget=1).batch([f"fox {i}" for i in range(12)])
    job.wait(poll=0.05, progress=False)
    first, second = pp.batches(api_key=GEMINI_KEY)[0], pp.batches(api_key=GEMINI_KEY)[0]
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda j: j.results(), (first, second))
    lines = [r for r in ledger_rows() if r["kind"] != "batch"]
    assert len(lines) == 12 and len({r["prompt"] for r in lines}) == 12
    assert pp.ledger().total() == fast.bill_total()
    assert [type(r) for r in job.results()] == [pp.Result] * 12
    assert pp.ledger().spent() == fast.bill_total()  # the job's reservation is released


def test_two_processes_collecting_one_job_at_once_book_each_line_once(fast, isolated_home):
    prompts = [f"fox {i}" for i in range(24)]
    gemini(fast, budget=5).batch(prompts).wait(poll=0.05, progress=False)
    a, b = collect_in_two_processes_at_once(isolated_home)
    assert len(a) == len(b) == 24
    check_each_line_booked_once(fast, prompts)


def test_the_key_never_shows_in_a_jobs_repr_record_or_error(fast, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    job = gemini(fast).batch(["a fox"])
    found = pp.batches()[0]
    found.status()
    assert GEMINI_KEY not in repr(found.wire.__dict__) and GEMINI_KEY not in repr(job)
    from promptpaint.batch import Records
    assert GEMINI_KEY not in repr(Records(pp.ledger()).jobs())
    fast.keys.discard(GEMINI_KEY)  # the provider now rejects the key
    with pytest.raises(pp.PromptpaintError) as exc:
        found.status()
    assert GEMINI_KEY not in str(exc.value) and GEMINI_KEY not in repr(exc.value.args)


def test_a_collection_that_died_halfway_is_finished_by_the_next_on_the_same_rows(fast, monkeypatch):
    from promptpaint import batch

    job = gemini(fast, budget=1).batch(["a fox", "a heron", "a cat"])
    job.wait(poll=0.05, progress=False)
    real = batch.BatchJob._book_line
    calls = []

    def dies_on_second_line(self, records, idx, row, outcome, price):
        calls.append(idx)
        if len(calls) == 2:  # the kernel is killed after this line's row was reserved
            worst = json.loads(self._record["worst"])[idx]
            attempt = batch.Attempt(provider="gemini", model=GEMINI, kind="generate", prompt=self.prompts[idx],
                                    params={}, price_version=None, budget=self._record["budget"])
            records.update_line(self.id, idx, ledger_row=self.ledger.reserve(attempt, Decimal(worst), []))
            raise KeyboardInterrupt
        return real(self, records, idx, row, outcome, price)

    monkeypatch.setattr(batch.BatchJob, "_book_line", dies_on_second_line)
    with pytest.raises(KeyboardInterrupt):
        job.results()
    monkeypatch.setattr(batch.BatchJob, "_book_line", real)
    assert pp.ledger().spent() > fast.bill_total()  # the job and the half-booked line still count
    later = pp.batches(api_key=GEMINI_KEY)[0]
    assert all(isinstance(r, pp.Cancelled) for r in later.results()[1:2])  # claimed moments ago: left alone
    from promptpaint.ledger import batches as batch_tables

    monkeypatch.setattr(batch_tables, "STALE_CLAIM", 0.0)  # ... until the claim is old
    results = pp.batches(api_key=GEMINI_KEY)[0].results()
    assert [type(r) for r in results] == [pp.Result] * 3
    assert len([r for r in ledger_rows() if r["kind"] == "generate"]) == 3  # the dead one's row was reused
    assert pp.ledger().total() == pp.ledger().spent() == fast.bill_total()


def test_cost_lists_a_job_whose_submitter_exited_as_awaiting_collection_not_interrupted(fast, isolated_home):
    from promptpaint.ledger import dollars

    code = textwrap.dedent(f"""
        import promptpaint as pp
        pp.Client("gemini", model={GEMINI!r}, base_url={fast.gemini_base!r}, budget=1).batch(["a fox", "a heron"])
    """)
    env = {**os.environ, "PROMPTPAINT_HOME": str(isolated_home), "GEMINI_API_KEY": GEMINI_KEY}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # the submitting process has exited
    worst = pp.ledger().spent()
    assert worst > 0
    summary = pp.ledger().summary()
    assert (summary.batches_awaiting, summary.batches_reserved, summary.interrupted_calls) == (1, worst, 0)
    out = subprocess.run([sys.executable, "-m", "promptpaint", "cost", "--last", "5"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "interrupted" not in out.stdout
    assert f"1 batch job awaiting collection (pp.batches()), up to {dollars(worst)}" in out.stdout
    assert "collect them with pp.batches()" in out.stdout and "batch of 2: a fox" in out.stdout
    pp.batches(api_key=GEMINI_KEY)[0].wait(poll=0.05, progress=False).results()
    assert pp.ledger().summary().batches_awaiting == 0


# -- issue 19: one bad line of a batch's results loses only itself -------------------------------------

def _corrupt(fake, monkeypatch, provider, mutate):
    """When the fake finishes a job, ``mutate(lines)`` rewrites its results (a list of line dicts
    in, raw JSON texts or dicts out): what a hostile or broken Batch API could send."""
    api = fake.batches.apis[provider]
    finish = api.finish

    def corrupted(job):
        finish(job)
        if provider == "openai":
            fid = job.output["output"]
            lines = [json.loads(x) for x in fake.batches.files[fid]["bytes"].decode().splitlines()]
            fake.batches.files[fid]["bytes"] = _jsonl(mutate(lines))
        elif "responsesFile" in job.output:
            name = job.output["responsesFile"]
            lines = [json.loads(x) for x in fake.batches.files[name]["bytes"].decode().splitlines()]
            fake.batches.files[name]["bytes"] = _jsonl(mutate(lines))
        else:
            inline = job.output["inlinedResponses"]
            inline["inlinedResponses"] = [json.loads(x) if isinstance(x, str) else x
                                          for x in mutate(inline["inlinedResponses"])]
    monkeypatch.setattr(api, "finish", corrupted)


def _jsonl(lines) -> bytes:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode()


def _key_of(line):
    return line.get("custom_id") or line.get("key") or (line.get("metadata") or {}).get("key")


def _replace(key, new):
    return lambda lines: [new(line) if _key_of(line) == key else line for line in lines]


OPENAI_BAD = {
    "not an object": _replace("pp-1", lambda line: "[1, 2]"),
    "not JSON": _replace("pp-1", lambda line: "{cut off"),
    "a string response": _replace("pp-1", lambda line: {**line, "response": "oops"}),
    "data: [null]": _replace("pp-1", lambda line: {**line, "response": {**line["response"],
                                                                        "body": {**line["response"]["body"],
                                                                                 "data": [None]}}}),
}
GEMINI_BAD = {
    "a string response": _replace("pp-1", lambda line: {**line, "response": "oops"}),
    "unkeyed": _replace("pp-1", lambda line: {k: v for k, v in line.items() if k not in ("key", "metadata")}),
    "out of range": lambda lines: lines + [{**lines[0], "key": "pp-7", "metadata": {"key": "pp-7"}}],
    "not an object": _replace("pp-1", lambda line: "null"),
}


def _check_other_lines_collected_once(job, bad_idx=1):
    before = len(ledger_rows())
    out = job.results()
    assert [isinstance(r, pp.Result) for r in out] == [i != bad_idx for i in range(3)]
    assert all(r.paths[0].exists() and r.cost > 0 for i, r in enumerate(out) if i != bad_idx)
    assert isinstance(out[bad_idx], pp.PromptpaintError)
    after = ledger_rows()
    assert len(job.results()) == 3 and len(ledger_rows()) == len(after)  # collected once
    assert len(after) > before
    from promptpaint.batch import Records

    line = Records(pp.ledger()).lines(job.id)[bad_idx]
    row = {r["id"]: r for r in after}[line["ledger_row"]]
    return out[bad_idx], row


@pytest.mark.parametrize("bad", list(OPENAI_BAD))
def test_openai_a_malformed_result_line_is_that_lines_error_and_the_rest_are_collected(fast, monkeypatch, bad):
    _corrupt(fast, monkeypatch, "openai", OPENAI_BAD[bad])
    job = openai(fast).batch(["a red fox", "a grey heron", "a black cat"], quality="low", size="1024x1024")
    job.wait(poll=0.05, progress=False)
    err, row = _check_other_lines_collected_once(job)
    if bad == "data: [null]":
        assert isinstance(err, pp.Refused) and row["cost"] is not None  # answered without an image, at its usage
    else:  # may have been billed: its cost unknown, its worst case held
        assert "could not" in err.message and row["cost"] is None and row["reserved"] > 0


@pytest.mark.parametrize("form", ["inline", "file"])
@pytest.mark.parametrize("bad", list(GEMINI_BAD))
def test_gemini_a_malformed_result_line_is_that_lines_error_and_the_rest_are_collected(fast, monkeypatch, bad, form):
    if form == "file":
        monkeypatch.setattr(gemini_batch, "INLINE_MAX_LINES", 0)
    _corrupt(fast, monkeypatch, "gemini", GEMINI_BAD[bad])
    job = gemini(fast).batch(["a red fox", "a grey heron", "a black cat"])
    job.wait(poll=0.05, progress=False)
    if bad == "out of range":  # an extra answer no prompt asked for: every real line is collected
        out = job.results()
        assert all(isinstance(r, pp.Result) for r in out) and len(job.results()) == 3
        return
    if bad == "unkeyed" and form == "inline":  # inline answers come in order: its position names it
        assert all(isinstance(r, pp.Result) for r in job.results())
        return
    err, row = _check_other_lines_collected_once(job)
    assert "could not" in err.message and row["cost"] is None and row["reserved"] > 0


def test_a_job_the_ledger_cannot_record_is_named_in_the_error_and_cancelled(fast, monkeypatch):
    from promptpaint.ledger.batches import Records

    def broken(self, job):
        raise pp.LedgerError("disk full")

    monkeypatch.setattr(Records, "add", broken)
    with pytest.raises(pp.LedgerError) as info:
        openai(fast).batch(["a red fox"], quality="low", size="1024x1024")
    job_id = next(iter(fast.batches.jobs))
    assert job_id in str(info.value) and "disk full" in str(info.value)
    assert fast.batches.jobs[job_id].cancelled_at is not None   # nothing runs unrecorded
    row = ledger_rows()[0]
    assert job_id in row["error"] and row["cost"] is None      # its worst case still held
