"""Moved to ``promptpaint.studio.session`` (the Studio's widget-free work is a package now);
this re-export keeps old imports working for one release."""

from .studio.errorcard import error_state, error_title
from .studio.history import StudioTurn
from .studio.jobs import Job
from .studio.session import Session

__all__ = ["Session", "StudioTurn", "Job", "error_state", "error_title"]
