"""Show code for a Studio built with api_key= and base_url=: every snippet runs as pasted (with
the key's variable set, as the snippet says), reaches the same endpoint with the same files, and
never holds the key."""

import base64
import os
import subprocess

import pytest
from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY
from helpers import Front, png_bytes

SETUP = {"openai": (OPENAI_KEY, "OPENAI_API_KEY"), "gemini": (GEMINI_KEY, "GEMINI_API_KEY")}


def files_sent(req):
    if req.provider == "openai":
        return {field: [data for _, _, data in req.files.get(field, [])] for field in ("image[]", "mask")}
    parts = req.json["contents"][-1]["parts"]
    return {"inline": [base64.b64decode(p["inlineData"]["data"]) for p in parts if "inlineData" in p],
            "text": [p["text"] for p in parts if "text" in p]}


def studio_with_explicit_key(fake, provider):
    key, _ = SETUP[provider]
    base = fake.openai_base if provider == "openai" else fake.gemini_base
    studio = pp.Studio(provider, api_key=key, base_url=base, backoff=0.01)
    studio.set_state({"previews": False})  # the snippets make the plain call
    return studio, Front(studio)


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_every_snippet_of_an_edit_with_a_mask_and_a_reference_runs_as_pasted(fake, provider, tmp_path, monkeypatch):
    studio, front = studio_with_explicit_key(fake, provider)
    front.run("generate", "a lighthouse")
    studio.add_reference(png_bytes((64, 64), (0, 0, 90)), "night.png")
    w, h = studio.image_size
    mask = Image.new("L", (w, h), 0)
    mask.paste(255, (0, 0, w // 2, h // 2))
    studio.mask = mask
    front.run("edit", "make the sky like the reference")
    assert studio.error == {}
    from_widget = fake.requests[-1]
    key, env = SETUP[provider]
    code = studio.code
    for name in ("curl", "python", "promptpaint"):
        assert key not in code[name] and env in code[name], name
    base = fake.openai_base if provider == "openai" else fake.gemini_base
    assert f"base_url={base!r}" in code["promptpaint"]
    assert "written to" in code["python"] and "written to" in code["curl"]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(env, key)  # as the snippet's first line asks
    namespace = {}
    exec(code["python"], namespace)
    assert files_sent(fake.requests[-1]) == files_sent(from_widget) and fake.requests[-1].path == from_widget.path
    done = subprocess.run(["bash", "-c", code["curl"]], cwd=tmp_path, env={**os.environ}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert files_sent(fake.requests[-1]) == files_sent(from_widget)
    assert Image.open(tmp_path / "out.png").size == (w, h) or provider == "gemini"
    spent = pp.ledger().total()
    exec(code["promptpaint"], namespace)
    sent = fake.requests[-1]
    assert sent.path == from_widget.path and len(files_sent(sent)[next(iter(files_sent(sent)))]) == \
        len(files_sent(from_widget)[next(iter(files_sent(from_widget)))])
    assert pp.ledger().total() == spent + namespace["result"].cost


def test_a_generate_with_references_names_them_in_its_snippets(fake, tmp_path, monkeypatch):
    studio, front = studio_with_explicit_key(fake, "openai")
    ref = png_bytes((48, 48), (120, 10, 10))
    studio.add_reference(ref, "subject.png")
    front.run("generate", "the subject on a beach")
    assert fake.requests[-1].path == "/v1/images/edits"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    namespace = {}
    exec(studio.code["promptpaint"], namespace)
    assert fake.requests[-1].path == "/v1/images/edits"
    assert [d for _, _, d in fake.requests[-1].files["image[]"]] == [ref]
    assert namespace["result"].kind == "generate"


def test_a_studio_using_the_environment_gets_snippets_without_api_key(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    studio = pp.Studio("openai", backoff=0.01)
    studio.set_state({"previews": False})
    Front(studio).run("generate", "a fox")
    assert "api_key" not in studio.code["promptpaint"] and "Set OPENAI_API_KEY" not in studio.code["curl"]
    assert fake.openai_base in studio.code["promptpaint"]  # not the default endpoint: named
