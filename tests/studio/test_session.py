"""Past images and resume=True: history that survives a kernel restart (ledger + store on disk)."""

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

import promptpaint as pp
from helpers import Front


def earlier_kernel(code: str) -> None:
    """Run ``code`` in a separate Python process: a kernel that has since been restarted."""
    subprocess.run([sys.executable, "-c", "import promptpaint as pp\n" + code], check=True,
                   env={**os.environ}, capture_output=True, text=True, timeout=120)


def test_past_images_list_earlier_calls_newest_first_and_filter_by_text():
    earlier_kernel("s = pp.Studio('offline'); s.generate('a red fox in snow'); s.generate('a lighthouse at dusk')\n"
                   "from PIL import Image; s.load(Image.new('RGB', (64, 48), 'teal'), 'mine.png')")
    studio = pp.Studio("offline")
    items = studio.session.past()
    assert [i["prompt"] for i in items] == ["(uploaded mine.png)", "a lighthouse at dusk", "a red fox in snow"]
    first = items[1]
    assert first["model"] == "offline-sketch" and first["provider"] == "offline" and first["cost"] == "0"
    assert first["at"] and first["kind"] == "generate" and len(first["id"]) == 64
    assert [i["prompt"] for i in studio.session.past("FOX")] == ["a red fox in snow"]
    assert studio.session.past("fox snow giraffe") == []


def test_past_images_by_message_with_a_request_id():
    earlier_kernel("pp.Studio('offline').generate('a red fox in snow')")
    studio = pp.Studio("offline")
    front = Front(studio)
    front.msg({"kind": "past", "query": "fox", "request": 3})
    (reply, buffers), = front.sent
    assert reply["kind"] == "past" and reply["request"] == 3 and buffers == []
    assert [i["prompt"] for i in reply["items"]] == ["a red fox in snow"]
    thumb_id = reply["items"][0]["id"]
    _, (thumb,) = front.fetch(thumb_id, thumb=True)
    assert thumb[:8] == b"\x89PNG\r\n\x1a\n"


def test_hiding_a_past_image_keeps_its_ledger_row(fake, monkeypatch):
    from fakes import OPENAI_KEY
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    studio = pp.Studio("openai", model="gpt-image-2")
    front = Front(studio)
    front.run("generate", "a fox")
    front.run("generate", "an owl")
    total, rows = pp.ledger().total(), len(pp.ledger().entries())
    owl = studio.session.past()[0]
    assert owl["prompt"] == "an owl" and Decimal(owl["cost"]) > 0
    front.sent.clear()
    front.msg({"kind": "hide_past", "id": owl["id"], "request": 8})
    (reply, _), = front.sent
    assert [i["prompt"] for i in reply["items"]] == ["a fox"] and reply["request"] == 8
    assert pp.Studio("openai", model="gpt-image-2").session.past()[0]["prompt"] == "a fox"  # it stays hidden
    assert pp.ledger().total() == total and len(pp.ledger().entries()) == rows  # money is never forgotten


def test_a_past_image_opens_as_a_new_turn_ready_to_edit():
    earlier_kernel("pp.Studio('offline').generate('a red fox in snow')")
    studio = pp.Studio("offline")
    front = Front(studio)
    item, = studio.session.past()
    front.msg({"kind": "open_past", "id": item["id"]})
    assert studio.image_id == item["id"] and studio.turns[-1]["kind"] == "open"
    assert studio.turns[-1]["prompt"] == "a red fox in snow"
    front.run("edit", "give it a blue hat")
    assert studio.error == {} and studio.turns[-1]["parent"] == 1 and studio.turns[-1]["kind"] == "edit"
    front.msg({"kind": "open_past", "id": "../" * 30})
    assert "64 hexadecimal" in studio.error["message"]


def test_resume_reopens_the_last_sessions_history_as_it_was():
    earlier_kernel("import numpy as np\n"
                   "s = pp.Studio('offline'); s.generate('a lighthouse', seed=3)\n"
                   "s.edit('make it night'); s.current = {'turn': 1, 'index': 0}\n"
                   "s.edit('add fog instead'); s.current = {'turn': 2, 'index': 0}")
    from promptpaint.studio import past
    saved = json.loads((past.folder() / "last-session.json").read_text())
    studio = pp.Studio("offline", resume=True)
    assert [(t["id"], t["parent"], t["prompt"]) for t in studio.turns] == [
        (1, None, "a lighthouse"), (2, 1, "make it night"), (3, 1, "add fog instead")]
    assert studio.turns == saved["turns"]
    assert studio.current == {"turn": 2, "index": 0} and studio.image_id == saved["turns"][1]["images"][0]
    assert studio.image.size == tuple(studio.image_size)
    front = Front(studio)
    front.run("edit", "and a moon")
    assert studio.error == {} and studio.turns[-1]["id"] == 4 and studio.turns[-1]["parent"] == 2


def test_a_new_studio_that_did_nothing_does_not_overwrite_the_last_session():
    earlier_kernel("pp.Studio('offline').generate('a lighthouse')")
    pp.Studio("offline")
    assert [t["prompt"] for t in pp.Studio("offline", resume=True).turns] == ["a lighthouse"]


def test_resume_with_nothing_saved_is_an_empty_studio():
    studio = pp.Studio("offline", resume=True)
    assert studio.turns == [] and studio.image_id == ""


def test_a_damaged_entry_in_the_saved_session_costs_only_itself():
    from promptpaint.studio import past
    earlier_kernel("s = pp.Studio('offline'); s.generate('one'); s.edit('two'); s.edit('three')")
    path = past.folder() / "last-session.json"
    saved = json.loads(path.read_text())
    saved["turns"][1]["images"] = ["../../etc/passwd"]  # tampered or damaged
    saved["turns"][2]["parent"] = 1
    saved["current"] = {"turn": 3, "index": 0}
    path.write_text(json.dumps(saved))
    studio = pp.Studio("offline", resume=True)
    assert [(t["id"], t["parent"]) for t in studio.turns] == [(1, None), (3, 1)]
    assert studio.image_id == saved["turns"][2]["images"][0]
    studio.generate("four")
    assert studio.turns[-1]["id"] == 4
    path.write_text("{not json")
    assert pp.Studio("offline", resume=True).turns == []


def in_notebook(path: str, code: str) -> None:
    """``code`` in an earlier kernel that Jupyter Server started for the notebook at ``path``."""
    subprocess.run([sys.executable, "-c", "import promptpaint as pp\n" + code], check=True,
                   env={**os.environ, "JPY_SESSION_NAME": path}, capture_output=True, text=True, timeout=120)


def test_resume_reopens_this_notebooks_session_not_the_last_one(monkeypatch, fake):
    from fakes import OPENAI_KEY
    in_notebook("/home/student/task1.ipynb",
                "s = pp.Studio('offline'); s.generate('a red fox', seed=1); s.edit('give it a hat')")
    in_notebook("/home/student/offline.ipynb",
                "s = pp.Studio('offline')\nfor p in ['one', 'two', 'three', 'four', 'five']: s.generate(p)")
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/student/task1.ipynb")
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    studio = pp.Studio("openai", model="gpt-image-2", resume=True)
    assert [t["prompt"] for t in studio.turns] == ["a red fox", "give it a hat"]
    assert studio.provider == "openai" and studio.model == "gpt-image-2"  # explicit arguments win
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/student/offline.ipynb")
    other = pp.Studio(resume=True)  # nothing explicit: the saved choices come back
    assert [t["prompt"] for t in other.turns] == ["one", "two", "three", "four", "five"]
    assert other.provider == "offline"
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/student/new.ipynb")
    assert pp.Studio("offline", resume=True).turns == []  # a notebook with no session starts empty


def test_the_kernels_notebook_names_come_from_vscode_then_ipykernel_then_the_environment(monkeypatch):
    from types import SimpleNamespace

    from promptpaint.studio import past
    ns = {}
    fake_ipython = SimpleNamespace(get_ipython=lambda: SimpleNamespace(user_ns=ns))
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert past.notebook_path() is None
    monkeypatch.setenv("JPY_SESSION_NAME", "/srv/a.ipynb")
    assert past.notebook_path() == "/srv/a.ipynb"
    ns["__session__"] = "/srv/b.ipynb"
    assert past.notebook_path() == "/srv/b.ipynb"
    ns["__vsc_ipynb_file__"] = "/work/c.ipynb"
    assert past.notebook_path() == "/work/c.ipynb"
    assert past.session_name("/work/c.ipynb") != past.session_name("/srv/a.ipynb")


def test_resumed_settings_stay_unless_an_argument_names_them(monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/nb/a.ipynb")
    s = pp.Studio("offline")
    s.session.choose_params({**s.params, "seed": 11})
    s.generate("a boat")
    again = pp.Studio(resume=True)
    assert again.params["seed"] == 11 and again.prompt == s.prompt


def test_out_of_order_ids_on_resume_never_give_two_turns_one_id():
    from promptpaint.studio import past
    earlier_kernel("s = pp.Studio('offline'); s.generate('one'); s.edit('two'); s.edit('three')")
    path = past.folder() / "last-session.json"
    saved = json.loads(path.read_text())
    one, two, three = saved["turns"]
    saved["turns"] = [three, one, dict(two, id=3), two]  # out of order, and a duplicated id
    path.write_text(json.dumps(saved))
    studio = pp.Studio("offline", resume=True)
    assert sorted(t["id"] for t in studio.turns) == [1, 2, 3]
    studio.generate("four")
    ids = [t["id"] for t in studio.turns]
    assert len(ids) == len(set(ids)) and ids[-1] == 4


def test_resuming_turns_saved_out_of_order_never_hands_out_an_id_twice():
    from promptpaint.studio import past
    earlier_kernel("s = pp.Studio('offline'); s.generate('one'); s.edit('two'); s.edit('three')")
    path = past.folder() / "last-session.json"
    saved = json.loads(path.read_text())
    one, two, three = saved["turns"]
    saved["turns"] = [three, one, dict(one, prompt="a copy of one"), two]  # reordered, an id twice
    path.write_text(json.dumps(saved))
    studio = pp.Studio("offline", resume=True)
    assert [t["id"] for t in studio.turns] == [1, 2, 3]
    assert [t["prompt"] for t in studio.turns] == ["one", "two", "three"]
    studio.generate("four")
    studio.generate("five")
    ids = [t["id"] for t in studio.turns]
    assert ids == [1, 2, 3, 4, 5] and len(set(ids)) == len(ids)


def test_hidden_past_images_stay_hidden_with_thousands_hidden_and_old_files_read():
    from promptpaint.studio import past
    studio = pp.Studio("offline")
    studio.generate("a fox")
    studio.generate("a heron")
    fox, heron = (t["images"][0] for t in studio.turns)
    for i in range(2000):
        past.hide(f"{i:064x}")
    studio.session.hide_past(fox)
    assert [i["id"] for i in studio.session.past()] == [heron]
    # A past.json from before kept its hidden ids in a list: still honoured.
    (past.folder() / past.HIDDEN).unlink()
    past._update(lambda d: d.__setitem__("hidden", [heron]))
    assert [i["id"] for i in studio.session.past()] == [fox]
