import datetime as dt
import json
from decimal import Decimal
from importlib import resources

import pytest

from promptpaint.providers import provider_class

import promptpaint as pp
from promptpaint import registry


def test_registry_is_data_with_dated_prices_and_sources():
    data = json.loads(resources.files("promptpaint").joinpath("models.json").read_text())
    for model_id, row in data["models"].items():
        for price in row["prices"]:
            dt.date.fromisoformat(price["from"])
            assert price["source"], model_id


@pytest.mark.parametrize("old, successor", [
    ("gpt-image-1", "gpt-image-2.5-sunburst"),
    ("gemini-2.0-flash-exp-image-generation", "gemini-3.1-flash-image"),
    ("dall-e-3", "gpt-image-2"),
    ("dall-e-2", "gpt-image-2"),
    ("gemini-2.5-flash-image", "gemini-3.1-flash-image"),
])
def test_retired_model_names_its_successor(old, successor):
    provider = registry.get(old).provider
    with pytest.raises(pp.ModelRetired) as exc:
        pp.Client(provider, model=old, api_key="k")
    assert exc.value.successor == successor
    assert successor in str(exc.value)


def test_model_near_shutdown_warns(day):
    day("2026-11-20")
    with pytest.warns(pp.ShutdownWarning, match="gpt-image-2"):
        pp.Client("openai", model="gpt-image-1.5", api_key="k")


def test_lifecycle_follows_the_date():
    m = registry.get("gpt-image-1.5")
    assert m.shutdown_warning(dt.date(2026, 10, 1)) is None
    assert "in 7 days" in m.shutdown_warning(dt.date(2026, 11, 24))
    assert m.is_retired(dt.date(2026, 12, 1))


def test_unknown_model_warns_that_cost_is_unknown_never_zero():
    with pytest.warns(pp.UnknownPriceWarning):
        c = pp.Client("openai", model="gpt-image-9", api_key="k")
    assert c.estimate("a fox") is None


def test_unknown_model_with_explicit_price_still_has_no_known_bound():
    # A price says what a token costs, not how many tokens a model may bill: no worst case is on
    # file for an unknown model, so its most-it-can-cost stays unknown (ceiling= supplies one).
    c = pp.Client("openai", model="gpt-image-9", api_key="k",
                  price={"input_text": 5, "output_image": 30})
    assert c.estimate("a fox", quality="low", size="1024x1024") is None


@pytest.mark.parametrize("model, params, param", [
    ("gpt-image-2", {"size": "4096x4096"}, "size"),
    ("gpt-image-2", {"size": "1000x1000"}, "size"),
    ("gpt-image-2", {"quality": "ultra"}, "quality"),
    ("gpt-image-2", {"n": 11}, "n"),
    ("gpt-image-2", {"response_format": "url"}, "response_format"),
    ("gpt-image-2", {"aspect_ratio": "16:9"}, "aspect_ratio"),
    ("gpt-image-2", {"seed": 7}, "seed"),
    ("gpt-image-2", {"background": "transparent", "output_format": "jpeg"}, "background"),
    ("gemini-3.1-flash-image", {"aspect_ratio": "7:5"}, "aspect_ratio"),
    ("gemini-3.1-flash-image", {"image_size": "1k"}, "image_size"),
    ("gemini-3.1-flash-image", {"temperature": 3}, "temperature"),
    ("gemini-3.1-flash-image", {"size": "1024x1024"}, "size"),
    ("gemini-3-pro-image", {"aspect_ratio": "8:1"}, "aspect_ratio"),
])
def test_bad_params_are_refused_before_sending_naming_the_param(model, params, param):
    m = registry.get(model)
    with pytest.raises(pp.InvalidRequest) as exc:
        registry.validate_params(m, params)
    assert exc.value.param == param
    assert param in str(exc.value)


def test_custom_sizes_only_where_the_model_takes_them():
    registry.validate_params(registry.get("gpt-image-2"), {"size": "2048x1152"})
    with pytest.raises(pp.InvalidRequest):
        registry.validate_params(registry.get("gpt-image-1.5"), {"size": "2048x1152"})
    with pytest.raises(pp.InvalidRequest, match="ratio"):
        registry.validate_params(registry.get("gpt-image-2"), {"size": "3840x1024"})


def test_price_in_force_on_the_calls_date():
    m = registry.get("gemini-3.1-flash-image")
    p = m.price_on(dt.date(2026, 11, 24))
    assert p.output_image == Decimal("60.00")
    assert m.price_on(dt.date(2020, 1, 1)) is None


def test_models_lists_current_models_only_by_default():
    ids = {m.id for m in pp.models()}
    assert "gemini-3.1-flash-image" in ids and "gpt-image-2" in ids
    assert "gpt-image-1" not in ids
    assert "gpt-image-1" in {m.id for m in pp.models(include_retired=True)}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("name", ["temperature", "top_p"])
def test_nan_and_infinity_are_refused_before_anything_is_sent(name, value):
    m = registry.get("gemini-3.1-flash-image")
    with pytest.raises(pp.InvalidRequest, match=f"{name}=") as exc:
        registry.validate_params(m, {name: value})
    assert exc.value.param == name and not exc.value.maybe_billed and "billed" not in str(exc.value)


def test_nan_temperature_from_a_client_never_reaches_the_server(fake):
    from fakes import GEMINI_KEY

    c = pp.Client("gemini", api_key=GEMINI_KEY, base_url=fake.gemini_base)
    with pytest.raises(pp.InvalidRequest, match="temperature"):
        c.generate("a fox", temperature=float("nan"))
    assert fake.by_provider("gemini") == [] and pp.ledger().entries(5) == []


# ----------------------------------------------------------------------------- gpt-image-2.6's complexity
from promptpaint import pricing  # noqa: E402

SIX = ["gpt-image-2.6-sunburst", "gpt-image-2.6-flare"]


@pytest.mark.parametrize("model", SIX)
def test_complexity_is_a_2_6_parameter_checked_like_the_others(model):
    m = registry.get(model)
    assert registry.validate_params(m, {"complexity": "low"}) == {"complexity": "low"}
    with pytest.raises(pp.InvalidRequest, match="use one of low, medium, high") as exc:
        registry.validate_params(m, {"complexity": "extreme"})
    assert exc.value.param == "complexity"
    assert {"name": "complexity", "kind": "choice", "label": "Complexity",
            "choices": ["low", "medium", "high"], "default": None} in registry.ui_specs(m)


@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2.5-sunburst", "gemini-3.1-flash-image"])
def test_models_before_2_6_refuse_complexity_before_sending(model):
    with pytest.raises(pp.InvalidRequest, match="does not take complexity="):
        registry.validate_params(registry.get(model), {"complexity": "low"})


@pytest.mark.parametrize("complexity", [None, "low", "medium", "high"])
def test_every_complexity_is_reserved_at_the_planning_ceiling_on_top_of_the_image(complexity, day):
    day("2026-12-03")
    m = registry.get("gpt-image-2.6-sunburst")
    ceiling = m.worst_case["planning_tokens_per_image"]
    assert ceiling >= 7033 and "no figure" in m.worst_case["source"]
    params = {"quality": "high", "size": "1024x1024", "n": 2, "complexity": complexity}
    openai = provider_class("openai")
    got = pricing.estimate(m, m.price_on(pp.clock.today()), "a fox", params, provider=openai)
    prompt = len(b"a fox") + 64
    text = 2 * m.worst_case["text_output_tokens_per_image"] * 10  # text output at its ceiling, $10/1M
    assert got == (Decimal(prompt) * 5 + Decimal(2 * (7033 + ceiling)) * 30 + text) / 1_000_000
    # gpt-image-2 has no complexity: its reservation is the image alone (and its text)
    two = registry.get("gpt-image-2")
    assert pricing.estimate(two, two.price_on(pp.clock.today()), "a fox", {**params, "complexity": None},
                            provider=openai) == (Decimal(prompt) * 5 + Decimal(2 * 7033) * 30 + text) / 1_000_000


# ----------------------------------------------------------------------------- retired models' prices end
def test_a_model_shut_down_has_no_price_after_its_shutdown():
    data = registry._data()
    for model in registry.all_models():
        if model.shutdown is None:
            continue
        rows = model.prices + tuple(registry.Price.from_row(r) for r in data["batch_prices"].get(model.id, []))
        for p in rows:
            assert p.valid_to is not None and p.valid_to <= model.shutdown, model.id
        assert model.price_on(model.shutdown) is None
