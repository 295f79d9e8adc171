"""How long a server asks us to wait: ``retry-after-ms`` or ``retry-after`` (seconds or a date)."""

from __future__ import annotations

import email.utils
import math
import time


def _seconds(value) -> float | None:
    """A finite, non-negative number of seconds from a header or body value; None for junk."""
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def server_delay(headers) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), in seconds.

    Junk ("soon", NaN, infinity, an unparseable date) is ignored; a negative wait or a date in the
    past means "now".
    """
    ms = _seconds(headers.get("retry-after-ms"))
    if ms is not None:
        return ms / 1000
    ra = headers.get("retry-after")
    if not ra:
        return None
    seconds = _seconds(ra)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(str(ra))
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is not HTTP
        return None
    return max(0.0, when.timestamp() - time.time())
