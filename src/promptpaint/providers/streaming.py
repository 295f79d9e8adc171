"""Old home of the stream readers (one release): each now lives with its provider."""

from .gemini.stream import read_gemini
from .openai.stream import read_openai
from .streams import CUT_OFF_HINT, OnPreview

__all__ = ["read_gemini", "read_openai", "CUT_OFF_HINT", "OnPreview"]
