"""The command line: the main job from a shell, with exit codes a script can branch on."""

import os
import subprocess
import sys
from decimal import Decimal

import numpy as np
from PIL import Image

from fakeserver import OPENAI_KEY


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
    assert "$0.006060" in r.stderr and fake.bill_total() == Decimal("0.00606")
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
