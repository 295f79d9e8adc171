"""Moved to tests/fakes/batches.py (batches_openai.py, batches_gemini.py); this re-export stays for one release."""
from fakes.batches import *  # noqa: F401,F403
