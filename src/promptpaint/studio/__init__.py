"""``pp.Studio``, the notebook widget, and the widget-free work behind it.

- ``widget``: the ``Studio`` class (traits, the message handlers); ``protocol``: the tables that
  map Session changes to traits and front-end messages to handlers; ``reruns``: a re-run cell
  retires its old Studio.
- ``session``: the widget-free facade (``Session``) the widget maps onto, built from
  ``history`` (turns), ``layers`` (mask + markup), ``jobs`` (the one runner), ``calls``
  (Generate/Edit), ``compare``, ``costs``, ``uploads``, ``past`` (Past images, resume),
  ``code`` (Show code) and ``errorcard``.

Only ``widget`` imports a widget library, and only when ``Studio`` is first asked for. The parts
take the Session as an argument (annotated ``"Session"``) and never import ``session`` back, so
the package has no import cycle.
"""

from __future__ import annotations

from .history import StudioTurn
from .session import Session


def __getattr__(name: str):
    if name == "Studio":
        from .widget import Studio

        return Studio
    raise AttributeError(f"module 'promptpaint.studio' has no attribute {name!r}")


__all__ = ["Studio", "Session", "StudioTurn"]
