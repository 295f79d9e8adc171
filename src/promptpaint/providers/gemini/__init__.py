"""Gemini's home: everything promptpaint knows about ``generateContent``.

- ``wire``: request bodies, errors, usage and answers (plain functions)
- ``provider``: ``GeminiProvider``, the direct calls
- ``stream``: ``streamGenerateContent`` (interim "thought" images as previews) read into one body
- ``batch``: the Batch API client (inline requests, or a JSONL file through the Files API)
- ``history``: a conversation kept with image ids instead of base64, and made whole to replay
- ``masks``: the mask as a second picture plus an instruction (there is no mask field)
- snippet shapes: ``GeminiProvider.snippet_curl_output`` / ``snippet_python_output``
"""

from .masks import MASK_INSTRUCTION
from .provider import GeminiProvider
from .wire import (GENERATION_FIELDS, IMAGE_FIELDS, NO_IMAGE_REASONS, answer_from, body, classify,
                   parse_usage, retry_delay, user_turn)

__all__ = ["GeminiProvider", "MASK_INSTRUCTION", "GENERATION_FIELDS", "IMAGE_FIELDS", "NO_IMAGE_REASONS",
           "answer_from", "body", "classify", "parse_usage", "retry_delay", "user_turn"]
