"""A user's models.json: a teacher adds a model or a price once, in the shipped file's format."""

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from importlib import resources

import pytest

from fakes import gemini as fake_gemini, gemini_params as fake_gemini_params
import promptpaint as pp
from fakes import GEMINI_KEY
from helpers import ROOT
from promptpaint import registry, registry_file

NANO = "gemini-nano-banana-2.1"
# The README's example, as a teacher would write it (third-party figures: see providers.md).
NANO_FILE = {
    "models": {
        NANO: {
            "provider": "gemini", "label": "Nano Banana 2.1 (unconfirmed)", "params": "gemini",
            "capabilities": {"edit": True, "previews": 2, "mask": False, "max_input_images": 14},
            "prices": [{"from": "2026-11-20", "input_text": 1.50, "input_image": 1.50,
                        "output_text": 7.50, "output_image": 30.00,
                        "source": "gateway release notes, 2026-11 (not on a Google page yet)"}],
            "worst_case": NANO,
        }
    },
    "worst_cases": {
        NANO: {"output_limit": 32768, "image_tokens": {"1K": 1120, "2K": 1680, "4K": 2520},
               "input_image_tokens": 1120,
               "source": "1K: $0.0336 / $30 per 1M (gateway notes); 2K, 4K: as gemini-3.1-flash-image"}
    },
}


@pytest.fixture(autouse=True)
def no_explicit_file():
    yield
    registry.use_file(None)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_the_shipped_file_passes_the_same_checks_as_a_users():
    data = json.loads(resources.files("promptpaint").joinpath("models.json").read_text())
    registry_file.validate(data, "models.json")


def test_the_unconfirmed_model_is_not_shipped():
    with pytest.raises(pp.InvalidRequest, match="Unknown model"):
        registry.get(NANO)
    assert registry.get(NANO, "gemini").known is False


def test_a_models_file_in_the_home_folder_adds_a_model_with_its_prices(isolated_home, day):
    day("2026-12-03")
    path = write(isolated_home / "models.json", NANO_FILE)
    m = registry.get(NANO)
    assert (m.provider, m.known, m.origin) == ("gemini", True, str(path))
    p = m.price_on(pp.clock.today())
    assert (p.input_text, p.output_text, p.output_image) == (Decimal("1.5"), Decimal("7.5"), 30)
    assert f"[user file {path}]" in p.version and p.version.startswith("2026-11-20:gateway")
    assert NANO in [x.id for x in pp.models()]
    assert registry.get("gpt-image-2").origin == ""  # shipped models are left as they were


def test_promptpaint_models_names_the_env_file_over_the_home_one(isolated_home, tmp_path, monkeypatch):
    write(isolated_home / "models.json", {"models": {"not-this-one": {"provider": "gemini", "params": "gemini"}}})
    path = write(tmp_path / "class" / "teacher-models.json", NANO_FILE)
    monkeypatch.setenv("PROMPTPAINT_MODELS", str(path))
    assert registry.user_file() == path
    with pytest.raises(pp.InvalidRequest):
        registry.get("not-this-one")
    monkeypatch.setenv("PROMPTPAINT_MODELS", "")  # empty: the shipped registry alone
    assert registry.user_file() is None and registry.get("gemini-3.1-flash-image").origin == ""


def test_promptpaint_models_pointing_nowhere_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTPAINT_MODELS", str(tmp_path / "missing.json"))
    with pytest.raises(registry.RegistryFileError, match=r"PROMPTPAINT_MODELS=.*missing.json: no such file"):
        registry.get("gpt-image-2")


def test_the_cli_marks_models_from_the_users_file(tmp_path):
    path = write(tmp_path / "models.json", NANO_FILE)
    env = {**os.environ, "PROMPTPAINT_HOME": str(tmp_path / "home"), "PROMPTPAINT_MODELS": str(path)}
    r = subprocess.run([sys.executable, "-m", "promptpaint", "models"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines()}
    assert f"[your models file: {path}]" in lines[NANO] and "$30" in lines[NANO]
    assert "your models file" not in lines["gpt-image-2"]


def test_a_price_row_overrides_a_shipped_model_from_its_date_only(isolated_home, day):
    path = write(isolated_home / "models.json", {"models": {"gpt-image-2": {"prices": [
        {"from": "2026-12-01", "input_text": 4, "output_image": 25, "source": "teacher's contract rate"}]}}})
    m = registry.get("gpt-image-2")
    assert m.price_on(dt.date(2026, 12, 2)).output_image == 25
    assert m.price_on(dt.date(2026, 11, 30)).output_image == 30  # old calls keep old prices
    assert m.origin == str(path) and m.label == "GPT Image 2" and m.worst_case is not None


def test_an_edited_file_is_read_again(isolated_home):
    path = write(isolated_home / "models.json", NANO_FILE)
    assert registry.get(NANO).label == "Nano Banana 2.1 (unconfirmed)"
    changed = json.loads(json.dumps(NANO_FILE))
    changed["models"][NANO]["label"] = "Nano Banana 2.1 (confirmed by the teacher)"
    write(path, changed)
    assert registry.get(NANO).label == "Nano Banana 2.1 (confirmed by the teacher)"


def _nano(**change):
    data = json.loads(json.dumps(NANO_FILE))
    row = data["models"][NANO]
    for key, value in change.items():
        if key == "price":
            row["prices"][0].update(value)
        elif value is None:
            row.pop(key)
        else:
            row[key] = value
    return data


@pytest.mark.parametrize("data, field, what", [
    (_nano(price={"output_image": "thirty"}), f'models["{NANO}"].prices[0].output_image',
     'expected a number ≥ 0, got "thirty"'),
    (_nano(price={"input_text": -1}), f'models["{NANO}"].prices[0].input_text', "expected a number ≥ 0"),
    (_nano(price={"from": "20/11/2026"}), f'models["{NANO}"].prices[0].from', "expected a date YYYY-MM-DD"),
    (_nano(price={"to": "2026-11-01"}), f'models["{NANO}"].prices[0].to', "is not after from"),
    (_nano(price={"ouput_image": 30}), f'models["{NANO}"].prices[0]["ouput_image"]', "unknown field"),
    (_nano(price={"source": ""}), f'models["{NANO}"].prices[0].source', "expected a non-empty string"),
    (_nano(prices=[{"from": "2026-11-20", "input_text": 1, "output_image": 2, "source": "a"},
                   {"from": "2026-11-25", "input_text": 1, "output_image": 3, "source": "b"}]),
     f'models["{NANO}"].prices[1].from', "overlap row 0"),
    (_nano(provider=None), f'models["{NANO}"].provider', "missing"),
    (_nano(provider="anthropic"), f'models["{NANO}"].provider', "expected one of gemini, offline, openai"),
    (_nano(params="gemini-4"), f'models["{NANO}"].params', "expected a parameter set"),
    (_nano(worst_case="nano"), f'models["{NANO}"].worst_case', "is not in worst_cases"),
    (_nano(lifecycle={"status": "gone"}), f'models["{NANO}"].lifecycle.status', "expected one of current"),
    (_nano(lifecycle={"successor": "gemini-9"}), f'models["{NANO}"].lifecycle.successor', "is not a model"),
    (_nano(capabilities={"max_input_images": 0}), f'models["{NANO}"].capabilities.max_input_images',
     "expected a whole number ≥ 1"),
    ({**NANO_FILE, "worst_cases": {NANO: {**NANO_FILE["worst_cases"][NANO], "output_limit": -5}}},
     f'worst_cases["{NANO}"].output_limit', "expected a whole number ≥ 0"),
    ({**NANO_FILE, "defaults": {"gemini": "gpt-image-2"}}, 'defaults["gemini"]', "is not a model of provider gemini"),
    ({**NANO_FILE, "model": {}}, "model", "unknown field; expected one of version, about"),
    ("[1, 2]", "the file", "expected an object"),
])
def test_a_bad_field_is_named_with_the_file(isolated_home, data, field, what):
    path = write(isolated_home / "models.json", data)
    with pytest.raises(registry.RegistryFileError) as exc:
        registry.get("gpt-image-2")
    assert str(exc.value).startswith(f"{path}: {field}: ")
    assert what in str(exc.value)
    assert isinstance(exc.value, pp.InvalidRequest)


def test_bad_json_names_the_line(isolated_home):
    path = write(isolated_home / "models.json", '{\n  "models": {,}\n}')
    with pytest.raises(registry.RegistryFileError, match=rf"^{path}: not valid JSON at line 2, column"):
        registry.all_models()


def test_a_gateway_loads_the_teachers_file_by_path(tmp_path):
    path = write(tmp_path / "teacher.json", NANO_FILE)
    assert registry.load_file(path)["models"][NANO]["provider"] == "gemini"  # checked, not in use
    assert registry.user_file() is None
    registry.use_file(path)
    assert registry.get(NANO).origin == str(path)
    bad = write(tmp_path / "bad.json", _nano(price={"output_image": None}))
    with pytest.raises(registry.RegistryFileError, match=r"prices\[0\]\.output_image"):
        registry.use_file(bad)
    assert registry.user_file() is None  # a bad file is not left in use


# ----------------------------------------------------------------------------- a call at the user's prices
@pytest.fixture
def nano_at_the_fake(fake, monkeypatch):
    """The fake provider serving the model at the prices its third-party notes give."""
    monkeypatch.setitem(fake.gemini_models, NANO, {"ratios": fake_gemini_params.GEMINI_BASE_RATIOS,
                                                   "sizes": ("1K", "2K", "4K")})
    monkeypatch.setitem(fake_gemini.PRICES, NANO, (1.5, 1.5, 1.5, 1.5, 7.5, 30))
    monkeypatch.setitem(fake_gemini.GEMINI_IMAGE_TOKENS, NANO, {"1K": 1120, "2K": 1680, "4K": 2520})
    monkeypatch.setitem(fake_gemini.GEMINI_THOUGHTS, NANO, 700)
    return fake


def test_a_budgeted_call_is_booked_at_the_users_prices(nano_at_the_fake, isolated_home, day):
    fake = nano_at_the_fake
    day("2026-12-03")
    path = write(isolated_home / "models.json", NANO_FILE)
    c = pp.Client("gemini", model=NANO, api_key=GEMINI_KEY, base_url=fake.gemini_base, backoff=0.01,
                  budget=1)
    r = c.generate("a lighthouse at dusk", image_size="2K")
    assert r.image is not None
    row = pp.ledger().entries(1)[0]
    assert row["model"] == NANO
    assert r.cost == row["cost"] == fake.bill_total() > 0  # the provider's bill, to the nano-dollar
    assert Decimal(str(row["cost"])) <= Decimal(str(row["reserved"]))
    assert row["price_version"] == f"2026-11-20:gateway release notes, 2026-11 (not on a [user file {path}]"
    # thinking at 7.50 and the image at 30: both of the user's rates are in the bill
    u = r.usage
    expected = (Decimal(u.input_text_tokens) * Decimal("1.5") + Decimal(u.output_image_tokens) * 30
                + Decimal(u.output_text_tokens + u.thinking_tokens) * Decimal("7.5")) / 10**6
    assert r.cost == expected and u.output_image_tokens == 1680


def test_a_teacher_can_make_the_added_model_the_default(isolated_home, day):
    day("2026-12-03")
    write(isolated_home / "models.json", {**NANO_FILE, "defaults": {"gemini": NANO}})
    assert registry.default_model("gemini") == NANO
    assert pp.Client("gemini", api_key="k").model.id == NANO
    assert registry.default_model("openai") == "gpt-image-2"


def test_the_readme_example_is_the_file_these_tests_use():
    from pathlib import Path

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Adding a model the package does not ship", 1)[1]
    block = section.split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(block) == NANO_FILE  # so the README's example is what the tests book calls with
