"""Fixtures for driving the built front end in Debian's Chromium through Playwright.

The page loads src/promptpaint/static/widget.js from a blob: URL, exactly as anywidget does,
and renders it against a fake model (harness.html); the `widget` fixture is the Python side.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# The helpers live in their own module (not conftest) so tests can import them by a name no
# other conftest.py in the repo shadows; the path entry keeps that working under any import mode.
sys.path.insert(0, str(Path(__file__).parent))

from pp_harness import DEFAULT_STATE, Widget  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "src" / "promptpaint" / "static" / "widget.js"
HARNESS = Path(__file__).with_name("harness.html")


def _stale(bundle: Path) -> bool:
    if not bundle.exists():
        return True
    built = bundle.stat().st_mtime
    sources = list((ROOT / "js").glob("*")) + [ROOT / "package.json"]
    return any(p.stat().st_mtime > built for p in sources if p.exists())


@pytest.fixture(scope="session", autouse=True)
def bundle() -> Path:
    """Builds the bundle when missing or older than js/, so a clean clone just works."""
    if _stale(BUNDLE):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to build src/promptpaint/static/widget.js")
        if not (ROOT / "node_modules" / ".bin" / "esbuild").exists():
            install = "ci" if (ROOT / "package-lock.json").exists() else "install"
            subprocess.run([npm, install, "--no-audit", "--no-fund"], cwd=ROOT, check=True)
        subprocess.run([npm, "run", "build"], cwd=ROOT, check=True)
    return BUNDLE


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        path = urllib.parse.urlparse(self.path).path
        if path == "/":
            body, kind = HARNESS.read_bytes(), "text/html; charset=utf-8"
        elif path == "/widget.js":
            body, kind = BUNDLE.read_bytes(), "text/javascript; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server_url(bundle):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def widget_factory(browser, server_url):
    contexts = []

    def make(width=600, state=None, viewport=None):
        context = browser.new_context(viewport=viewport or {"width": width + 60, "height": 1100})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(5_000)  # a failing wait fails fast; nothing here takes seconds
        full = {**DEFAULT_STATE, **(state or {})}
        query = urllib.parse.urlencode({"state": json.dumps(full), "width": width})
        page.goto(f"{server_url}?{query}")
        page.wait_for_function("window.pp && window.pp.ready", timeout=10_000)
        return Widget(page)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def widget(widget_factory) -> Widget:
    return widget_factory()
