"""Old home of Gemini's Batch API client (one release): now ``providers/gemini/batch.py``.

This name is that module itself, so setting one of its names here (``INLINE_MAX_LINES``) still
reaches the code."""

import sys

from .gemini import batch as _batch

sys.modules[__name__] = _batch
