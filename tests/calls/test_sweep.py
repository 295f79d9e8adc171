"""pp.Sweep against the fake providers: every cell a real call, booked and billed like any other."""

import io
import sys
from decimal import Decimal

import pytest
from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY, colour_for
from promptpaint import sweepgrid

# Published prices (USD per 1M tokens, providers.md 2026-11-25): the test's own, not the registry's.
PRICES = {"gpt-image-2": {"text_in": 5, "image_in": 8, "text_out": 10, "image_out": 30},
          "gemini-3.1-flash-image": {"text_in": Decimal("0.5"), "image_in": Decimal("0.5"), "text_out": 3,
                                     "image_out": 60}}
GEMINI = "gemini-3.1-flash-image"


@pytest.fixture
def keys(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.gemini_base)
    return fake


def billed(req) -> Decimal:
    """What the provider's answer says this request cost, from its own usage block."""
    body, p = req.response_json, PRICES[req.model]
    if req.provider == "openai":
        u = body["usage"]
        d = u["input_tokens_details"]
        out = u.get("output_tokens_details") or {}
        usd = (d["text_tokens"] * p["text_in"] + d["image_tokens"] * p["image_in"]
               + out.get("text_tokens", 0) * p["text_out"] + out.get("image_tokens", u["output_tokens"]) * p["image_out"])
    else:
        u = body["usageMetadata"]
        ins = {d["modality"]: d["tokenCount"] for d in u.get("promptTokensDetails", [])}
        outs = {d["modality"]: d["tokenCount"] for d in u.get("candidatesTokensDetails", [])}
        usd = (ins.get("TEXT", 0) * p["text_in"] + ins.get("IMAGE", 0) * p["image_in"]
               + (outs.get("TEXT", 0) + u.get("thoughtsTokenCount", 0)) * p["text_out"]
               + outs.get("IMAGE", 0) * p["image_out"])
    return Decimal(usd) / 1_000_000


def centre_of(grid, sweep, cell, cell_size=64):
    """The grid pixel at the centre of ``cell``'s thumbnail, found from the grid's own layout."""
    cols = list(dict.fromkeys(sweepgrid.column_key(c) for c in sweep.cells))
    rows = list(dict.fromkeys(sweepgrid.row_key(c) for c in sweep.cells))
    header = 18 * (1 + max(len(v) for _, v in cols)) + sweepgrid.PAD
    x = 200 + cols.index(sweepgrid.column_key(cell)) * (cell_size + sweepgrid.PAD) + cell_size // 2
    y = header + rows.index(sweepgrid.row_key(cell)) * (cell_size + sweepgrid.CAPTION + sweepgrid.PAD) + cell_size // 2
    return grid.getpixel((x, y))


def test_grid_costs_equal_what_each_provider_billed_and_a_failed_cell_stays(keys):
    fake = keys
    sweep = pp.Sweep(["a red fox", "a grey heron"], ["gpt-image-2", GEMINI], repeats=2)
    assert len(sweep.cells) == 8
    fake.fault("openai", "quota")  # not retryable: exactly one OpenAI cell fails
    sweep.run(concurrency=4, progress=False)

    failed = [c for c in sweep.cells if c.error is not None]
    assert len(failed) == 1 and failed[0].model == "gpt-image-2"
    assert isinstance(failed[0].error, pp.QuotaExceeded) and failed[0].result is None
    ok = [c for c in sweep.cells if c.status == "ok"]
    assert len(ok) == 7

    answered = [r for r in fake.requests if r.status == 200]
    assert len(answered) == 7
    assert sum(c.cost for c in ok) == sum(billed(r) for r in answered)
    # Cell by cell: each cell's cost is what its own request's answer billed.
    request_id = {id(r): r._request_id if r.provider == "openai" else r.response_json["responseId"]
                  for r in answered}
    cost_of = {c.result.request_id: c.cost for c in ok}
    assert {request_id[id(r)]: billed(r) for r in answered} == cost_of
    assert pp.ledger().total() == sweep.spent == fake.bill_total()  # and the fake's own bill record
    assert {b.request_id: b.cost for b in fake.billed} == {request_id[id(r)]: billed(r) for r in answered}

    grid = sweep.grid(cell_size=64)
    assert grid.size == (200 + 2 * 72 + 8, 18 + 8 + 4 * (64 + 22 + 8) + 8)
    for cell in sweep.cells:
        expected = colour_for(cell.prompt) if cell.status == "ok" else sweepgrid.EMPTY
        assert centre_of(grid, sweep, cell) == expected


def test_a_parameter_one_model_does_not_take_is_an_error_naming_it_before_anything_runs(keys):
    with pytest.raises(pp.InvalidRequest, match=GEMINI) as exc:
        pp.Sweep(["a fox"], ["gpt-image-2", GEMINI], vary={"quality": ["low", "high"]})
    assert exc.value.param == "quality"
    assert keys.requests == []


def test_vary_makes_one_column_per_value_and_estimate_is_the_sum_of_worst_cases(keys):
    sweep = pp.Sweep(["a fox", "a heron"], ["gpt-image-2"], vary={"quality": ["low", "high"]}, size="1024x1024")
    assert [(c.prompt, c.params["quality"]) for c in sweep.cells] == [
        ("a fox", "low"), ("a heron", "low"), ("a fox", "high"), ("a heron", "high")]
    assert all(c.params["size"] == "1024x1024" for c in sweep.cells)
    est = sweep.estimate()
    client = pp.Client("openai")
    assert est.cells == 4
    assert est.worst_case == sum(client.estimate(c.prompt, **c.params) for c in sweep.cells)
    assert est.by_model == {"gpt-image-2": est.worst_case}
    assert keys.requests == []
    sweep.run(progress=False)
    sent = sorted((r.json["prompt"], r.json["quality"]) for r in keys.requests)
    assert sent == sorted((c.prompt, c.params["quality"]) for c in sweep.cells)
    assert {c.vary["quality"] for c in sweep.cells} == {"low", "high"}
    assert [r["quality"] for r in sweep.rows()] == ["low", "low", "high", "high"]


def test_a_cell_the_budget_cannot_cover_is_skipped_and_never_sent(keys):
    sweep = pp.Sweep([f"fox {i}" for i in range(6)], [GEMINI])
    one = sweep.estimate().worst_case / 6
    budget = one * 2 + one / 2  # room for two worst cases, not three
    sweep.run(concurrency=1, budget=budget, progress=False)
    ran = [c for c in sweep.cells if c.status == "ok"]
    skipped = [c for c in sweep.cells if c.status == "skipped"]
    # Each booked cell frees its unused reservation, so more than two may fit; never more than billed.
    assert len(ran) >= 2 and len(ran) + len(skipped) == 6 and skipped
    assert all(isinstance(c.error, pp.BudgetExceeded) and c.cost is None for c in skipped)
    assert len(keys.by_provider("gemini")) == len(ran)
    assert sweep.spent <= budget
    assert pp.ledger().total(budget=sweep.budget_id) == sweep.spent
    assert "skipped" in [r["status"] for r in sweep.rows()]
    sweep.run(concurrency=1, budget=1, progress=False)  # again, with room: only the skipped cells run
    assert all(c.status == "ok" for c in sweep.cells)
    assert len(keys.by_provider("gemini")) == 6 and pp.ledger().total() == sweep.spent


def test_a_sweeps_budget_spans_all_its_runs(keys):
    sweep = pp.Sweep([f"fox {i}" for i in range(8)], [GEMINI])
    one = sweep.estimate().worst_case / 8
    budget = (one * 3).quantize(Decimal("0.000001"))  # three worst cases: more fit as each books low
    for _ in range(3):  # the repro: three runs at $0.50 spent $1.27
        sweep.run(concurrency=1, budget=budget, progress=False)
    assert any(c.status == "skipped" for c in sweep.cells)
    assert pp.ledger().spent(budget=sweep.budget_id) == sweep.spent <= budget
    assert keys.bill_total() == sweep.spent
    sweep.run(concurrency=1, progress=False)  # no budget given: the sweep's cap still holds
    assert keys.bill_total() == sweep.spent <= budget
    with pytest.raises(pp.InvalidRequest, match="Write the number alone: 1"):
        sweep.run(budget="$1")  # money as everywhere else
    sweep.run(concurrency=1, budget=10, progress=False)  # a larger cap for the whole sweep fills it in
    assert all(c.status == "ok" for c in sweep.cells) and keys.bill_total() == sweep.spent


def test_a_cell_that_refuses_is_kept_with_what_it_cost(keys):
    keys.fault("gemini", "blocked")
    sweep = pp.Sweep(["a fox"], [GEMINI], repeats=2).run(concurrency=1, progress=False)
    refused, ok = sweep.cells
    assert refused.status == "refused" and isinstance(refused.error, pp.Refused)
    assert refused.cost == billed(keys.requests[0]) > 0
    assert ok.status == "ok"
    assert sweepgrid.caption(refused)[0].startswith("refused, $")


def test_a_cell_whose_answer_was_lost_says_its_cost_is_unknown(keys):
    keys.fault("gemini", "drop_after_read")
    sweep = pp.Sweep(["a fox", "a heron"], GEMINI).run(concurrency=1, progress=False)
    lost = sweep.cells[0]
    assert lost.error.maybe_billed and lost.cost is None
    assert sweepgrid.caption(lost)[0].endswith("cost unknown")
    assert pp.ledger().spent() > sweep.spent  # the lost call still counts at its reservation


def test_display_is_the_grid_and_rows_are_plain(keys):
    sweep = pp.Sweep("a fox", GEMINI)
    bundle = sweep._repr_mimebundle_()
    assert Image.open(io.BytesIO(bundle["image/png"])).size == sweep.grid().size
    assert sweep.rows()[0]["status"] == "pending" and "not run" == sweepgrid.caption(sweep.cells[0])[0]
    sweep.run(progress=False)
    row = sweep.rows()[0]
    assert row["status"] == "ok" and row["cost"] == sweep.cells[0].cost and row["image"].endswith(".png")
    assert "1 run" in repr(sweep)


def test_text_progress_bar_in_a_terminal(keys, capsys):
    pp.Sweep(["a", "b", "c"], GEMINI).run(concurrency=2)
    err = capsys.readouterr().err
    assert "3/3" in err and err.endswith("\n")


def test_to_pandas_says_how_to_get_pandas(keys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        pp.Sweep("a fox", GEMINI).to_pandas()


def test_bad_arguments_are_clear(keys):
    with pytest.raises(pp.InvalidRequest, match="repeats"):
        pp.Sweep("a fox", GEMINI, repeats=0)
    with pytest.raises(pp.InvalidRequest, match="prompt"):
        pp.Sweep(["  "], GEMINI)
    with pytest.raises(pp.InvalidRequest, match="concurrency"):
        pp.Sweep("a fox", GEMINI).run(concurrency=0)
    with pytest.raises(pp.InvalidRequest, match="budget"):
        pp.Sweep("a fox", GEMINI).run(budget=-1)
    with pytest.raises(pp.InvalidRequest, match="given twice"):
        pp.Sweep("a fox", [GEMINI, pp.Client("gemini", model=GEMINI)])
    with pytest.raises(pp.InvalidRequest, match="either to the Clients or to run"):
        pp.Sweep("a fox", pp.Client("gemini", budget=1)).run(budget=1)


def test_in_a_notebook_the_progress_is_a_widget_bar(keys, monkeypatch):
    import IPython.display

    from promptpaint import progress

    shown = []
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    keys.fault("gemini", "permission")
    pp.Sweep(["a", "b", "c"], GEMINI).run(concurrency=1)
    bar, caption = shown[0].children
    assert (bar.value, bar.max, bar.bar_style) == (3, 3, "warning")
    assert caption.value.startswith("3/3") and "1 not run or failed" in caption.value
