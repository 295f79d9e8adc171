"""Where things live and which keys are present. Keys are read here and nowhere else."""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path

from .errors import InvalidRequest

# Gemini: the SDK convention, GOOGLE_API_KEY before GEMINI_API_KEY.
KEY_ENV = {"openai": ("OPENAI_API_KEY",), "gemini": ("GOOGLE_API_KEY", "GEMINI_API_KEY")}
BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "gemini": "GOOGLE_GEMINI_BASE_URL"}
DEFAULT_BASE_URL = {"openai": "https://api.openai.com/v1",
                    "gemini": "https://generativelanguage.googleapis.com"}


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
    path.mkdir(parents=True, exist_ok=True)
    return path


def api_key(provider: str) -> str | None:
    for name in KEY_ENV.get(provider, ()):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def base_url(provider: str) -> str:
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
    """A money setting as a Decimal >= 0, or an error that names the setting and shows a good value."""
    bad = isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal))
    amount = None
    if not bad:
        try:
            amount = Decimal(str(value).strip())
        except ArithmeticError:
            bad = True
    if bad or not amount.is_finite() or amount < 0:
        raise InvalidRequest(f"{setting} must be an amount of US dollars of 0 or more, like 5 or 0.50, "
                             f"not {value!r}.", param=setting)
    return amount


def daily_budget() -> Decimal | None:
    value = settings().get("daily_budget")
    if value in (None, ""):
        return None
    where = ("PROMPTPAINT_DAILY_BUDGET" if os.environ.get("PROMPTPAINT_DAILY_BUDGET")
             else f"daily_budget in {home() / 'config.json'}")
    return dollars(value, where)
