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
# "/", "@" or whitespace. Only a userinfo with a password (a ":") is hidden: a bare user name
# ("postgresql://alice@host") is no secret, and a reader needs it to see who connects.
_USERINFO = re.compile(r"://[^/\s@?#:]*:[^/\s@?#]*@")
# A query (or fragment) parameter whose name says it holds a secret ("?password=", "&key=",
# "?access_token=", libpq's "sslpassword"). Anchored at "?", "&" or "#", the name at most 64
# characters and the value stopping at the next separator: one pass over the text.
_QUERY = re.compile(r"[?&#]([A-Za-z0-9_.\-]{1,64})=")
_VALUE = re.compile(r"[^&#\s'\"<>]*")
_SECRET_NAME = re.compile(r"(?i)pass|pwd|secret|token|key|sig|credential|auth|session|upload_id")


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
    """Remember the password (or token) inside a URL's userinfo or query, so it is scrubbed even alone."""
    for m in _USERINFO.finditer(url or ""):
        userinfo = m.group(0)[3:-1]
        register(userinfo)
        register(userinfo.partition(":")[2])
    for m in _QUERY.finditer(url or ""):
        if _SECRET_NAME.search(m.group(1)):
            register(_VALUE.match(url, m.end()).group(0))


def _redact_query(text: str) -> str:
    """``text`` with the value of each secret-named parameter replaced. Only a secret's value is
    consumed, so a parameter inside another's value (``?next=https://x?token=…``) is still seen;
    one pass, each value skipped once."""
    out, pos = [], 0
    for m in _QUERY.finditer(text):
        if m.start() < pos or not _SECRET_NAME.search(m.group(1)):
            continue
        end = _VALUE.match(text, m.end()).end()
        if end > m.end():
            out += [text[pos:m.end()], CREDENTIALS]
            pos = end
    return "".join(out) + text[pos:] if out else text


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``[credentials]@`` and the value of any
    query parameter named like a secret (``?password=``, ``&key=``, ``?token=``…) by
    ``[credentials]``. A bare ``user@`` stays: a name is not a secret."""
    if not url:
        return url
    url = _USERINFO.sub(f"://{CREDENTIALS}@", url)
    if "=" in url:
        url = _redact_query(url)
    return url


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
    if "=" in text and ("?" in text or "&" in text or "#" in text):
        text = _redact_query(text)
    if "***" in text:
        text = _MASKED.sub(KEY, text)
    if "sk-" in text or "AIza" in text:
        text = _KEYLIKE.sub(KEY, text)
    return text


def scrubbed(value, secrets=()):
    """A JSON value with every string scrubbed: error messages are built from it."""
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v, secrets) for v in value]
    return value


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, without credentials."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return redact_url(url)[:100]
    return redact_url(f"{scheme}://{rest.split('/', 1)[0]}")
