""""Show code" snippets run as pasted: with curl and requests stubbed, the prompt reaches them
byte for byte, and nothing in it runs (no quote, $(), backtick or backslash escapes)."""

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import promptpaint as pp
from promptpaint import codegen
from fakes import GEMINI_KEY, OPENAI_KEY

PROMPTS = [
    "a cat'$(touch PWNED)'s hat",
    "a dog's bone",
    "`touch PWNED` and $(touch PWNED) and ${HOME} and $HOME",
    'back\\slash \\n "double" \\"quotes\\" \\\' end\\',
    "two\nlines\n'\n\"",
    "@/etc/hostname",
    "<PWNED",
    "caf\u00e9 \u2615 \u201cquoted\u201d",
    "' ; touch PWNED ; echo '",
]

CURL_STUB = """#!{python}
import json, os, sys
record = {{"argv": sys.argv[1:], "stdin": sys.stdin.read() if "@-" in sys.argv else None}}
with open(os.environ["RECORD"], "a") as f:
    f.write(json.dumps(record) + "\\n")
print(json.dumps({{"data": [{{"b64_json": "aGk="}}],
                  "candidates": [{{"content": {{"parts": [{{"inlineData": {{"data": "aGk="}}}}]}}}}]}}))
"""

REQUESTS_STUB = """
import json, os


class Response:
    def raise_for_status(self):
        pass

    def json(self):
        return {"data": [{"b64_json": "aGk="}],
                "candidates": [{"content": {"parts": [{"inlineData": {"data": "aGk="}}]}}]}


def post(url, headers=None, json=None, data=None, files=None, timeout=None):
    import json as _json
    record = {"url": url, "headers": headers, "json": json, "data": data,
              "files": [[name, f.name] for name, f in files or []]}
    with open(os.environ["RECORD"], "a") as f:
        f.write(_json.dumps(record) + "\\n")
    return Response()
"""

IMAGE = b"\x89PNG\r\n\x1a\n-not-really-an-image-but-bytes-to-carry"


@pytest.fixture
def stubs(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(CURL_STUB.format(python=sys.executable))
    curl.chmod(0o755)
    if shutil.which("jq") is None:  # the snippet pipes into jq; a stand-in when it is not installed
        jq = bin_dir / "jq"
        jq.write_text("#!/bin/sh\ncat >/dev/null\necho aGk=\n")
        jq.chmod(0o755)
    (bin_dir / "requests.py").write_text(textwrap.dedent(REQUESTS_STUB))
    work = tmp_path / "work"
    work.mkdir()
    for name in ("image-0.png", "image-1.png", "mask.png"):
        (work / name).write_bytes(IMAGE)
    return bin_dir, work


def run(stubs, argv):
    bin_dir, work = stubs
    record = work.parent / "record.jsonl"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(bin_dir),
           "RECORD": str(record), "OPENAI_API_KEY": "sk-from-env", "GEMINI_API_KEY": "AIza-from-env"}
    before = set(os.listdir(work))
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    created = set(os.listdir(work)) - before - {"out.png"}
    assert created == set(), f"the snippet created {created}"
    assert not (work.parent / "PWNED").exists()
    assert (work / "out.png").read_bytes() == b"hi"
    return [json.loads(line) for line in record.read_text().splitlines()]


def wire(provider, kind, prompt):
    if provider == "openai":
        c = pp.Client("openai", api_key=OPENAI_KEY, base_url="https://api.openai.com/v1")
    else:
        c = pp.Client("gemini", api_key=GEMINI_KEY)
    return c.wire(kind, prompt, {}, n_images=1 if kind == "edit" else 0, mask=kind == "edit")


CASES = [("openai", "generate"), ("openai", "edit"), ("gemini", "generate"), ("gemini", "edit")]


def sent_prompt(provider, kind, body_or_form):
    if provider == "openai":
        return body_or_form["prompt"]
    return body_or_form["contents"][-1]["parts"][0]["text"].split("\n\n")[0] if kind == "edit" else \
        body_or_form["contents"][-1]["parts"][0]["text"]


@pytest.mark.parametrize("provider, kind", CASES)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_curl_snippet_passes_the_prompt_as_data(stubs, provider, kind, prompt):
    w = wire(provider, kind, prompt)
    snippet = codegen.curl(w)
    assert OPENAI_KEY not in snippet and GEMINI_KEY not in snippet
    (call,) = run(stubs, ["bash", "-c", snippet])
    argv = call["argv"]
    if w.form is not None:
        fields = [argv[i + 1] for i, a in enumerate(argv) if a == "--form-string"]
        form = dict(f.split("=", 1) for f in fields)
        assert sent_prompt(provider, kind, form) == prompt
        assert "image[]=@image-0.png" in argv and "mask=@mask.png" in argv
        assert "Authorization: Bearer sk-from-env" in argv
    else:
        body = json.loads(call["stdin"])
        assert sent_prompt(provider, kind, body) == prompt
        assert body == json.loads(json.dumps(w.json)) if kind == "generate" else True
        if provider == "gemini":
            assert "x-goog-api-key: AIza-from-env" in argv
            if kind == "edit":
                datas = [p["inlineData"]["data"] for p in body["contents"][-1]["parts"] if "inlineData" in p]
                assert datas == [base64.b64encode(IMAGE).decode()] * 2  # the image, then the mask


@pytest.mark.parametrize("provider, kind", CASES)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_python_snippet_passes_the_prompt_as_data(stubs, provider, kind, prompt):
    w = wire(provider, kind, prompt)
    snippet = codegen.python(w)
    (call,) = run(stubs, [sys.executable, "-c", snippet])
    assert call["url"] == w.url
    if w.form is not None:
        assert sent_prompt(provider, kind, call["data"]) == prompt
        assert call["files"] == [["image[]", "image-0.png"], ["mask", "mask.png"]]
        assert call["headers"] == {"Authorization": "Bearer sk-from-env"}
    else:
        assert sent_prompt(provider, kind, call["json"]) == prompt
        key_header = "Authorization" if provider == "openai" else "x-goog-api-key"
        assert call["headers"][key_header] in ("Bearer sk-from-env", "AIza-from-env")
        if provider == "gemini" and kind == "edit":
            datas = [p["inlineData"]["data"] for p in call["json"]["contents"][-1]["parts"] if "inlineData" in p]
            assert datas == [base64.b64encode(IMAGE).decode()] * 2


def test_the_offline_snippet_is_a_python_literal():
    c = pp.Client("offline")
    code = codegen.python(c.wire("generate", PROMPTS[0], {}))
    assert repr(PROMPTS[0]) in code
