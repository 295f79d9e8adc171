"""gpt-image-2.6 on the fake: complexity's planning tokens, GIF and SVG output, each booked exactly
at the fake's bill and never above what was reserved."""

from decimal import Decimal

import pytest

import promptpaint as pp
from fakes.openai import OPENAI_PLANNING_TOKENS

M = 1_000_000


def booked(fake):
    row = pp.ledger().entries(1)[0]
    return row, fake.billed[-1]


@pytest.mark.parametrize("complexity", [None, "low", "medium", "high"])
def test_complexity_is_billed_as_planning_tokens_and_booked_exactly(complexity, fake, openai_client, day):
    day("2026-12-03")
    c = openai_client(model="gpt-image-2.6-sunburst", budget=2)
    r = c.generate("a fox", complexity=complexity, quality="low", size="1024x1024", n=2)
    planning = OPENAI_PLANNING_TOKENS[complexity or "high"] * 2  # unset: the documented default, high
    row, bill = booked(fake)
    assert bill.usage["output_tokens_details"] == {"image_tokens": 2 * 200, "text_tokens": planning}
    assert r.usage.output_text_tokens == planning
    assert r.cost == row["cost"] == bill.cost <= row["reserved"]
    text_in = bill.usage["input_tokens"]
    assert bill.cost == (Decimal(text_in) * 5 + Decimal(planning) * 10 + Decimal(400) * 30) / M


@pytest.mark.parametrize("complexity", [None, "medium"])  # unset is the documented default, high
def test_complexity_reaches_the_provider_and_its_worst_bill_stays_under_the_reservation(
        fake, openai_client, day, complexity):
    day("2026-12-03")
    fake.worst_case = True
    fake.planning_tokens = {"high": 8192}  # the registry's ceiling, billed in full
    c = openai_client(model="gpt-image-2.6-flare", budget=2)
    asked = {"complexity": complexity} if complexity else {}
    r = c.generate("a fox", quality="high", size="1536x1024", **asked)
    assert fake.last("openai").json.get("complexity") == complexity
    row, bill = booked(fake)
    assert r.cost == bill.cost == row["cost"] <= row["reserved"]


def test_models_before_2_6_are_refused_complexity_by_the_fake_too(fake):
    import requests
    from fakes.openai import OPENAI_KEY

    resp = requests.post(f"{fake.openai_base}/images/generations", headers={"Authorization": f"Bearer {OPENAI_KEY}"},
                         json={"model": "gpt-image-2", "prompt": "a fox", "complexity": "low"}, timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "complexity"


# ----------------------------------------------------------------------------------------- GIF
def frames_of(path):
    from PIL import Image

    with Image.open(path) as im:
        return im.n_frames, im.info.get("duration"), im.info.get("loop")


def test_a_gif_is_asked_for_stored_animated_and_booked_at_the_bill(fake, openai_client, day):
    day("2026-12-03")
    c = openai_client(model="gpt-image-2.6-sunburst", budget=2)
    r = c.generate("a fox", output_format="gif", frame_count=4, frame_duration_ms=120, quality="low",
                   complexity="low")
    sent = fake.last("openai").json
    assert (sent["output_format"], sent["frame_count"], sent["frame_duration_ms"]) == ("gif", 4, 120)
    assert "stream" not in sent  # GIF has no previews
    assert r.paths[0].suffix == ".gif" and frames_of(r.paths[0]) == (4, 120, 0)
    row, bill = booked(fake)
    assert bill.usage["output_tokens_details"]["image_tokens"] == 4 * 200  # each frame an image
    assert r.cost == row["cost"] == bill.cost <= row["reserved"]
    # the reservation holds four frames of the dearest image, plus the planning ceiling
    assert row["reserved"] >= Decimal(4 * 200 + 8192) * 30 / M


def test_a_gif_without_frame_count_reserves_openai_default_of_nine(fake, openai_client, day):
    day("2026-12-03")
    c = openai_client(model="gpt-image-2.6-flare", budget=2)
    r = c.generate("a fox", output_format="gif", quality="low", size="1024x1024")
    row, bill = booked(fake)
    assert frames_of(r.paths[0])[0] == 9 and bill.usage["output_tokens_details"]["image_tokens"] == 9 * 200
    assert r.cost == bill.cost <= row["reserved"]
    assert c.estimate("a fox", output_format="gif", quality="low", size="1024x1024") >= bill.cost


@pytest.mark.parametrize("params, param", [
    ({"output_format": "gif", "frame_count": 17}, "frame_count"),
    ({"output_format": "gif", "frame_count": 1}, "frame_count"),
    ({"frame_count": 4}, "frame_count"),
    ({"output_format": "png", "frame_duration_ms": 100}, "frame_duration_ms"),
    ({"output_format": "gif", "output_compression": 50}, "output_compression"),
    ({"output_format": "svg", "n": 2}, "n"),
    ({"svg_model": "gpt-5.1"}, "svg_model"),
])
def test_gif_and_svg_settings_are_checked_before_sending(params, param, fake, openai_client):
    c = openai_client(model="gpt-image-2.6-sunburst")
    with pytest.raises(pp.InvalidRequest) as info:
        c.generate("a fox", **params)
    assert info.value.param == param
    assert fake.requests == []


def test_gif_is_refused_for_models_before_2_6(openai_client, fake):
    with pytest.raises(pp.InvalidRequest, match="output_format='gif' is not accepted by gpt-image-2"):
        openai_client(model="gpt-image-2").generate("a fox", output_format="gif")


def test_a_saved_gif_keeps_its_frames_and_its_story(fake, openai_client, day, tmp_path):
    from PIL import Image, ImageChops

    day("2026-12-03")
    r = openai_client(model="gpt-image-2.6-sunburst").generate("a fox", output_format="gif", frame_count=3)
    out = r.save(tmp_path / "fox.gif")
    assert frames_of(out) == frames_of(r.paths[0])
    with Image.open(out) as a, Image.open(r.paths[0]) as b:
        for k in range(3):
            a.seek(k), b.seek(k)
            assert ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None
    story = pp.provenance(out)
    assert story["prompt"] == "a fox" and story["model"] == "gpt-image-2.6-sunburst"
    assert story["parameters"]["frame_count"] == 3
    with pytest.raises(pp.InvalidRequest, match="save this GIF as .gif"):
        r.save(tmp_path / "fox.png")


def test_a_gif_result_and_the_studio_show_it_animated(fake, openai_client, day):
    import base64

    from promptpaint.display import result_bundle

    day("2026-12-03")
    r = openai_client(model="gpt-image-2.6-sunburst").generate("a fox", output_format="gif", frame_count=2)
    bundle = result_bundle(r)
    data = r.paths[0].read_bytes()
    assert f'src="data:image/gif;base64,{base64.b64encode(data).decode()}"' in bundle["text/html"]
    assert "image/gif" not in bundle and "image/png" not in bundle


# ----------------------------------------------------------------------------------------- SVG
def test_an_svg_is_priced_with_its_authoring_usage_and_reserved_only_with_a_ceiling(fake, openai_client, day):
    day("2026-12-03")
    with pytest.raises(pp.BudgetExceeded, match="svg"):
        openai_client(model="gpt-image-2.6-sunburst", budget=2).generate("a fox", output_format="svg")
    assert fake.requests == []
    c = openai_client(model="gpt-image-2.6-sunburst", budget=2, ceiling=0.5)
    r = c.generate("a fox", output_format="svg", svg_model="gpt-5.1-mini", svg_effort="low", quality="low",
                   complexity="low")
    sent = fake.last("openai").json
    assert sent["svg"] == {"model": "gpt-5.1-mini", "reasoning": {"effort": "low"}}
    row, bill = booked(fake)
    svg = bill.usage["svg_usage"]
    assert svg["model"] == "gpt-5.1-mini" and svg["output_tokens"] == 1600
    image_part = (Decimal(bill.usage["input_tokens"]) * 5 + Decimal(200) * 30 + Decimal(512) * 10) / M
    authoring = (Decimal(svg["input_tokens"]) * Decimal("0.25") + Decimal(svg["output_tokens"]) * 2) / M
    assert r.cost == row["cost"] == bill.cost == image_part + authoring <= row["reserved"] == Decimal("0.5")
    assert r.paths[0].suffix == ".svg" and r.paths[0].read_bytes().startswith(b"<svg")


def test_an_svg_edit_sends_the_authoring_model_as_form_fields(fake, openai_client, day):
    from PIL import Image

    day("2026-12-03")
    c = openai_client(model="gpt-image-2.6-flare")
    r = c.edit("as a line drawing", image=Image.new("RGB", (64, 64), "red"), output_format="svg",
               svg_model="gpt-5.1")
    form = fake.last("openai").form
    assert form["output_format"] == ["svg"] and form["svg[model]"] == ["gpt-5.1"]
    assert r.cost == fake.bill_total()


def test_a_saved_svg_carries_its_story_in_a_metadata_element(fake, openai_client, day, tmp_path):
    day("2026-12-03")
    r = openai_client(model="gpt-image-2.6-sunburst").generate('a fox & a "hen" </metadata>',
                                                                output_format="svg")
    out = r.save(tmp_path / "fox.svg")
    text = out.read_text()
    assert '<metadata id="promptpaint-story">' in text and text.count("</metadata>") == 1
    assert pp.provenance(out)["prompt"] == 'a fox & a "hen" </metadata>'
    with pytest.raises(pp.InvalidRequest, match="SVG drawing"):
        r.image  # no pixels to give


def test_an_svg_is_shown_as_an_img_never_as_markup(fake, openai_client, day):
    from promptpaint.display import result_bundle

    day("2026-12-03")
    fake.svg_document = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    r = openai_client(model="gpt-image-2.6-sunburst").generate("a fox", output_format="svg")
    bundle = result_bundle(r)
    assert "image/svg+xml" not in bundle
    assert "<script" not in bundle["text/html"] and 'src="data:image/svg+xml;base64,' in bundle["text/html"]


def test_an_svg_cannot_be_an_input_image(openai_client):
    with pytest.raises(pp.InvalidRequest, match="export it as PNG"):
        openai_client(model="gpt-image-2.6-sunburst").edit("x", image=b'<svg xmlns="http://www.w3.org/2000/svg"/>')


@pytest.mark.parametrize("cut", [7, 20, 40])
def test_a_damaged_gif_gives_a_notice_never_an_exception(cut, fake, openai_client, day, tmp_path):
    day("2026-12-03")
    r = openai_client(model="gpt-image-2.6-sunburst").generate("a fox", output_format="gif", frame_count=2)
    data = r.save(tmp_path / "fox.gif").read_bytes()
    bad = tmp_path / "bad.gif"
    bad.write_bytes(data[:cut])
    from promptpaint.imagemeta import read_embedded

    with pytest.warns(pp.ProvenanceNotice):
        assert read_embedded(bad.read_bytes()) is None


def test_a_published_svg_bound_in_a_models_file_lets_a_budget_reserve_it(fake, openai_client, day, tmp_path,
                                                                          monkeypatch):
    import json

    from promptpaint import registry

    day("2026-12-03")
    wc = dict(registry.get("gpt-image-2.6-sunburst").worst_case)
    wc["svg_authoring_tokens"] = {"model": "gpt-5.1", "input": 40000, "output": 16000}
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"worst_cases": {"gpt-image-2.6": wc}}))
    monkeypatch.setenv("PROMPTPAINT_MODELS", str(path))
    c = openai_client(model="gpt-image-2.6-sunburst", budget=2)
    r = c.generate("a fox", output_format="svg", svg_effort="high", quality="low")
    row, bill = booked(fake)
    assert r.cost == bill.cost == row["cost"] <= row["reserved"]
    authoring = (Decimal(40000) * Decimal("1.25") + Decimal(16000) * 10) / M
    image_only = c.estimate("a fox", quality="low")  # the same call as a PNG
    # the authoring bound is in the reservation, at the authoring model's own prices
    assert abs(row["reserved"] - (image_only + authoring)) <= Decimal("1e-9")


def test_the_cli_writes_an_animated_gif_and_an_svg(fake, monkeypatch, day, tmp_path):
    from promptpaint import cli
    from fakes.openai import OPENAI_KEY

    day("2026-12-03")
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    gif = tmp_path / "fox.gif"
    assert cli.main(["generate", "a fox", "--model", "gpt-image-2.6-sunburst", "--format", "gif",
                     "--frame-count", "3", "--frame-ms", "150", "-o", str(gif)]) == 0
    assert frames_of(gif) == (3, 150, 0)
    svg = tmp_path / "fox.svg"
    assert cli.main(["generate", "a fox", "--model", "gpt-image-2.6-sunburst", "--format", "svg",
                     "-o", str(svg)]) == 0
    assert svg.read_bytes().startswith(b"<svg")
    before = len(fake.requests)
    assert cli.main(["generate", "a fox", "--model", "gpt-image-2.6-sunburst", "--format", "svg",
                     "-o", str(tmp_path / "fox.png")]) == 2
    assert cli.main(["generate", "a fox", "--model", "gpt-image-2.6-sunburst", "-o", str(tmp_path / "f.svg")]) == 2
    assert len(fake.requests) == before  # refused before any paid call
