import os
import sys

import pytest

# tests/ has no __init__.py, so pytest's default "prepend" import mode already puts this directory on
# sys.path; the guard keeps `from fakes import ...` working under --import-mode=importlib too.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fakes import FakeProviders  # noqa: E402
from helpers import client_on  # noqa: E402


@pytest.fixture
def fake():
    """A fresh local fake of the OpenAI Images and Gemini generateContent APIs (see tests/fakes/)."""
    with FakeProviders() as server:
        yield server


@pytest.fixture
def openai_client(fake):
    """``openai_client(**kw)``: a promptpaint Client on the fake's OpenAI API, with its key and a short
    retry backoff; ``kw`` adds or overrides Client arguments (``model=``, ``budget=``...)."""
    return lambda **kw: client_on(fake, "openai", **kw)


@pytest.fixture
def gemini_client(fake):
    """``gemini_client(**kw)``: the same on the fake's Gemini API."""
    return lambda **kw: client_on(fake, "gemini", **kw)


@pytest.fixture
def day():
    """``day("2026-11-20")`` pins the package's "today" for the rest of the test. A model's shutdown
    date is data that moves past: a test about a date names it, and never reads the wall clock."""
    from contextlib import ExitStack

    from promptpaint import clock

    with ExitStack() as stack:
        yield lambda when: stack.enter_context(clock.pinned(when))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own ledger and image store, and sees no real key or base URL."""
    home = tmp_path / "pp-home"
    monkeypatch.setenv("PROMPTPAINT_HOME", str(home))
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL",
                 "GOOGLE_GEMINI_BASE_URL", "PROMPTPAINT_PROVIDER", "PROMPTPAINT_DAILY_BUDGET",
                 "PROMPTPAINT_MODELS", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    return home


def pytest_configure(config):
    # CI runs the suite a second time with the wall clock a year ahead (PROMPTPAINT_TEST_TRAVEL_DAYS=365),
    # so a test that reads the calendar instead of pinning its day fails the day it is written.
    # time-machine moves datetime and time.time() but not time.monotonic(), which thread waits use.
    days = os.environ.get("PROMPTPAINT_TEST_TRAVEL_DAYS")
    if days:
        import datetime as dt

        import time_machine

        ahead = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=int(days))
        config._promptpaint_travel = time_machine.travel(ahead, tick=True)
        config._promptpaint_travel.start()


def pytest_unconfigure(config):
    travel = getattr(config, "_promptpaint_travel", None)
    if travel is not None:
        travel.stop()


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
