"""Text a terminal shows as text: what users typed (names, prompts), what models and servers said
(ids, error texts) never moves the cursor, erases a line, sets a window title or rings a bell.

Every C0/C1 control character (ESC, CR, BS, BEL, the CSI/OSC introducers...) and DEL is shown as a
Python-style escape (``\\x1b``, ``\\r``); line and paragraph separators and bidirectional overrides,
which reorder or split what follows on many terminals, likewise (``\\u202e``).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value, *, lines: bool = False) -> str:
    """``value`` as text with every control character escaped (None: ``-``); ``lines=True`` keeps
    its line breaks (a message of several lines)."""
    if value is None:
        return "-"
    if lines:
        return "\n".join(_UNSAFE.sub(_escape, part) for part in str(value).split("\n"))
    return _UNSAFE.sub(_escape, str(value))


def pad(value, width: int, align: str = "<") -> str:
    """``shown(value)`` padded to ``width`` (after escaping, so columns still line up)."""
    return format(shown(value), f"{align}{width}")
