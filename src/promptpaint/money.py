"""Money, one way: nanodollar integers in storage, ``Decimal`` in Python, one text for people.

- ``parse(value, setting)``: a dollar amount a person typed (``5``, ``"0.50"``) as a
  ``Decimal`` of 0 or more, or an ``InvalidRequest`` that names the setting and shows a good value.
- ``format(amount)``: ``$0.0678``, ``$0.30``, ``$12.00``, ``$0.000001``; ``unknown`` for None. The
  widget, the CLI, reprs and error messages all show a dollar figure through it, so one amount
  never reads two ways on one screen.
- ``nanos``/``usd``: to and from the ledger's integer nanodollars.
"""

from __future__ import annotations

import builtins
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import InvalidRequest

NANO = Decimal("0.000000001")   # the ledger's unit: every cost is booked as whole nanodollars
SHOWN = Decimal("0.000001")     # the finest a person is shown: a micro-dollar


def tidy(amount: Decimal) -> Decimal:
    """``0.067801000`` -> ``0.067801`` and ``0E-9`` -> ``0``, without normalize()'s ``1E+1``."""
    text = builtins.format(amount, "f")
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


class Dollars(Decimal):
    """An amount of USD: a Decimal for arithmetic, shown as ``$0.0678`` in a notebook or a repr."""

    __slots__ = ()

    def __repr__(self) -> str:
        return format(self)


def nanos(amount: Decimal | None) -> int | None:
    """``amount`` dollars as whole nanodollars (what the ledger stores); None stays None."""
    return None if amount is None else int((Decimal(amount) / NANO).to_integral_value())


def usd(value: int | None) -> Dollars | None:
    """Nanodollars from the ledger as ``Dollars``; None (unknown) stays None."""
    return None if value is None else Dollars(tidy(Decimal(value) * NANO))


def format(amount: Decimal | float | int | None) -> str:  # noqa: A001  (money.format reads right)
    """``$`` and the amount rounded half-up to the micro-dollar, trailing zeros trimmed to no
    fewer than two decimals: ``$0.0678``, ``$0.30``, ``$3.00``, ``$0.000002``; ``unknown`` for None.
    """
    if amount is None:
        return "unknown"
    value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    if not value.is_finite():
        return f"${value}"
    value = value.quantize(SHOWN, rounding=ROUND_HALF_UP)
    whole, _, frac = builtins.format(abs(value), "f").partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{'-' if value < 0 else ''}${whole}.{frac}"


def parse(value, setting: str, *, param: str | None = None) -> Decimal:
    """A money setting as a Decimal >= 0, or an ``InvalidRequest`` naming ``setting``.

    Accepts an int, a float, a Decimal or a string of digits (``"5"``, ``" 0.50 "``); refuses
    ``"$5"`` (a shell would have expanded ``$5`` on a command line: the number alone is the one
    spelling that survives everywhere), booleans, NaN, infinities, negative amounts and anything
    else. ``param`` is the error's ``param`` (default: ``setting`` without a trailing ``=``).
    """
    amount = None
    if not isinstance(value, bool) and isinstance(value, (int, float, str, Decimal)):
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        bare = str(value).strip()[1:].strip() if isinstance(value, str) and value.strip()[:1] == "$" else ""
        raise InvalidRequest(f"{setting} must be an amount of US dollars of 0 or more, like 5 or 0.50, "
                             f"not {value!r}.", param=param or setting.rstrip("="),
                             hint=f"Write the number alone: {bare}." if bare else "")
    return amount


__all__ = ["NANO", "Dollars", "format", "parse", "nanos", "usd", "tidy"]
