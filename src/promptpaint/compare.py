"""Moved to ``promptpaint.studio.compare``; this re-export keeps old imports working for one release."""

from .studio.compare import MAX_CELLS, MAX_REPEATS, Cell, plan, worst_case  # noqa: F401
