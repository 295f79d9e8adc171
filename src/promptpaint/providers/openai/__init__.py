"""OpenAI's home: everything promptpaint knows about the Images API.

- ``wire``: errors, usage, answers and the worst case (plain functions)
- ``provider``: ``OpenAIProvider``, the direct calls (JSON generations, multipart edits)
- ``stream``: the streamed answer (``partial_images``) read into a plain body
- ``batch``: the Batch API client (a JSONL file, a job, the output streamed back)
- ``masks``: the mask file (alpha 0 where to edit)
- snippet shapes: ``OpenAIProvider.snippet_curl_output`` / ``snippet_python_output``
"""

from .provider import OpenAIProvider
from .wire import (FIELDS, PARTIAL_IMAGE_TOKENS, STANDARD_SIZES, VERIFY_HINT, answer_from, classify,
                   parse_usage, worst_image_tokens)

__all__ = ["OpenAIProvider", "FIELDS", "PARTIAL_IMAGE_TOKENS", "STANDARD_SIZES", "VERIFY_HINT",
           "answer_from", "classify", "parse_usage", "worst_image_tokens"]
