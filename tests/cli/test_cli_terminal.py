"""What the CLI prints is text, never terminal commands: a user name, prompt, model id or error
text with control characters (erase a line, move the cursor, set the window title) is escaped."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

import promptpaint as pp
from promptpaint.cli import main
from promptpaint.cli.safe import shown
from promptpaint.ledger import Attempt

ERASE = "\r\x1b[2K\x1b[1A\x1b[2K"          # return, erase this line, up one, erase that one too
TITLE = "\x1b]0;pwned\x07"                 # an OSC window title
RLO = "\u202e"                             # right-to-left override


def hostile_row(led, user, prompt, model="gemini-3.1-flash-image", cost=D("0.05")):
    a = Attempt("gemini", model, "generate", prompt, {}, None)
    a.user = user
    row = led.reserve(a, D("0.16"), [])
    led.settle(row, status="ok", cost=cost)
    return row


def no_controls(text: str) -> None:
    for ch in text:
        assert ch == "\n" or (ord(ch) >= 0x20 and not 0x7f <= ord(ch) <= 0x9f and ch != RLO), repr(ch)


def test_shown_escapes_every_control_and_keeps_the_rest():
    assert shown(f"bob{ERASE}mallory") == "bob\\r\\x1b[2K\\x1b[1A\\x1b[2Kmallory"
    assert shown(TITLE) == "\\x1b]0;pwned\\x07"
    assert shown(f"a{RLO}b\x9bc\x7f") == "a\\u202eb\\x9bc\\x7f"
    assert shown("café 🦊 ok") == "café 🦊 ok" and shown(None) == "-"
    assert shown("line one\nline\x1b two", lines=True) == "line one\nline\\x1b two"


def test_cost_last_and_the_teachers_report_escape_names_and_prompts(monkeypatch, capsys):
    monkeypatch.setenv("PROMPTPAINT_LEDGER", str(pp.config.home() / "class.sqlite3"))
    led = pp.ledger()
    hostile_row(led, f"eve{ERASE}", f"a fox{TITLE}{ERASE}")
    hostile_row(led, f"mal{RLO}lory", "a heron", model=f"gemini{TITLE}")
    over = led.reserve(Attempt("gemini", "m\x1b[31m", "generate", f"p{ERASE}", {}, None, user=f"x{ERASE}"),
                       D("0.1"), [])
    led.settle(over, status="ok", cost=D("50"))
    for argv in (["cost", "--last", "5"], ["cost", "--by", "user"], ["cost", "--by", "model"],
                 ["cost", "--by", "user", "--day", led.entries(1)[0]["day"]]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        no_controls(out)
        assert "\\x1b[2K" in out or argv[-1] == "model" or "--day" in argv
    assert main(["cost", "--last", "5"]) == 0
    out = capsys.readouterr().out
    assert "eve\\r\\x1b[2K" in out and "a fox\\x1b]0;pwned\\x07" in out and "mal\\u202elory" in out


def test_error_texts_and_model_ids_are_escaped(monkeypatch, capsys, isolated_home):
    assert main(["budget", "set", f"user:eve{TITLE}", "1"]) == 0  # a scope has no spaces (nor \\r)
    no_controls(capsys.readouterr().out)
    with pytest.raises(SystemExit):  # argparse's own message quotes the value with repr()
        main(["cost", "--by", f"user{TITLE}"])
    no_controls(capsys.readouterr().err)
    assert main(["ledger", "reconcile", "999", "--cost", f"1{ERASE}"]) == 2
    err = capsys.readouterr().err
    no_controls(err)
    assert "\\x1b[2K" in err
    # A models file is the user's own text: a hostile id is listed escaped, or refused with an
    # escaped message, never printed raw.
    evil = f"nano{TITLE}{ERASE}"
    (isolated_home / "models.json").write_text(json.dumps({"models": {evil: {
        "provider": "gemini", "label": "x", "params": "gemini", "capabilities": {"edit": True},
        "prices": [{"from": "2026-11-20", "input_text": 1, "input_image": 1, "output_text": 1, "output_image": 1,
                    "source": "test"}]}}}), encoding="utf-8")
    code = main(["models"])
    out, err = capsys.readouterr()
    no_controls(out + err)
    assert "nano\\x1b]0;pwned\\x07" in out + err or code != 0
