"""What time it is and who is calling: one place, so that tests can set both.

"Today" is the UTC date everywhere: a model's shutdown day, a price's validity, a daily cap and the
ledger's day all agree, whatever the kernel's time zone. Nothing else in the package reads the wall
clock for a date or asks the OS who is calling.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from contextlib import contextmanager
from typing import Iterator

HOST = socket.gethostname()

_pinned: dt.datetime | None = None


def utc_now() -> dt.datetime:
    """Now, as an aware UTC datetime (the pinned instant while a test has pinned one)."""
    return _pinned if _pinned is not None else dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today's date in UTC."""
    return utc_now().date()


@contextmanager
def pinned(when: dt.datetime | dt.date | str) -> Iterator[dt.datetime]:
    """Make ``utc_now()`` answer ``when`` inside the block (a date means its noon, UTC)."""
    global _pinned
    if isinstance(when, str):
        when = dt.date.fromisoformat(when) if len(when) == 10 else dt.datetime.fromisoformat(when)
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(12), dt.timezone.utc)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    before, _pinned = _pinned, when.astimezone(dt.timezone.utc)
    try:
        yield _pinned
    finally:
        _pinned = before


def current_user() -> str:
    """Who is calling: PROMPTPAINT_USER, else JUPYTERHUB_USER (set by the hub's spawner), else the
    OS user. Every ledger row records it; caps in the ledger apply per user."""
    for var in ("PROMPTPAINT_USER", "JUPYTERHUB_USER"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    try:
        return getpass.getuser()
    except Exception:  # no login name, e.g. a container user without a passwd entry
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
