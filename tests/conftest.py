import os
import sys

import pytest

# tests/ has no __init__.py, so pytest's default "prepend" import mode already puts this directory on
# sys.path; the guard keeps `from fakeserver import ...` working under --import-mode=importlib too.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fakeserver import FakeProviders  # noqa: E402


@pytest.fixture
def fake():
    """A fresh local fake of the OpenAI Images and Gemini generateContent APIs (see tests/fakeserver.py)."""
    with FakeProviders() as server:
        yield server


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own ledger and image store, and sees no real key or base URL."""
    home = tmp_path / "pp-home"
    monkeypatch.setenv("PROMPTPAINT_HOME", str(home))
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL",
                 "GOOGLE_GEMINI_BASE_URL", "PROMPTPAINT_PROVIDER", "PROMPTPAINT_DAILY_BUDGET"):
        monkeypatch.delenv(name, raising=False)
    return home


CHROMIUM = os.environ.get("PROMPTPAINT_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    # Whatever needs Chromium is a browser test, marked or not: `./dev test` without Chromium runs
    # `-m "not browser"`, and a test that forgot its mark must not fail there instead of being left out.
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; Playwright's own browser download cannot work here."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (./dev test does)")
        pytest.skip("Debian's chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def raw():
    """``raw(act)`` starts a RawServer (tests/rawserver.py) that does ``act(conn)`` after each request."""
    from rawserver import RawServer

    servers = []

    def start(act):
        servers.append(RawServer(act))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
