"""The command line: the main job from a shell, with exit codes a script can branch on."""

import os
import subprocess
import sys
from decimal import Decimal

import numpy as np
from PIL import Image

from fakes import GEMINI_KEY, OPENAI_KEY


def cli(*args, env=None):
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "promptpaint", *args], capture_output=True, text=True,
                          env=full, timeout=60)


def test_generate_offline_writes_the_image(tmp_path):
    out = tmp_path / "fox.png"
    r = cli("generate", "a red fox in snow", "-o", str(out), "--provider", "offline", "--seed", "3",
            "--size", "768x512")
    assert r.returncode == 0, r.stderr
    assert Image.open(out).size == (768, 512)
    assert "offline stand-in" in r.stderr and "$0" in r.stderr


def test_edit_with_a_mask_then_cost(tmp_path):
    src = tmp_path / "in.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(src)
    mask = np.zeros((64, 64), dtype=np.uint8)
    mask[:32] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    r = cli("edit", "make it night", "--image", str(src), "--mask", str(tmp_path / "mask.png"),
            "-o", str(tmp_path / "out.png"), "--provider", "offline")
    assert r.returncode == 0, r.stderr
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    assert (out[40:] == [1, 2, 3]).all() and not (out[:32] == [1, 2, 3]).all()
    cost = cli("cost", "--last", "5")
    assert cost.returncode == 0 and "all time:" in cost.stdout and "make it night" in cost.stdout


def test_openai_through_the_cli_prices_the_call(fake, tmp_path):
    r = cli("generate", "a red fox", "-o", str(tmp_path / "f.png"), "--provider", "openai", "--quality", "low",
            env={"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": fake.openai_base})
    assert r.returncode == 0, r.stderr
    # 12 text at $5 + 200 (gpt-image-2 low, 1024x1024) at $30 per 1M
    assert "1 image(s), $0.00606\n" in r.stderr and fake.bill_total() == Decimal("0.00606")
    assert OPENAI_KEY not in r.stderr + r.stdout
    assert fake.last("openai").json["quality"] == "low"


def test_exit_codes(fake, tmp_path):
    assert cli("generate", "x", "--provider", "openai", "--model", "gpt-image-1").returncode == 8
    assert cli("generate", "x", "--provider", "offline", "--n", "9").returncode == 2
    assert cli("generate", "x", "--provider", "openai").returncode == 3  # no key
    fake.fault("openai", "moderation")
    env = {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": fake.openai_base}
    refused = cli("generate", "x", "--provider", "openai", env=env)
    assert refused.returncode == 4 and "Refused" in refused.stderr
    over = cli("generate", "x", "--provider", "openai", "--budget", "0.001", env=env)
    assert over.returncode == 6 and "budget" in over.stderr


def test_models_lists_prices_and_lifecycle():
    r = cli("models", "--all")
    assert r.returncode == 0
    lines = {line.split()[0]: line for line in r.stdout.splitlines()}
    assert "retired 2026-10-23 -> gpt-image-2.5-sunburst" in lines["gpt-image-1"]
    assert "$60" in lines["gemini-3.1-flash-image"]
    assert "gpt-image-1" not in cli("models").stdout.split()


def test_version_comes_from_the_package_metadata():
    from importlib import metadata

    r = cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"promptpaint {metadata.version('promptpaint')}"


def test_every_option_has_help_text():
    from promptpaint.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    for name, sub in [("promptpaint", parser), *subparsers.choices.items()]:
        for action in sub._actions:
            if action.dest in ("help", "command"):
                continue
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help"
    assert all(a.help for a in subparsers._choices_actions)


def test_the_model_names_its_provider(fake, tmp_path):
    env = {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": fake.openai_base, "GEMINI_API_KEY": GEMINI_KEY,
           "GOOGLE_GEMINI_BASE_URL": fake.gemini_base}
    r = cli("generate", "a fox", "--model", "gpt-image-2", "--quality", "low", "-o", str(tmp_path / "f.png"),
            env=env)
    assert r.returncode == 0, r.stderr
    assert fake.by_provider("openai") and not fake.by_provider("gemini")
    unknown = cli("generate", "a fox", "--model", "no-such-model", env=env)
    assert unknown.returncode == 2 and "--provider openai --model no-such-model" in unknown.stderr
    wrong = cli("generate", "a fox", "--provider", "openai", "--model", "gemini-3.1-flash-image", env=env)
    assert wrong.returncode == 2 and "is a gemini model" in wrong.stderr
    assert "--provider gemini --model gemini-3.1-flash-image" in wrong.stderr
    assert "an openai model" in cli("generate", "x", "--provider", "gemini", "--model", "gpt-image-2",
                                    env=env).stderr


def test_hints_name_flags_and_variables_not_python_arguments(tmp_path):
    cases = [
        cli("generate", "x", "--provider", "openai"),                                   # no key
        cli("generate", "x", "--provider", "openai", env={"OPENAI_API_KEY": OPENAI_KEY,
                                                            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}),
        cli("generate", "x", "--provider", "gemini", "--size", "1024x1024", env={"GEMINI_API_KEY": GEMINI_KEY}),
        cli("generate", "x", "--provider", "openai", env={"OPENAI_API_KEY": OPENAI_KEY,
                                                            "OPENAI_BASE_URL": "api.openai.com/v1"}),
    ]
    for r in cases:
        assert r.returncode != 0 and r.stderr
        assert "pp.Client" not in r.stderr and "api_key=" not in r.stderr and "base_url=" not in r.stderr, r.stderr
    assert "OPENAI_API_KEY" in cases[0].stderr and "--provider offline" in cases[0].stderr
    assert "--provider offline" in cases[1].stderr
    assert "--aspect" in cases[2].stderr and "aspect_ratio=" not in cases[2].stderr
    assert "OPENAI_BASE_URL" in cases[3].stderr


def test_the_output_suffix_decides_the_format(tmp_path):
    for name, fmt in (("out.jpg", "JPEG"), ("out.jpeg", "JPEG"), ("out.webp", "WEBP"), ("out.png", "PNG"),
                      ("out.gif", "GIF")):
        r = cli("generate", "a fox", "-o", str(tmp_path / name), "--provider", "offline", "--seed", "1")
        assert r.returncode == 0, r.stderr
        with Image.open(tmp_path / name) as im:
            assert im.format == fmt and im.size[0] > 0
    bad = cli("generate", "a fox", "-o", str(tmp_path / "out.tiff"), "--provider", "offline")
    assert bad.returncode == 2 and ".png" in bad.stderr and not (tmp_path / "out.tiff").exists()
    booked = [line for line in cli("cost", "--last", "50").stdout.splitlines() if line.endswith("a fox")]
    assert len(booked) == 5  # the bad suffix was refused before any call was made


def test_cost_shows_unknown_and_interrupted_calls_apart(tmp_path):
    from promptpaint.ledger import Attempt, SQLiteLedger

    home = tmp_path / "pp-home"
    led = SQLiteLedger(home / "ledger.sqlite3")
    a = Attempt("openai", "gpt-image-2", "generate", "a paid fox", {}, None)
    led.settle(led.reserve(a, Decimal("0.2"), []), status="ok", cost=Decimal("0.0531"))
    for _ in range(2):
        led.settle(led.reserve(a, Decimal("0.21"), []), status="error", cost=None, error="read timeout")
    dead = Attempt("gemini", "gemini-3-pro-image", "generate", "a lost fox", {}, None, session="dead")
    row = led.reserve(dead, Decimal("0.514"), [])
    led._conn().execute("UPDATE calls SET host='elsewhere', ts='2026-01-01T00:00:00+00:00' WHERE id=?", (row,))
    out = cli("cost", "--last", "5", env={"PROMPTPAINT_HOME": str(home)})
    assert out.returncode == 0, out.stderr
    assert "$0.0531 known; 2 calls of unknown cost, up to $0.42 reserved" in out.stdout
    assert "1 call interrupted, up to $0.514 reserved" in out.stdout
    assert "a lost fox" in out.stdout and "interrupted, up to $0.514" in out.stdout
    assert "unknown, up to $0.21" in out.stdout and "Decimal" not in out.stdout


def test_one_parameter_table_drives_the_flags_the_help_and_the_rewording():
    from promptpaint import providers, registry
    from promptpaint.cli import build_parser, for_shell
    from promptpaint.cli.params import CALL_PARAMS, MODEL_PARAMS

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    generate = {flag: a for a in sub.choices["generate"]._actions for flag in a.option_strings}
    for p in CALL_PARAMS:
        assert p.flags[-1] in generate and generate[p.flags[-1]].help.startswith(p.help.split("{")[0])
    # A model parameter's help names the providers whose models take it, read from the registry.
    takes_size = {m.provider for m in registry.all_models() if "size" in m.params and not m.is_retired()}
    size_help = generate["--size"].help
    for name in providers.NAMES:
        label = providers.provider_class(name).label
        if name not in takes_size and name != "offline":
            assert f"({label})" in generate["--aspect"].help + generate["--quality"].help
            assert label not in size_help
    assert {p.ours for p in MODEL_PARAMS} >= {"size", "aspect_ratio", "quality"}
    assert for_shell("pass aspect_ratio= or image_size=, or retry_on_timeout=True") == (
        "pass --aspect or --image-size, or --retry-on-timeout")
    assert for_shell("pp.Client('gemini', model='gemini-3-pro-image') then n=2") == (
        "--provider gemini --model gemini-3-pro-image then --n=2")


def test_a_subcommand_is_one_module_registered_in_one_list(monkeypatch, capsys):
    import types

    from promptpaint import cli
    from promptpaint.cli.params import Command, P

    seen = []
    module = types.ModuleType("promptpaint.cli.hello")
    module.COMMANDS = [Command("hello", "say hello", lambda args: seen.append(args.name) or 0,
                               (P("--name", default="you", help="who to greet"),))]
    monkeypatch.setitem(sys.modules, "promptpaint.cli.hello", module)
    monkeypatch.setattr(cli, "GROUPS", (*cli.GROUPS, "hello"))
    assert cli.main(["hello", "--name", "alice"]) == 0 and seen == ["alice"]
    assert cli.main(["cost"]) == 0  # the others still there


def test_the_cli_budget_is_parsed_like_every_other_money_setting():
    r = cli("generate", "a fox", "--provider", "offline", "--budget", "$5")
    assert r.returncode == 2 and "--budget must be an amount of US dollars" in r.stderr
    assert "Write the number alone: 5." in r.stderr


def test_an_uncreatable_home_is_a_clear_error_without_a_traceback(tmp_path):
    import subprocess
    import sys

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**os.environ, "PROMPTPAINT_HOME": str(blocker / "home")}
    for argv in (["cost"], ["generate", "--provider", "offline", "a fox"], ["budget", "list"]):
        done = subprocess.run([sys.executable, "-m", "promptpaint", *argv], env=env, capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "PROMPTPAINT_HOME" in done.stderr
        assert "cannot be created" in done.stderr
    # In Python: importing is fine; the first use says the same, as promptpaint's own error.
    done = subprocess.run([sys.executable, "-c", "import promptpaint as pp\ntry:\n    pp.ledger()\n"
                           "except pp.PromptpaintError as e:\n    print(type(e).__name__, e.param)"],
                          env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "HomeFolderError PROMPTPAINT_HOME", done.stderr


def test_budget_set_refuses_a_dollar_sign_like_every_money_setting(capsys):
    from promptpaint.cli import main

    assert main(["budget", "set", "class", "$5"]) == 2
    err = capsys.readouterr().err
    assert "Write the number alone: 5" in err
    assert main(["budget", "set", "class", "5"]) == 0
    assert "$5.00" in capsys.readouterr().out
