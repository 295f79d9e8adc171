"""What must never be shown: API keys and URL credentials, hidden from text, reprs and tracebacks.

Every key a Client is given is registered here, so any message built anywhere (an error, a log
line, a ledger row) can be scrubbed of it *before* it is stored in an exception's ``args``.
Every pattern below is linear in the length of the text: an error that quotes a 1 MB value must
not freeze the kernel.
"""

from __future__ import annotations

import re
import threading

KEY = "[key]"
CREDENTIALS = "[credentials]"

_known: set[str] = set()
_lock = threading.Lock()

# A partly masked key as OpenAI echoes it ("sk-abc***************wxyz"). The lookbehind anchors a
# match at the start of a run of key characters, so a long run without "***" is scanned once, not
# once per starting position (the old pattern was quadratic: 16 KB took 1.3 s).
_MASKED = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{2,}\*{3,}[A-Za-z0-9_\-]{0,12}")
_KEYLIKE = re.compile(r"(?<![A-Za-z0-9_\-])(?:sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{8,})")
# "scheme://user:password@host": starts at the literal "://", so each attempt stops at the next
# "/", "@" or whitespace.
_USERINFO = re.compile(r"://[^/\s@?#]+@")


class Secret(str):
    """A key that prints as ``'[key]'``: safe in a ``repr``, a dict of headers or a traceback's locals.

    It is still the key for everything that sends it (``str`` methods, encoding, f-strings).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(KEY)


class SecretURL(str):
    """A URL that prints without its ``user:password@``, e.g. in a traceback's locals."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_url(str(self)))


def register(secret: str | None) -> None:
    """Remember ``secret`` so that every later ``scrub`` removes it, wherever the text came from."""
    if not secret:
        return
    with _lock:
        for s in {str(secret), str(secret).strip()}:
            if len(s) >= 8:  # shorter ones (a password "pw") would mangle ordinary words
                _known.add(s)


def register_url(url: str | None) -> None:
    """Remember the password (or token) inside a URL's userinfo, so it is scrubbed even alone."""
    for m in _USERINFO.finditer(url or ""):
        userinfo = m.group(0)[3:-1]
        register(userinfo)
        register(userinfo.partition(":")[2])


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``[credentials]@``."""
    return _USERINFO.sub(f"://{CREDENTIALS}@", url) if url else url


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without any key (whole, partly masked as OpenAI echoes it, or key-shaped) and without
    URL credentials. Each step is a linear scan or a plain ``str.replace``."""
    if not text:
        return text
    text = str(text)
    with _lock:
        known = sorted(_known.union(s for s in secrets if s), key=len, reverse=True)
    for s in known:
        if s in text:
            text = text.replace(s, KEY)
    # Each pattern runs only when its literal anchor is present (a fast substring search), so
    # ordinary text is not walked by the regex engine at all.
    if "://" in text:
        text = _USERINFO.sub(f"://{CREDENTIALS}@", text)
    if "***" in text:
        text = _MASKED.sub(KEY, text)
    if "sk-" in text or "AIza" in text:
        text = _KEYLIKE.sub(KEY, text)
    return text
