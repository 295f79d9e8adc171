"""Moved to ``promptpaint.studio.past``; this re-export keeps old imports working for one release."""

from .studio.past import folder, hide, items, load_session, record_upload, save_session  # noqa: F401
