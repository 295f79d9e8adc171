"""Where things live and which keys are present. Keys are read here and nowhere else."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from . import money
from .errors import InvalidRequest
from .redact import redact_url


class _ByProvider(Mapping):
    """provider name -> one attribute of its class, for the providers that have it. Read from the
    provider classes (their one home) on first use, so importing config loads no provider."""

    def __init__(self, attr: str):
        self._attr, self._table = attr, None

    def _rows(self) -> dict:
        if self._table is None:
            from .providers import all_providers

            self._table = {p.name: getattr(p, self._attr) for p in all_providers() if getattr(p, self._attr)}
        return self._table

    def __getitem__(self, name):
        return self._rows()[name]

    def __iter__(self):
        return iter(self._rows())

    def __len__(self):
        return len(self._rows())


KEY_ENV = _ByProvider("key_env")
BASE_URL_ENV = _ByProvider("base_url_env")
DEFAULT_BASE_URL = _ByProvider("default_base_url")


def home() -> Path:
    """``PROMPTPAINT_HOME``, else the per-user data folder (XDG on Linux)."""
    env = os.environ.get("PROMPTPAINT_HOME")
    if env:
        path = Path(env).expanduser()
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "promptpaint"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / "promptpaint"
    else:
        path = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "promptpaint"
    if path.is_dir():  # asked several times a call: a stat, where mkdir would raise and catch EEXIST
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from .errors import HomeFolderError

        where = "PROMPTPAINT_HOME" if env else "promptpaint's data folder"
        raise HomeFolderError(
            f"{where} {path} cannot be created: {exc.strerror or exc}. promptpaint keeps its ledger and "
            "images there.", param="PROMPTPAINT_HOME",
            hint="Set PROMPTPAINT_HOME to a folder you can write (it is created if missing), e.g. "
                 "PROMPTPAINT_HOME=~/promptpaint.") from None
    if not path.is_dir():
        from .errors import HomeFolderError

        raise HomeFolderError(f"PROMPTPAINT_HOME {path} is a file, not a folder.", param="PROMPTPAINT_HOME",
                              hint="Point PROMPTPAINT_HOME at a folder (it is created if missing).")
    return path


def api_key(provider: str) -> str | None:
    return find_key(provider)[0]


def base_url(provider: str) -> str:
    from .gateway import env  # PROMPTPAINT_GATEWAY: both providers through the class gateway

    through = env.base_url(provider, DEFAULT_BASE_URL.get(provider))
    if through:
        return through
    return (os.environ.get(BASE_URL_ENV.get(provider, ""), "") or DEFAULT_BASE_URL.get(provider, "")).rstrip("/")


def settings() -> dict:
    """``config.json`` in the home folder, e.g. ``{"daily_budget": 5.00}``; env vars win."""
    path = home() / "config.json"
    data = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InvalidRequest(f"{path} is not valid JSON ({exc}): fix or delete it.",
                                 param="config.json") from None
    if os.environ.get("PROMPTPAINT_DAILY_BUDGET"):
        data["daily_budget"] = os.environ["PROMPTPAINT_DAILY_BUDGET"]
    return data


def dollars(value, setting: str) -> Decimal:
    """A money setting as a Decimal >= 0, or an error that names the setting (``money.parse``)."""
    return money.parse(value, setting)


def daily_budget() -> Decimal | None:
    value = settings().get("daily_budget")
    if value in (None, ""):
        return None
    where = ("PROMPTPAINT_DAILY_BUDGET" if os.environ.get("PROMPTPAINT_DAILY_BUDGET")
             else f"daily_budget in {home() / 'config.json'}")
    return dollars(value, where)


def find_key(provider: str) -> tuple[str | None, str]:
    """The key in the environment and the variable it came from (for messages that say where).
    Behind a class gateway (PROMPTPAINT_GATEWAY) the key is the kernel's gateway token."""
    from .gateway import env

    if env.url() and DEFAULT_BASE_URL.get(provider):  # a provider reached over the network
        return env.token()
    for name in KEY_ENV.get(provider, ()):
        value = os.environ.get(name, "").strip()
        if value:
            return value, name
    return None, " or ".join(KEY_ENV.get(provider, ())) or "api_key="


# Quotes a key picks up when copied from a document or a chat: “ ” ‘ ’ « » and straight ones.
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e\u201a"


def key_problem(key: str) -> str | None:
    """What is wrong with ``key`` as an HTTP header value, in words, without quoting it."""
    if key != key.strip():
        end = key[-1] if key != key.rstrip() else key[0]
        where = "ends" if key != key.rstrip() else "starts"
        what = "a line break" if end in "\r\n" else "a space or tab"
        return f"{where} with {what}"
    quotes = [i for i, ch in enumerate(key) if ch in _QUOTES]
    if quotes:
        return f"contains quote marks (character {quotes[0] + 1} of {len(key)})"
    for i, ch in enumerate(key):
        if ch.isspace():
            kind = "a space, tab or line break"
        elif ord(ch) < 32 or 127 <= ord(ch) < 160:
            kind = "a control character"
        elif ord(ch) > 126:
            kind = "a non-ASCII character"
        else:
            continue
        return f"contains {kind} (character {i + 1} of {len(key)}); API keys are plain ASCII"
    return None


def check_base_url(provider: str, url: str, setting: str) -> str:
    """``url`` without a trailing slash, or an InvalidRequest naming ``setting`` when it has no
    http(s) scheme (``api.openai.com/v1`` would otherwise fail only once sent)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
        raise InvalidRequest(
            f"The {provider} base URL {redact_url(url)!r} (from {setting}) is not a full http(s) address.",
            param="base_url", provider=provider,
            hint=f"Set {setting} to something like {DEFAULT_BASE_URL[provider]!r}.")
    return url.rstrip("/")
