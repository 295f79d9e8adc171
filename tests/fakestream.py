"""Moved to tests/fakes/streams.py; this re-export stays for one release."""
from fakes.openai import PARTIAL_IMAGE_TOKENS  # noqa: F401
from fakes.streams import *  # noqa: F401,F403
