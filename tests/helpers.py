"""Helpers many test files share, so no test file imports from another.

    client_on(fake, provider, **kw)   a promptpaint Client on the fake (conftest.py also offers the
                                      ``openai_client`` / ``gemini_client`` fixture factories)
    png(im), png_bytes(...)           PNG bytes of an image / of a solid picture
    Front, openai_studio, gemini_studio   the widget driven through the messages the browser sends
    sdk_openai, sdk_gemini, decode    the official SDKs on the fake (they keep the fake honest)
    ROOT                              the repository, for tests that read its files (any folder depth)
    loaded_by(code, packages)         which of `packages` a fresh interpreter imports running `code`
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from PIL import Image

import promptpaint as pp
from fakes import GEMINI_KEY, OPENAI_KEY

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"openai": OPENAI_KEY, "gemini": GEMINI_KEY}


# ----------------------------------------------------------------------------- clients on the fake
def client_on(fake, provider: str, **kw) -> pp.Client:
    """A Client for ``provider`` on ``fake`` with the fake's key and a short retry backoff; ``kw`` may
    override any of them (``model=``, ``budget=``, ``backoff=``, ``api_key=``...)."""
    base = fake.openai_base if provider == "openai" else fake.gemini_base
    return pp.Client(provider, **{"api_key": KEYS[provider], "base_url": base, "backoff": 0.01, **kw})


def sdk_openai(fake):
    """The official openai SDK on the fake, without retries."""
    import openai

    return openai.OpenAI(api_key=OPENAI_KEY, base_url=fake.openai_base, max_retries=0, timeout=10)


def sdk_gemini(fake, version="v1beta"):
    """The official google-genai SDK on the fake."""
    from google import genai
    from google.genai import types

    return genai.Client(api_key=GEMINI_KEY, http_options=types.HttpOptions(base_url=fake.gemini_base,
                                                                           api_version=version))


# ----------------------------------------------------------------------------- images
def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def png_bytes(size=(64, 48), colour=(200, 30, 30), mode="RGB") -> bytes:
    fill = colour if mode == "RGB" else colour + (255,)
    return png(Image.new(mode, size, fill))


def decode(b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


# ----------------------------------------------------------------------------- the widget
class Front:
    """Stands in for the browser: sends messages, records what the kernel sends back."""

    def __init__(self, studio):
        self.studio = studio
        self.sent = []
        studio.send = lambda content, buffers=None: self.sent.append((content, buffers or []))

    def msg(self, content, buffers=None):
        self.studio._handle_custom_msg(content, buffers or [])

    def run(self, action, prompt=None):
        if prompt is not None:
            self.studio.prompt = prompt
        self.msg({"kind": "run", "action": action})
        self.wait()

    def wait(self, timeout=20):
        w = self.studio._worker
        if w is not None:
            w.join(timeout)
        deadline = time.time() + timeout
        while self.studio.status != "idle" and time.time() < deadline:
            time.sleep(0.01)

    def fetch(self, image_id, thumb=False):
        self.sent.clear()
        self.msg({"kind": "fetch", "id": image_id, "thumb": thumb})
        (content, buffers), = self.sent
        return content, buffers


def openai_studio(fake, monkeypatch, **kw):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base)
    studio = pp.Studio("openai", model="gpt-image-2", backoff=0.01, **kw)
    return studio, Front(studio)


def gemini_studio(fake, monkeypatch, **kw):
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.gemini_base)
    studio = pp.Studio("gemini", **kw)
    return studio, Front(studio)


# ----------------------------------------------------------------------------- batches
def collect_in_two_processes_at_once(home) -> list[list[str]]:
    """Two fresh interpreters find the newest job with pp.batches() and collect it at the same
    moment (each waits for the other to be ready); the type of each entry, per process."""
    code = textwrap.dedent("""
        import json, pathlib, sys, time, promptpaint as pp
        me, other = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
        job = pp.batches()[0]
        me.touch()
        while not other.exists():
            time.sleep(0.01)
        print(json.dumps([type(r).__name__ for r in job.results()]))
    """)
    env = {**os.environ, "PROMPTPAINT_HOME": str(home), "OPENAI_API_KEY": OPENAI_KEY, "GEMINI_API_KEY": GEMINI_KEY}
    flags = [home / "ready-a", home / "ready-b"]
    procs = [subprocess.Popen([sys.executable, "-c", code, str(flags[i]), str(flags[1 - i])], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def check_each_line_booked_once(fake, prompts):
    """Every line on exactly one ledger row, the ledger equal to the fake's bill, the job released."""
    lines = [r for r in pp.ledger().entries(limit=10_000) if r["kind"] != "batch"]
    assert sorted(r["prompt"] for r in lines) == sorted(prompts)
    assert pp.ledger().total() == fake.bill_total() > 0
    assert pp.ledger().spent() == fake.bill_total()  # the job's reservation is released
    assert [type(r) for r in pp.batches(api_key=GEMINI_KEY)[0].results()] == [pp.Result] * len(prompts)


def loaded_by(code: str, packages) -> list[str]:
    """Which of ``packages`` (top-level names) a fresh interpreter has imported once it has run
    ``code``: how a test checks an import stays light, since its own process loaded them all."""
    probe = (f"{code}\nimport json as _j, sys as _s\n"
             f"print(_j.dumps(sorted({{m.split('.')[0] for m in _s.modules}} & set({sorted(packages)!r}))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
