"""Gateway tokens: ``ppg_`` + 256 random bits, shown once; the ledger keeps only their SHA-256.

A token is as strong as a key, so a plain hash is enough (no salt or stretching: nobody can
guess 256 bits, and a fast lookup by hash is what every request needs).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from ..clock import utc_now
from ..errors import InvalidRequest

PREFIX = "ppg_"
_USER = re.compile(r"^[^\s:*][^\s]{0,127}$")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user(user: str) -> str:
    user = (user or "").strip()
    if not _USER.match(user):
        raise InvalidRequest(f"{user!r} is not a user name: one word, no spaces, not starting with ':' or '*'.",
                             param="user")
    return user


def add(ledger, user: str) -> str:
    """A new token for ``user`` (their older tokens keep working until revoked)."""
    token = PREFIX + secrets.token_urlsafe(32)
    ledger._write(f'INSERT INTO {ledger._tables}gateway_tokens (hash, "user", created) VALUES (?, ?, ?)',
                  (digest(token), check_user(user), utc_now().isoformat()))
    return token


def user_for(ledger, token: str) -> str | None:
    """The user a live token belongs to; None for an unknown or revoked one."""
    if not token.startswith(PREFIX):
        return None
    rows = ledger._read(f'SELECT "user" FROM {ledger._tables}gateway_tokens WHERE hash = ? AND revoked IS NULL',
                        (digest(token),))
    return rows[0][0] if rows else None


def listing(ledger) -> list[dict]:
    rows = ledger._read(f'SELECT "user", created, revoked, hash FROM {ledger._tables}gateway_tokens '
                        'ORDER BY "user", created')
    return [{"user": u, "created": str(c), "revoked": r, "id": h[:8]} for u, c, r, h in rows]


def revoke(ledger, user: str) -> int:
    """Stop every live token of ``user``; return how many."""
    return ledger._write(f'UPDATE {ledger._tables}gateway_tokens SET revoked = ? WHERE "user" = ? '
                         'AND revoked IS NULL', (utc_now().isoformat(), check_user(user)))
