"""Old home of OpenAI's Batch API client (one release): now ``providers/openai/batch.py``.

This name is that module itself, so setting one of its names here still reaches the code."""

import sys

from .openai import batch as _batch

sys.modules[__name__] = _batch
