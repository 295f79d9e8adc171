"""A strict local fake of the OpenAI Images API and the Gemini generateContent API.

It is the judge of promptpaint's clients, not a mirror of them: it validates requests the way
the real services do (as far as their documentation and the official SDKs show), answers in
their wire formats, and injects their faults on demand.

    from fakeserver import FakeProviders, OPENAI_KEY, GEMINI_KEY
    with FakeProviders() as fake:
        fake.openai_base   # "http://127.0.0.1:PORT/v1"  (OPENAI_BASE_URL)
        fake.gemini_base   # "http://127.0.0.1:PORT"     (GOOGLE_GEMINI_BASE_URL)
        fake.fault("openai", "rate_limit", retry_after_ms=20)
        ...
        fake.requests      # list[RecordedRequest]

Request processing order for each request to a provider route:
  1. record the request;  2. pop ONE queued fault for that provider (FIFO), if any;
  3. an ``auth`` fault answers now;  4. the API key is checked (a bad key wins over other faults);
  5. a ``slow`` fault sleeps;  6. "transport/HTTP" faults answer now (rate limits,
  server errors, non_json, truncated, status, org_unverified, permission, ...);
  7. the request is validated (400/404 like the real API);  8. "outcome" faults answer now
  (openai ``moderation``; gemini ``image_safety``, ``blocked``, ``text_only``);  9. success.
``fake.latency`` seconds are slept before EVERY answer (errors included).
A queued fault is consumed by the request even when that request fails earlier (bad key, 400).
"""

from __future__ import annotations

import base64
import binascii
import collections
import email.message
import email.utils
import functools
import hashlib
import io
import json
import math
import re
import secrets
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

import fakestream  # tests/fakestream.py: streamed answers, their delays and faults

__all__ = [
    "FakeProviders",
    "RecordedRequest",
    "OPENAI_KEY",
    "GEMINI_KEY",
    "colour_for",
    "OPENAI_FAULTS",
    "GEMINI_FAULTS",
    "DEFAULT_OPENAI_USAGE",
    "DEFAULT_GEMINI_USAGE",
    "Bill",
    "ODD_USAGE",
]

OPENAI_KEY = "sk-test-openai-0123456789abcdef"
GEMINI_KEY = "AIza-test-gemini-0123456789abcdef"

# Overrides of today's token counts (below), per provider: e.g. fake.usage["openai"]["text_tokens"] = 40.
# OpenAI keys: text_tokens, image_tokens_per_input_image, output_tokens_per_image.
# Gemini keys: text_tokens, image_tokens_per_input_image, output_image_tokens, output_text_tokens,
# thoughts_tokens. Empty: the fake counts like the provider does today.
DEFAULT_OPENAI_USAGE: dict = {}
DEFAULT_GEMINI_USAGE: dict = {}

# ----------------------------------------------------------------------------- what the providers bill
# Copied from shared/reference/providers.md (corrected 2026-11-25), NOT from promptpaint's registry:
# the fake is the judge of the client's arithmetic, so it keeps its own tables.
# OpenAI output tokens per image: (per-image price) / (image-out rate).
OPENAI_IMAGE_TOKENS = {
    "gpt-image-2": {"1024x1024": {"low": 200, "medium": 1767, "high": 7033},
                    "1536x1024": {"low": 167, "medium": 1367, "high": 5500},
                    "1024x1536": {"low": 167, "medium": 1367, "high": 5500}},
    "gpt-image-1.5": {"1024x1024": {"low": 281, "medium": 1063, "high": 4156}},
    "gpt-image-1-mini": {"1024x1024": {"low": 625, "medium": 1375, "high": 4500},
                         "1536x1024": {"low": 750, "medium": 1875, "high": 6500},
                         "1024x1536": {"low": 750, "medium": 1875, "high": 6500}},
}
# xhigh/max have no published figure: the fake bills them well above high, as a model may.
OPENAI_EXTRA_QUALITY = {"xhigh": 2, "max": 4}
# USD per 1M tokens: text in, cached text in, image in, cached image in, text out, image out.
PRICES = {
    "gpt-image-2": (5, 1.25, 8, 2, 10, 30),
    "gpt-image-1.5": (5, 1.25, 8, 8, 10, 32),
    "gpt-image-1-mini": (2, 0.2, 2.5, 0.25, 8, 8),
    "gemini-3.1-flash-image": (0.5, 0.5, 0.5, 0.5, 3, 60),
    "gemini-3.1-flash-lite-image": (0.25, 0.25, 0.25, 0.25, 1.5, 30),
    "gemini-3-pro-image": (2, 2, 2, 2, 12, 120),
    "gemini-2.5-flash-image": (0.3, 0.3, 0.3, 0.3, 2.5, 30),
}
GEMINI_IMAGE_TOKENS = {
    "gemini-3.1-flash-image": {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
    "gemini-3.1-flash-lite-image": {"1K": 1120, "2K": 1680, "4K": 2520},
    "gemini-3-pro-image": {"1K": 1120, "2K": 1120, "4K": 2000},
    "gemini-2.5-flash-image": {"1K": 1290, "2K": 1290, "4K": 1290},
}
GEMINI_INPUT_IMAGE_TOKENS = {"gemini-2.5-flash-image": 258}  # Gemini 3: 1120 each
GEMINI_OUTPUT_LIMIT = 32768
# Thinking is on by default on the Gemini 3 image models: seen from a few hundred to over a thousand.
GEMINI_THOUGHTS = {"gemini-3.1-flash-image": 900, "gemini-3.1-flash-lite-image": 600,
                   "gemini-3-pro-image": 1300, "gemini-2.5-flash-image": 0}
ODD_USAGE = ("fraction", "string", "null", "negative", "huge")


def openai_family(model: str) -> str:
    if model.startswith(("gpt-image-2", "gpt-image-2.5", "gpt-image-2.6")):
        return "gpt-image-2"
    return "gpt-image-1.5" if model in ("gpt-image-1.5", "chatgpt-image-latest") else model


def openai_input_image_tokens(w: int, h: int) -> int:
    """Tiled like vision input: fit in 2048x2048, short side to 768, 170 per 512-px tile + 85."""
    scale = min(1.0, 2048 / max(w, h))
    w, h = w * scale, h * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def text_tokens(text: str, worst: bool = False) -> int:
    """About 4 ASCII characters a token and one token a non-ASCII character; at worst a byte each."""
    if worst:
        return len(text.encode("utf-8"))
    return sum(1 for c in text if ord(c) > 127) + math.ceil(sum(1 for c in text if ord(c) <= 127) / 4)


@dataclass
class Bill:
    """One call as the provider books it: what it charged, whether or not the client heard back."""

    provider: str
    model: str
    request_id: str
    usage: dict  # the honest counts, in the provider's own wire names
    cost: Decimal
    fault: str | None = None

OPENAI_FAULTS = (
    "auth", "org_unverified", "moderation", "rate_limit", "quota", "server_error",
    "non_json", "truncated", "slow", "status", "drop_after_read", "odd_usage",
)
GEMINI_FAULTS = (
    "auth", "permission", "rate_limit", "free_tier", "server_error", "image_safety",
    "blocked", "text_only", "non_json", "truncated", "slow", "status", "drop_after_read", "odd_usage",
)
# Faults that strike after the provider did (and billed) the work: the answer is lost or garbled.
#   truncated: the body is cut off (mode "close_early" or "cut_json"); drop_after_read: the
#   connection closes without an answer; odd_usage: kind= one of ODD_USAGE in the usage counts.
_BILLED_FAULTS = {"truncated", "drop_after_read", "odd_usage"}
_OPENAI_OUTCOME_FAULTS = {"moderation"}
_GEMINI_OUTCOME_FAULTS = {"image_safety", "blocked", "text_only"}

# ----------------------------------------------------------------------------- OpenAI facts
OPENAI_CURRENT_MODELS = (
    "gpt-image-2", "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst", "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-flare-2026-09-08",
    "gpt-image-2.6-sunburst", "gpt-image-2.6-flare",
    "gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest",
)
OPENAI_RETIRED_MODELS = ("gpt-image-1", "dall-e-2", "dall-e-3")
OPENAI_STANDARD_SIZES = ("1024x1024", "1536x1024", "1024x1536")
OPENAI_GENERATE_PARAMS = frozenset({
    "prompt", "background", "complexity", "frame_count", "frame_duration_ms", "model", "moderation", "n",
    "output_compression", "output_format", "partial_images", "quality", "response_format",
    "safety_identifier", "size", "stream", "style", "svg", "user",
})
OPENAI_EDIT_TEXT_PARAMS = frozenset({
    "prompt", "background", "complexity", "frame_count", "frame_duration_ms", "input_fidelity", "model", "n",
    "output_compression", "output_format", "partial_images", "quality", "response_format",
    "safety_identifier", "size", "stream", "svg[model]", "svg[reasoning][effort]", "user",
})
OPENAI_EDIT_FILE_PARAMS = frozenset({"image", "image[]", "mask", "markup"})
MASK_MAX_BYTES = 4 * 1024 * 1024


def _openai_flexible_sizes(model: str) -> bool:
    return model.startswith(("gpt-image-2-", "gpt-image-2.5-", "gpt-image-2.6-")) or model == "gpt-image-2"


def _openai_extra_qualities(model: str) -> bool:
    return model.startswith(("gpt-image-2.5-", "gpt-image-2.6-"))


def _openai_markup_ok(model: str) -> bool:
    return model.startswith(("gpt-image-2.5-", "gpt-image-2.6-"))


# ----------------------------------------------------------------------------- Gemini facts
GEMINI_BASE_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
GEMINI_MODELS: dict[str, dict[str, tuple[str, ...]]] = {
    "gemini-3.1-flash-image": {
        "ratios": GEMINI_BASE_RATIOS + ("1:4", "4:1", "1:8", "8:1"),
        "sizes": ("512", "1K", "2K", "4K"),
    },
    "gemini-3.1-flash-lite-image": {"ratios": GEMINI_BASE_RATIOS, "sizes": ("1K", "2K", "4K")},
    "gemini-3-pro-image": {"ratios": GEMINI_BASE_RATIOS, "sizes": ("1K", "2K", "4K")},
    "gemini-2.5-flash-image": {"ratios": GEMINI_BASE_RATIOS, "sizes": ("1K", "2K", "4K")},
}
GEMINI_LONG_SIDE = {"512": 512, "1K": 1024, "2K": 2048, "4K": 4096}
GEMINI_IMAGE_MIMES = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif")
GEMINI_FILE_PREFIX = "https://generativelanguage.googleapis.com/"
# Gemini's documented dummy signatures for history that was not produced by the model.
GEMINI_DUMMY_SIGNATURES = ("context_engineering_is_the_way_to_go", "skip_thought_signature_validator")
_HARM_CATEGORIES = {
    "HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_CIVIC_INTEGRITY",
    "HARM_CATEGORY_JAILBREAK", "HARM_CATEGORY_IMAGE_HATE", "HARM_CATEGORY_IMAGE_DANGEROUS_CONTENT",
    "HARM_CATEGORY_IMAGE_HARASSMENT", "HARM_CATEGORY_IMAGE_SEXUALLY_EXPLICIT",
}
_HARM_THRESHOLDS = {
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF",
}

_ANY = object()  # schema leaf: accept anything, no key checking below it
_BLOB = {"mimeType": None, "data": None}
_FILEDATA = {"mimeType": None, "fileUri": None}
_PART = {
    "text": None, "inlineData": _BLOB, "fileData": _FILEDATA, "thought": None, "thoughtSignature": None,
    "functionCall": _ANY, "functionResponse": _ANY, "executableCode": _ANY, "codeExecutionResult": _ANY,
    "videoMetadata": _ANY, "mediaResolution": _ANY, "partMetadata": _ANY, "toolCall": _ANY,
    "toolResponse": _ANY,
}
_CONTENT = {"role": None, "parts": [_PART]}
_IMAGE_CONFIG = {"aspectRatio": None, "imageSize": None}
_THINKING = {"includeThoughts": None, "thinkingBudget": None, "thinkingLevel": None}
_GEN_CONFIG = {
    "temperature": None, "topP": None, "topK": None, "candidateCount": None, "maxOutputTokens": None,
    "stopSequences": None, "responseLogprobs": None, "logprobs": None, "presencePenalty": None,
    "frequencyPenalty": None, "seed": None, "responseMimeType": None, "responseSchema": _ANY,
    "responseJsonSchema": _ANY, "responseModalities": None, "mediaResolution": None, "speechConfig": _ANY,
    "thinkingConfig": _THINKING, "imageConfig": _IMAGE_CONFIG, "enableEnhancedCivicAnswers": None,
    "audioTranscriptionConfig": _ANY,
}
_SAFETY = {"category": None, "threshold": None}
_REQUEST = {
    "model": None, "contents": [_CONTENT], "generationConfig": _GEN_CONFIG, "safetySettings": [_SAFETY],
    "systemInstruction": _CONTENT, "tools": _ANY, "toolConfig": _ANY, "cachedContent": None,
    "serviceTier": None, "store": None, "labels": _ANY, "continuationToken": None,
}


# ----------------------------------------------------------------------------- helpers
class CaseInsensitiveDict(dict):
    """Minimal case-insensitive header mapping (keys are stored lower-cased)."""

    def __init__(self, items=()):
        super().__init__()
        for k, v in items:
            self[k] = v

    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


@dataclass
class RecordedRequest:
    provider: str | None  # "openai" | "gemini" | None (unrouted)
    method: str
    path: str  # without the query string
    query: dict  # name -> last value
    headers: CaseInsensitiveDict
    raw: bytes
    json: Any = None
    form: dict = field(default_factory=dict)  # multipart text fields: name -> list[str]
    files: dict = field(default_factory=dict)  # multipart files: name -> list[(filename, content_type, bytes)]
    key_source: str | None = None  # gemini: "header" | "query" | None ; openai: "bearer" | None
    fault: str | None = None  # the fault consumed by this request, if any
    status: int | None = None  # status code the fake answered with
    response_json: Any = None  # the JSON the fake answered with (None for non-JSON answers)
    multipart_error: str | None = None  # why a multipart/form-data body could not be parsed

    @property
    def model(self) -> str | None:
        if self.provider == "gemini":
            m = re.search(r"/models/([^/:]+):", self.path)
            return m.group(1) if m else None
        if self.json and isinstance(self.json, dict):
            return self.json.get("model")
        vals = self.form.get("model")
        return vals[-1] if vals else None


def colour_for(text: str) -> tuple[int, int, int]:
    """The fill colour of generated images: the first three bytes of sha256(text, UTF-8)."""
    d = hashlib.sha256(text.encode("utf-8")).digest()
    return (d[0], d[1], d[2])


def marker_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return (255 - rgb[0], 255 - rgb[1], 255 - rgb[2])


@functools.lru_cache(maxsize=128)
def render_image(width: int, height: int, rgb: tuple, index: int = 0, fmt: str = "png",
                 transparent: bool = False, compression: int = 100) -> bytes:
    """Solid fill of ``rgb`` with a marker in the top-left corner: a bar 8 px tall and
    8*(index+1) px wide (clipped to the image) in the inverted colour. Transparent PNG/WebP:
    RGBA with the fill at alpha 0 and the marker opaque."""
    if transparent:
        img = Image.new("RGBA", (width, height), tuple(rgb) + (0,))
        mark = marker_colour(rgb) + (255,)
    else:
        img = Image.new("RGB", (width, height), tuple(rgb))
        mark = marker_colour(rgb)
    ImageDraw.Draw(img).rectangle([0, 0, min(width, 8 * (index + 1)) - 1, min(height, 8) - 1], fill=mark)
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", compress_level=1)
    elif fmt == "jpeg":
        img.convert("RGB").save(buf, "JPEG", quality=max(1, min(95, compression)))
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=max(1, min(100, compression)))
    else:  # pragma: no cover
        raise ValueError(fmt)
    return buf.getvalue()


def _b64decode_lenient(s: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not (as Google's JSON parser does)."""
    if not isinstance(s, str):
        raise ValueError("not a string")
    t = s.strip().replace("-", "+").replace("_", "/")
    if re.search(r"[^A-Za-z0-9+/=]", t):
        raise ValueError("bad base64 characters")
    t = t.rstrip("=")
    t += "=" * (-len(t) % 4)
    return base64.b64decode(t, validate=True)


def _open_image(data: bytes) -> Image.Image | None:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        return img
    except Exception:
        return None


def _has_alpha(img: Image.Image) -> bool:
    return "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _mask_key(key: str) -> str:
    if len(key) <= 11:
        return key[:3] + "*" * max(1, len(key) - 3)
    return key[:7] + "*" * (len(key) - 11) + key[-4:]


def _parse_multipart(body: bytes, boundary: bytes):
    """Returns (form, files) or raises ValueError."""
    form: dict[str, list[str]] = {}
    files: dict[str, list[tuple[str, str, bytes]]] = {}
    delim = b"\r\n--" + boundary
    chunks = (b"\r\n" + body).split(delim)
    if len(chunks) < 3:
        raise ValueError("no multipart parts")
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if not chunk.startswith(b"\r\n"):
            raise ValueError("malformed multipart boundary line")
        head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("malformed multipart part")
        msg = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                msg[k.strip()] = v.strip()
        disp = msg.get("content-disposition")
        if not disp or msg.get_content_disposition() != "form-data":
            raise ValueError("part without Content-Disposition: form-data")
        name = msg.get_param("name", header="content-disposition")
        filename = msg.get_param("filename", header="content-disposition")
        if name is None:
            raise ValueError("part without a name")
        name = email.utils.collapse_rfc2231_value(name)
        if filename is not None:
            filename = email.utils.collapse_rfc2231_value(filename)
            ctype = msg.get("content-type", "application/octet-stream")
            files.setdefault(name, []).append((filename, ctype, content))
        else:
            form.setdefault(name, []).append(content.decode("utf-8"))
    else:
        raise ValueError("multipart body without closing boundary")
    return form, files



def _odd_usage(usage: dict, kind: str, provider: str) -> None:
    """Report the counts the way a broken gateway might. ``fraction`` shaves half a token off each
    count (the honest bill is the count rounded up); ``string`` quotes them; ``null``, ``negative``
    and ``huge`` break the output count, which a client must not trust."""
    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, int) and not isinstance(v, bool):
                    node[k] = (v - 0.5 if v else 0.0) if kind == "fraction" else str(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    if kind in ("fraction", "string"):
        walk(usage)
        return
    key = "output_tokens" if provider == "openai" else "candidatesTokenCount"
    usage[key] = {"null": None, "negative": -abs(usage.get(key) or 1), "huge": 10 ** 13}[kind]


class _Answer:
    """A response the handler will send."""

    def __init__(self, status: int, body: Any = None, headers: dict | None = None,
                 content_type: str = "application/json", truncate: str | None = None):
        self.status = status
        self.headers = dict(headers or {})
        self.truncate = truncate
        self.drop = False  # close the connection without answering
        if isinstance(body, (dict, list)):
            self.json = body
            self.body = json.dumps(body).encode()
        else:
            self.json = None
            self.body = body.encode() if isinstance(body, str) else (body or b"")
        self.content_type = content_type


class _BadRequest(Exception):
    def __init__(self, answer: _Answer):
        self.answer = answer


# ----------------------------------------------------------------------------- the server
class FakeProviders:
    """Both providers on one ThreadingHTTPServer bound to 127.0.0.1:<ephemeral port>."""

    def __init__(self, *, keys=None, latency: float = 0.0, host: str = "127.0.0.1"):
        self.keys: set[str] = set(keys) if keys is not None else {OPENAI_KEY, GEMINI_KEY}
        self.latency = latency
        self.usage: dict[str, dict[str, int]] = {
            "openai": dict(DEFAULT_OPENAI_USAGE),
            "gemini": dict(DEFAULT_GEMINI_USAGE),
        }
        self.openai_models: set[str] = set(OPENAI_CURRENT_MODELS)
        self.openai_retired: set[str] = set(OPENAI_RETIRED_MODELS)
        self.gemini_models: dict[str, dict] = {k: dict(v) for k, v in GEMINI_MODELS.items()}
        self._billing_defaults()
        self.billed: list[Bill] = []  # what the provider charged, per request, answered or not
        self.requests: list[RecordedRequest] = []
        self.streaming = fakestream.Streaming(self)  # delays and faults of streamed answers
        self.server_errors: list[str] = []  # tracebacks of bugs inside the fake itself
        self.issued_signatures: dict[bytes, str] = {}  # decoded signature -> sha256 of its image
        self._faults: dict[str, collections.deque] = {"openai": collections.deque(), "gemini": collections.deque()}
        self._lock = threading.Lock()
        self._host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        from fakebatch import FakeBatches  # the Batch APIs live in their own module

        self.batches = FakeBatches(self)

    def _billing_defaults(self) -> None:
        self.auto_quality = "medium"        # what quality="auto" turns out to be
        self.worst_case = False             # answer with the largest usage the provider may bill
        self.openai_cached_tokens = 0       # reported as input_tokens_details.cached_tokens
        self.gemini_tool_use_tokens = 0     # reported as toolUsePromptTokenCount
        self.gemini_unitemised_tokens = 0   # in candidatesTokenCount but in no modality

    def bill_total(self, provider: str | None = None) -> Decimal:
        with self._lock:
            return sum((b.cost for b in self.billed if provider in (None, b.provider)), Decimal(0))

    def _bill(self, provider: str, model: str, request_id: str, usage: dict, fault: str | None) -> None:
        t_in, ct_in, i_in, ci_in, t_out, i_out = (Decimal(str(x)) for x in PRICES[
            openai_family(model) if provider == "openai" else model])
        if provider == "openai":
            d = usage.get("input_tokens_details", {})
            cached = d.get("cached_tokens", 0)
            c_text = min(cached, d["text_tokens"])
            out = usage.get("output_tokens_details", {})
            total = ((d["text_tokens"] - c_text) * t_in + c_text * ct_in + d["image_tokens"] * i_in
                     + out.get("text_tokens", 0) * t_out + out.get("image_tokens", 0) * i_out)
        else:
            pd = {x["modality"]: x["tokenCount"] for x in usage.get("promptTokensDetails", [])}
            cd = {x["modality"]: x["tokenCount"] for x in usage.get("candidatesTokensDetails", [])}
            out_text = usage.get("candidatesTokenCount", 0) - cd.get("IMAGE", 0)
            total = ((pd.get("TEXT", 0) + usage.get("toolUsePromptTokenCount", 0)) * t_in
                     + pd.get("IMAGE", 0) * i_in
                     + (out_text + usage.get("thoughtsTokenCount", 0)) * t_out + cd.get("IMAGE", 0) * i_out)
        with self._lock:
            self.billed.append(Bill(provider, model, request_id, usage, total / 1_000_000, fault))

    # -- lifecycle
    def start(self) -> "FakeProviders":
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        server = ThreadingHTTPServer((self._host, 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="fakeproviders", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    close = stop

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def openai_base(self) -> str:
        return self.base + "/v1"

    @property
    def gemini_base(self) -> str:
        return self.base

    # -- faults
    def fault(self, provider: str, name: str, **kw) -> None:
        names = {"openai": OPENAI_FAULTS, "gemini": GEMINI_FAULTS}.get(provider)
        if names is None:
            raise ValueError(f"unknown provider {provider!r}")
        if name not in names:
            raise ValueError(f"unknown {provider} fault {name!r}; known: {', '.join(names)}")
        with self._lock:
            self._faults[provider].append((name, kw))

    def pending_faults(self, provider: str) -> list:
        with self._lock:
            return list(self._faults[provider])

    def clear_faults(self) -> None:
        with self._lock:
            for q in self._faults.values():
                q.clear()

    def _pop_fault(self, provider: str):
        with self._lock:
            q = self._faults[provider]
            return q.popleft() if q else None

    # -- inspection helpers
    def by_provider(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    def last(self, provider: str | None = None) -> RecordedRequest:
        reqs = self.requests if provider is None else self.by_provider(provider)
        if not reqs:
            raise LookupError(f"no recorded {provider or ''} request")
        return reqs[-1]

    def reset(self) -> None:
        """Forget recorded requests and queued faults; restore default usage and latency."""
        self.clear_faults()
        with self._lock:
            self.requests.clear()
            self.server_errors.clear()
            self.billed.clear()
        self.usage["openai"] = dict(DEFAULT_OPENAI_USAGE)
        self.usage["gemini"] = dict(DEFAULT_GEMINI_USAGE)
        self._billing_defaults()
        self.latency = 0.0
        self.streaming.reset()

    @staticmethod
    def colour_for(text: str) -> tuple[int, int, int]:
        return colour_for(text)

    @staticmethod
    def gemini_size(aspect_ratio: str = "1:1", image_size: str = "1K") -> tuple[int, int]:
        long_side = GEMINI_LONG_SIDE[image_size]
        w, h = (int(x) for x in aspect_ratio.split(":"))
        if w >= h:
            return long_side, max(1, round(long_side * h / w))
        return max(1, round(long_side * w / h)), long_side

    # ======================================================================= OpenAI
    def _openai_error(self, status, message, *, type="invalid_request_error", param=None, code=None,
                      headers=None) -> _Answer:
        return _Answer(status, {"error": {"message": message, "type": type, "param": param, "code": code}},
                       headers=headers)

    def _openai_headers(self, req: RecordedRequest) -> dict:
        return {
            "x-request-id": req._request_id,  # type: ignore[attr-defined]
            "openai-version": "2020-10-01",
            "openai-processing-ms": "7",
            "openai-organization": "org-fakeproviders",
        }

    def _handle_openai(self, req: RecordedRequest) -> _Answer:
        req._request_id = "req_" + secrets.token_hex(16)  # type: ignore[attr-defined]
        if req.path not in ("/v1/images/generations", "/v1/images/edits"):
            return self._openai_error(404, f"Invalid URL ({req.method} {req.path})", code=None)
        if req.method != "POST":
            return self._openai_error(405, f"Invalid method for URL ({req.method} {req.path})")
        fault = self._pop_fault("openai")
        name, kw = fault if fault else (None, {})
        req.fault = name
        auth = req.headers.get("authorization")
        if name == "auth":  # the server rejects the key the client sent (kw key= overrides what is echoed)
            sent = auth[7:].strip() if auth and auth.startswith("Bearer ") else ""
            return self._openai_bad_key(kw.get("key") or sent or "sk-none")
        if not auth or not auth.startswith("Bearer ") or not auth[7:].strip():
            return self._openai_error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
                "username) if you're accessing the API from your browser and are prompted for a username and "
                "password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            )
        req.key_source = "bearer"
        key = auth[7:].strip()
        if key not in self.keys:
            return self._openai_bad_key(key)
        self._sleep(name, kw)
        if name and name not in _OPENAI_OUTCOME_FAULTS and name != "slow" and not self._billed_fault(name, kw):
            return self._openai_fault(name, kw, req)
        try:
            if req.path.endswith("/generations"):
                params, images, mask, markup = self._openai_parse_generate(req), [], None, None
            else:
                params, images, mask, markup = self._openai_parse_edit(req)
            plan = self._openai_validate(params, images, mask, markup, edit=req.path.endswith("/edits"))
        except _BadRequest as e:
            return e.answer
        if name == "moderation":
            return self._openai_error(
                400,
                "Your request was rejected by the safety system. If you believe this is an error, contact us "
                f"at help.openai.com and include the request ID {req._request_id}.",  # type: ignore[attr-defined]
                type="image_generation_user_error", code="moderation_blocked",
            )
        answer = self._openai_success(params, plan, images, edit=req.path.endswith("/edits"))
        usage = answer.json["usage"] if answer.json else None
        if usage is not None:
            self._bill("openai", plan["model"], req._request_id, usage, name)  # type: ignore[attr-defined]
        return self._mangle(answer, name, kw, lambda body: body["usage"], "openai")

    def _openai_bad_key(self, key: str) -> _Answer:
        return self._openai_error(
            401,
            f"Incorrect API key provided: {_mask_key(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )

    def _openai_fault(self, name: str, kw: dict, req: RecordedRequest) -> _Answer:
        model = (req.model or "gpt-image-2")
        if name == "org_unverified":
            return self._openai_error(
                403,
                f"Your organization must be verified to use the model `{model}`. Please go to: "
                "https://platform.openai.com/settings/organization/general and click on Verify Organization. "
                "If you just verified, it can take up to 15 minutes for access to propagate.",
            )
        if name == "rate_limit":
            headers = {
                "x-ratelimit-limit-requests": "5", "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "12s", "x-ratelimit-limit-tokens": "100000",
                "x-ratelimit-remaining-tokens": "98944", "x-ratelimit-reset-tokens": "633ms",
            }
            ms = kw.get("retry_after_ms")
            if "retry_after" in kw:
                ra = kw["retry_after"]
            else:
                ra = math.ceil(ms / 1000) if ms is not None else 1
            if ra is not None:
                headers["retry-after"] = str(ra)
            if ms is not None:
                headers["retry-after-ms"] = str(ms)
            wait = f"{ms}ms" if ms is not None else f"{ra}s"
            return self._openai_error(
                429,
                f"Rate limit reached for {model} in organization org-fakeproviders on images per minute (IPM): "
                f"Limit 5, Used 5, Requested 1. Please try again in {wait}. Visit "
                "https://platform.openai.com/account/rate-limits to learn more.",
                type="requests", code="rate_limit_exceeded", headers=headers,
            )
        if name == "quota":
            return self._openai_error(
                429,
                "You exceeded your current quota, please check your plan and billing details. For more "
                "information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                type="insufficient_quota", code="insufficient_quota",
            )
        if name == "server_error":
            status = kw.get("status", 500)
            msg = {
                502: "Bad gateway.",
                503: "The server is overloaded or not ready yet.",
            }.get(status, "The server had an error while processing your request. Sorry about that!")
            return self._openai_error(status, msg, type="server_error")
        return self._common_fault(name, kw, "openai")

    def _common_fault(self, name: str, kw: dict, provider: str) -> _Answer:
        if name == "non_json":
            body = kw.get("body", "<html><head><title>Gateway</title></head><body><h1>Service "
                                  "temporarily unavailable</h1><p>Please try again.</p></body></html>")
            return _Answer(kw.get("status", 200), body, content_type=kw.get("content_type", "text/html; charset=utf-8"))
        if name == "truncated":
            b64 = base64.b64encode(render_image(64, 64, (10, 20, 30))).decode()
            if provider == "openai":
                default = {"created": int(time.time()), "data": [{"b64_json": b64}], "size": "64x64"}
            else:
                default = {"candidates": [{"content": {"role": "model", "parts": [
                    {"inlineData": {"mimeType": "image/png", "data": b64}}]}, "finishReason": "STOP", "index": 0}]}
            body = kw.get("body") or default
            return _Answer(200, body, truncate=kw.get("mode", "close_early"))
        if name == "status":
            body = kw.get("body", {})
            ctype = kw.get("content_type", "application/json" if isinstance(body, (dict, list)) else "text/plain")
            return _Answer(kw.get("code", 500), body, headers=kw.get("headers"), content_type=ctype)
        raise AssertionError(name)  # pragma: no cover

    def _openai_parse_generate(self, req: RecordedRequest) -> dict:
        ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
        if ctype.startswith("multipart/"):
            raise _BadRequest(self._openai_error(
                400, f"Invalid Content-Type header ({ctype}), expected application/json."))
        if req.json is None or not isinstance(req.json, dict):
            raise _BadRequest(self._openai_error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
                "JSON. If you have trouble figuring out how to fix this, please contact us through our help "
                "center at help.openai.com.)",
            ))
        for k in req.json:
            if k not in OPENAI_GENERATE_PARAMS:
                raise _BadRequest(self._unknown_param(k))
        return dict(req.json)

    def _unknown_param(self, k: str) -> _Answer:
        return self._openai_error(400, f"Unknown parameter: '{k}'.", param=k, code="unknown_parameter")

    def _openai_parse_edit(self, req: RecordedRequest):
        ctype = req.headers.get("content-type") or ""
        if not ctype.lower().startswith("multipart/form-data"):
            raise _BadRequest(self._openai_error(
                400,
                f"Invalid Content-Type header ({ctype.split(';')[0] or 'none'}), expected multipart/form-data. "
                "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')",
            ))
        if req.multipart_error or not (req.form or req.files):
            raise _BadRequest(self._openai_error(
                400, f"Could not parse multipart form: {req.multipart_error or 'empty body'}"))
        params: dict[str, Any] = {}
        for k, vals in req.form.items():
            if k in OPENAI_EDIT_FILE_PARAMS:
                raise _BadRequest(self._openai_error(
                    400, f"Invalid type for '{k.rstrip('[]')}': expected a file, but got a string instead.",
                    param=k.rstrip("[]"), code="invalid_type"))
            if k not in OPENAI_EDIT_TEXT_PARAMS:
                raise _BadRequest(self._unknown_param(k))
            params[k] = vals[-1]
        for k in req.files:
            if k not in OPENAI_EDIT_FILE_PARAMS:
                raise _BadRequest(self._unknown_param(k))
        for intkey in ("n", "output_compression", "partial_images", "frame_count", "frame_duration_ms"):
            if intkey in params:
                v = params[intkey]
                if not re.fullmatch(r"-?\d+", v.strip()):
                    raise _BadRequest(self._openai_error(
                        400, f"Invalid type for '{intkey}': expected an integer, but got a string instead.",
                        param=intkey, code="invalid_type"))
                params[intkey] = int(v)
        if "stream" in params:
            params["stream"] = params["stream"].strip().lower() == "true"
        uploads = req.files.get("image", []) + req.files.get("image[]", [])
        if not uploads:
            raise _BadRequest(self._openai_error(400, "Missing required parameter: 'image'.", param="image",
                                                 code="missing_required_parameter"))
        if len(uploads) > 16:
            raise _BadRequest(self._openai_error(
                400, f"Invalid 'image': array too long. Expected an array with maximum length 16, but got an array "
                     f"with length {len(uploads)} instead.", param="image", code="array_above_max_length"))
        images = []
        for i, (fname, ct, data) in enumerate(uploads):
            img = _open_image(data)
            if img is None or img.format not in ("PNG", "JPEG", "WEBP"):
                raise _BadRequest(self._openai_error(
                    400, f"Invalid image file or mode for image {i + 1}, please check your image file.",
                    param="image", code="invalid_image_format"))
            if len(data) > 50 * 1024 * 1024:
                raise _BadRequest(self._openai_error(400, f"Image {i + 1} is larger than 50 MB.", param="image",
                                                     code="image_too_large"))
            images.append(img)
        mask = markup = None
        if "mask" in req.files:
            if len(req.files["mask"]) != 1:
                raise _BadRequest(self._openai_error(400, "Only one 'mask' may be provided.", param="mask"))
            mdata = req.files["mask"][0][2]
            mimg = _open_image(mdata)
            if mimg is None or mimg.format != "PNG" or not _has_alpha(mimg):
                raise _BadRequest(self._openai_error(
                    400, "Invalid mask image format - mask image missing alpha channel", param="mask",
                    code="invalid_mask_image_format"))
            if len(mdata) >= MASK_MAX_BYTES:
                raise _BadRequest(self._openai_error(
                    400, "Invalid 'mask': the mask image must be less than 4 MB.", param="mask",
                    code="image_too_large"))
            if mimg.size != images[0].size:
                raise _BadRequest(self._openai_error(
                    400,
                    "Invalid mask image: the mask and the image must have the same dimensions "
                    f"(mask is {mimg.size[0]}x{mimg.size[1]}, image is {images[0].size[0]}x{images[0].size[1]}).",
                    param="mask", code="invalid_value"))
            mask = mimg
        if "markup" in req.files:
            kdata = req.files["markup"][0][2]
            kimg = _open_image(kdata)
            if kimg is None or kimg.format != "PNG" or not _has_alpha(kimg):
                raise _BadRequest(self._openai_error(
                    400, "Invalid markup image format - markup must be a transparent PNG", param="markup",
                    code="invalid_value"))
            if kimg.size != images[0].size:
                raise _BadRequest(self._openai_error(
                    400, "Invalid markup image: the markup and the first image must have the same dimensions.",
                    param="markup", code="invalid_value"))
            markup = kimg
        return params, images, mask, markup

    def _openai_validate(self, p: dict, images: list, mask, markup, *, edit: bool) -> dict:
        E = lambda msg, param, code="invalid_value": _BadRequest(self._openai_error(400, msg, param=param, code=code))  # noqa: E731
        model = p.get("model")
        if model is None or model == "":
            raise E("you must provide a model parameter", "model", None)
        if not isinstance(model, str):
            raise E("Invalid type for 'model': expected a string.", "model", "invalid_type")
        if model not in self.openai_models:
            raise _BadRequest(self._openai_error(
                404, f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found"))
        for legacy in ("response_format", "style"):
            if legacy in p:
                raise _BadRequest(self._unknown_param(legacy))
        prompt = p.get("prompt")
        if prompt is None:
            raise E("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        if not isinstance(prompt, str):
            raise E("Invalid type for 'prompt': expected a string.", "prompt", "invalid_type")
        if len(prompt) > 32000:
            raise E(f"Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got a "
                    f"string with length {len(prompt)} instead.", "prompt", "string_above_max_length")
        if prompt == "":
            raise E("Invalid 'prompt': empty string. Expected a string with minimum length 1.", "prompt",
                    "empty_string")

        def int_param(name, lo, hi, default):
            v = p.get(name, default)
            if v is None:
                return default
            if isinstance(v, bool) or not isinstance(v, int):
                raise E(f"Invalid type for '{name}': expected an integer, but got a {type(v).__name__} instead.",
                        name, "invalid_type")
            if v < lo:
                raise E(f"Invalid '{name}': integer below minimum value. Expected a value >= {lo}, but got {v} "
                        "instead.", name, "integer_below_min_value")
            if v > hi:
                raise E(f"Invalid '{name}': integer above maximum value. Expected a value <= {hi}, but got {v} "
                        "instead.", name, "integer_above_max_value")
            return v

        def enum_param(name, allowed, default):
            v = p.get(name, default)
            if v is None:
                return default
            if v not in allowed:
                quoted = [f"'{a}'" for a in allowed]
                listing = ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]
                raise E(f"Invalid value: '{v}'. Supported values are: {listing}.", name)
            return v

        n = int_param("n", 1, 10, 1)
        qualities = ["low", "medium", "high", "auto"] + (["xhigh", "max"] if _openai_extra_qualities(model) else [])
        quality = enum_param("quality", qualities, "auto")
        output_format = p.get("output_format") or "png"
        if output_format in ("gif", "svg"):
            raise E(f"output_format '{output_format}' requires preview access for model {model}.",
                    "output_format", None)
        output_format = enum_param("output_format", ["png", "jpeg", "webp"], "png")
        background = enum_param("background", ["transparent", "opaque", "auto"], "auto")
        if background == "transparent" and output_format == "jpeg":
            raise E("Transparent background is not supported for the jpeg output format. Use png or webp.",
                    "background", None)
        compression = int_param("output_compression", 0, 100, 100)
        if p.get("output_compression") is not None and output_format == "png" and compression != 100:
            raise E("Compression less than 100 is not supported for PNG output format.", "output_compression", None)
        if not edit:
            enum_param("moderation", ["low", "auto"], "auto")
        enum_param("complexity", ["low", "medium", "high"], None)
        int_param("partial_images", 0, 3, 0)
        for k in ("frame_count", "frame_duration_ms"):
            if p.get(k) is not None:
                raise E(f"'{k}' is only supported with output_format=gif.", k, None)
        if p.get("svg") is not None or "svg[model]" in p or "svg[reasoning][effort]" in p:
            raise E("'svg' is only supported with output_format=svg.", "svg", None)
        for k in ("user", "safety_identifier"):
            if p.get(k) is not None and not isinstance(p[k], str):
                raise E(f"Invalid type for '{k}': expected a string.", k, "invalid_type")
        if edit and "input_fidelity" in p:
            if model.startswith("gpt-image-2") and not model.startswith(("gpt-image-2.5", "gpt-image-2.6")):
                raise E(f"input_fidelity is not supported for model {model}.", "input_fidelity", None)
            enum_param("input_fidelity", ["high", "low"], None)
        if markup is not None:
            if not _openai_markup_ok(model):
                raise E(f"'markup' is not supported for model {model}.", "markup", None)
            if mask is not None:
                raise E("'markup' cannot be combined with 'mask'.", "markup", None)
        stream = p.get("stream")
        if stream is not None and not isinstance(stream, bool):
            raise E("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")

        # size
        size = p.get("size") or "auto"
        if size == "auto":
            w, h = images[0].size if (edit and images) else (1024, 1024)
        elif size in OPENAI_STANDARD_SIZES:
            w, h = (int(x) for x in size.split("x"))
        else:
            m = re.fullmatch(r"(\d+)x(\d+)", str(size))
            if not _openai_flexible_sizes(model) or not m:
                raise E(f"Invalid value: '{size}'. Supported values are: '1024x1024', '1024x1536', '1536x1024', "
                        "and 'auto'.", "size")
            w, h = int(m.group(1)), int(m.group(2))
            problem = None
            if w % 16 or h % 16 or w <= 0 or h <= 0:
                problem = "width and height must both be divisible by 16"
            elif max(w, h) > 3 * min(w, h):
                problem = "the aspect ratio must be between 1:3 and 3:1"
            elif max(w, h) > 3840 or min(w, h) > 2160:
                problem = "the maximum supported resolution is 3840x2160"
            if problem:
                raise E(f"Invalid size '{size}': {problem}.", "size")
        return {"model": model, "n": n, "quality": quality, "output_format": output_format,
                "background": background, "compression": compression, "w": w, "h": h,
                "stream": bool(stream), "partial_images": p.get("partial_images") or 0, "prompt": prompt}

    @staticmethod
    def _billed_fault(name: str | None, kw: dict) -> bool:
        return name in _BILLED_FAULTS and not (name == "truncated" and "body" in kw)

    def _mangle(self, answer: _Answer, name: str | None, kw: dict, usage_of, provider: str) -> _Answer:
        """Apply a fault that strikes after the work was done (and billed)."""
        if not self._billed_fault(name, kw):
            return answer
        # A streamed answer (no JSON body) breaks the same ways: fakestream turns these into a
        # connection lost before or during the events.
        if name == "drop_after_read":
            answer.drop = True
        elif name == "truncated":
            answer.truncate = kw.get("mode", "close_early")
        elif name == "odd_usage" and answer.json is not None:
            body = json.loads(json.dumps(answer.json))
            _odd_usage(usage_of(body), kw.get("kind", "string"), provider)
            answer = _Answer(answer.status, body, headers=answer.headers, content_type=answer.content_type)
        return answer

    def _openai_output_tokens(self, model: str, quality: str, w: int, h: int) -> int:
        table = OPENAI_IMAGE_TOKENS[openai_family(model)]
        factor = OPENAI_EXTRA_QUALITY.get(quality, 1)
        q = "high" if factor > 1 else quality
        size = f"{w}x{h}"
        if size in table:
            return table[size][q] * factor
        return math.ceil(table["1024x1024"][q] * w * h / (1024 * 1024)) * factor

    def _openai_success(self, p: dict, plan: dict, inputs: list, *, edit: bool) -> _Answer:
        u = self.usage["openai"]
        n_inputs = len(inputs)
        rgb = colour_for(plan["prompt"])
        transparent = plan["background"] == "transparent"
        images = [
            base64.b64encode(render_image(plan["w"], plan["h"], rgb, i, plan["output_format"], transparent,
                                          plan["compression"])).decode()
            for i in range(plan["n"])
        ]
        quality = plan["quality"]
        if quality == "auto":
            quality = "high" if self.worst_case else self.auto_quality
        text_t = u.get("text_tokens", 9 + text_tokens(plan["prompt"], self.worst_case))
        if "image_tokens_per_input_image" in u:
            img_t = u["image_tokens_per_input_image"] * n_inputs if edit else 0
        else:
            img_t = sum(openai_input_image_tokens(*im.size) for im in inputs) if edit else 0
        per_image = u.get("output_tokens_per_image") or self._openai_output_tokens(
            plan["model"], quality, plan["w"], plan["h"])
        out_t = per_image * plan["n"]
        usage = {
            "input_tokens": text_t + img_t,
            "input_tokens_details": {"text_tokens": text_t, "image_tokens": img_t},
            "output_tokens": out_t,
            "total_tokens": text_t + img_t + out_t,
            "output_tokens_details": {"image_tokens": out_t, "text_tokens": 0},
        }
        if self.openai_cached_tokens:
            usage["input_tokens_details"]["cached_tokens"] = min(self.openai_cached_tokens, text_t)
        background = "transparent" if transparent else "opaque"
        size = f"{plan['w']}x{plan['h']}"
        created = int(time.time())
        if plan["stream"]:
            prefix = "image_edit" if edit else "image_generation"
            events = []
            for b64 in images:
                for k in range(plan["partial_images"]):
                    events.append((f"{prefix}.partial_image", {
                        "type": f"{prefix}.partial_image", "b64_json": b64, "partial_image_index": k,
                        "background": background, "created_at": created, "output_format": plan["output_format"],
                        "quality": quality, "size": size}))
                events.append((f"{prefix}.completed", {
                    "type": f"{prefix}.completed", "b64_json": b64, "background": background, "created_at": created,
                    "output_format": plan["output_format"], "quality": quality, "size": size, "usage": usage}))
            body = "".join(f"event: {ev}\ndata: {json.dumps(d)}\n\n" for ev, d in events)
            return _Answer(200, body, content_type="text/event-stream; charset=utf-8")
        return _Answer(200, {
            "created": created,
            "data": [{"b64_json": b} for b in images],
            "usage": usage,
            "size": size,
            "quality": quality,
            "output_format": plan["output_format"],
            "background": background,
        })

    # ======================================================================= Gemini
    @staticmethod
    def _gemini_error(code: int, status: str, message: str, details: list | None = None,
                      headers: dict | None = None) -> _Answer:
        err = {"code": code, "message": message, "status": status}
        if details:
            err["details"] = details
        return _Answer(code, {"error": err}, headers=headers, content_type="application/json; charset=UTF-8")

    def _gemini_bad_key(self) -> _Answer:
        msg = "API key not valid. Please pass a valid API key."
        return self._gemini_error(400, "INVALID_ARGUMENT", msg, [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": msg},
        ])

    def _handle_gemini(self, req: RecordedRequest) -> _Answer:
        m = re.fullmatch(r"/(v1beta|v1|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)", req.path)
        if not m:
            return self._gemini_error(404, "NOT_FOUND", f"Method not found: {req.method} {req.path}")
        version, model, method = m.groups()
        if req.method != "POST":
            return self._gemini_error(405, "METHOD_NOT_ALLOWED", f"Method {req.method} not allowed")
        fault = self._pop_fault("gemini")
        name, kw = fault if fault else (None, {})
        req.fault = name
        if name == "auth":
            return self._gemini_bad_key()
        header_key = req.headers.get("x-goog-api-key")
        query_key = req.query.get("key")
        key = header_key if header_key is not None else query_key
        req.key_source = "header" if header_key is not None else ("query" if query_key is not None else None)
        if not key:
            return self._gemini_error(
                403, "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use "
                "API Key or other form of API consumer identity to call this API.")
        if key not in self.keys:
            return self._gemini_bad_key()
        self._sleep(name, kw)
        if name and name not in _GEMINI_OUTCOME_FAULTS and name != "slow" and not self._billed_fault(name, kw):
            return self._gemini_fault(name, kw, model)
        if model not in self.gemini_models:
            return self._gemini_error(
                404, "NOT_FOUND",
                f"models/{model} is not found for API version {version}, or is not supported for generateContent. "
                "Call ListModels to see the list of available models and their supported methods.")
        try:
            plan = self._gemini_validate(req, model)
        except _BadRequest as e:
            return e.answer
        answer_json = self._gemini_answer(model, plan, name, kw)
        self._bill("gemini", model, answer_json["responseId"], answer_json["usageMetadata"], name)
        if self._billed_fault(name, kw):
            return self._mangle(_Answer(200, answer_json, content_type="application/json; charset=UTF-8"),
                                name, kw, lambda body: body["usageMetadata"], "gemini")
        if method == "streamGenerateContent":
            if req.query.get("alt") == "sse":
                return _Answer(200, f"data: {json.dumps(answer_json)}\r\n\r\n",
                               content_type="text/event-stream")
            return _Answer(200, [answer_json], content_type="application/json; charset=UTF-8")
        return _Answer(200, answer_json, content_type="application/json; charset=UTF-8")

    def _gemini_fault(self, name: str, kw: dict, model: str) -> _Answer:
        if name == "permission":
            return self._gemini_error(
                403, "PERMISSION_DENIED",
                kw.get("message",
                       "Generative Language API has not been used in project 000000000000 before or it is disabled. "
                       "Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage."
                       "googleapis.com/overview?project=000000000000 then retry. If you enabled this API recently, "
                       "wait a few minutes for the action to propagate to our systems and retry."),
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
                  "domain": "googleapis.com",
                  "metadata": {"service": "generativelanguage.googleapis.com", "consumer": "projects/000000000000"}}])
        if name in ("rate_limit", "free_tier"):
            delay = kw.get("retry_delay", "1s")
            free = name == "free_tier"
            metric = ("generativelanguage.googleapis.com/generate_content_free_tier_requests" if free else
                      "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count")
            quota_id = ("GenerateRequestsPerDayPerProjectPerModel-FreeTier" if free else
                        "GenerateContentPaidTierInputTokensPerModelPerMinute")
            limit = "0" if free else "1000000"
            msg = ("You exceeded your current quota, please check your plan and billing details. For more "
                   "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To "
                   "monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n"
                   f"* Quota exceeded for metric: {metric}, limit: {limit}, model: {model}\n"
                   f"Please retry in {delay}.")
            return self._gemini_error(429, "RESOURCE_EXHAUSTED", msg, [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                    {"quotaMetric": metric, "quotaId": quota_id,
                     "quotaDimensions": {"location": "global", "model": model}, "quotaValue": limit}]},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": [
                    {"description": "Learn more about Gemini API quotas",
                     "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ])
        if name == "server_error":
            status = kw.get("status", 500)
            st, msg = {
                503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
                504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
                502: ("UNAVAILABLE", "Bad gateway."),
            }.get(status, ("INTERNAL", "An internal error has occurred. Please retry or report in "
                                       "https://developers.generativeai.google/guide/troubleshooting"))
            return self._gemini_error(status, st, msg)
        return self._common_fault(name, kw, "gemini")

    # -- validation
    def _normalise(self, obj, schema, path: str):
        """Convert snake_case keys to lowerCamelCase, rejecting unknown names like the real parser."""
        if schema is _ANY or schema is None:
            return obj
        if isinstance(schema, list):
            if not isinstance(obj, list):
                raise self._invalid(f"Invalid JSON payload received. Expected an array at '{path}'.")
            return [self._normalise(x, schema[0], f"{path}[{i}]") for i, x in enumerate(obj)]
        if not isinstance(obj, dict):
            where = f" at '{path}'" if path else ""
            raise self._invalid(f"Invalid JSON payload received. Expected an object{where}.")
        out = {}
        for k, v in obj.items():
            ck = _camel(k)
            if ck not in schema:
                where = f" at '{path}'" if path else ""
                raise self._invalid(f'Invalid JSON payload received. Unknown name "{k}"{where}: Cannot find field.')
            if ck in out:
                raise self._invalid(f'Invalid JSON payload received. Duplicate field "{k}"'
                                    + (f" at '{path}'." if path else "."))
            sub_path = (path + "." if path else "") + _snake(ck)
            out[ck] = self._normalise(v, schema[ck], sub_path)
        return out

    def _invalid(self, message: str) -> _BadRequest:
        return _BadRequest(self._gemini_error(400, "INVALID_ARGUMENT", message))

    def _gemini_validate(self, req: RecordedRequest, model: str) -> dict:
        if req.json is None:
            raise self._invalid("Invalid JSON payload received. Unexpected token.")
        body = self._normalise(req.json, _REQUEST, "")
        V = self._invalid
        contents = body.get("contents")
        if not contents:
            raise V("* GenerateContentRequest.contents: contents is not specified\n")
        spec = self.gemini_models[model]
        n_images = 0
        first_image_size = None
        last_user_text = None
        all_text = ""  # every text part, history included: all of it is billed as input
        for ci, content in enumerate(contents):
            role = content.get("role", "")
            if role not in ("", "user", "model"):
                raise V("Please use a valid role: user, model.")
            parts = content.get("parts")
            if not parts:
                raise V(f"* GenerateContentRequest.contents[{ci}].parts: contents.parts must not be empty.\n")
            for pi, part in enumerate(parts):
                where = f"contents[{ci}].parts[{pi}]"
                data_fields = [k for k in ("text", "inlineData", "fileData", "functionCall", "functionResponse",
                                           "executableCode", "codeExecutionResult", "toolCall", "toolResponse")
                               if k in part]
                if not data_fields:
                    raise V(f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
                            "initialized field\n")
                if len(data_fields) > 1:
                    raise V(f"Invalid JSON payload received. Oneof field 'data' is already set. Cannot set "
                            f"'{data_fields[1]}' at '{where}'.")
                sig = part.get("thoughtSignature")
                sig_bytes = None
                if sig is not None:
                    try:
                        sig_bytes = _b64decode_lenient(sig)
                    except (ValueError, binascii.Error):
                        raise V(f"Invalid value at '{where}.thought_signature' (TYPE_BYTES), Base64 "
                                f"decoding failed for \"{str(sig)[:40]}\"")
                if "text" in part:
                    if not isinstance(part["text"], str):
                        raise V(f"Invalid value at '{where}.text' (TYPE_STRING), {part['text']!r}")
                    all_text += part["text"]
                    if role in ("", "user") and not part.get("thought"):
                        last_user_text = part["text"]
                    continue
                if "inlineData" in part:
                    blob = part["inlineData"]
                    mime = blob.get("mimeType")
                    if not mime:
                        raise V(f"* GenerateContentRequest.{where}.inline_data.mime_type: mime_type is required\n")
                    try:
                        raw = _b64decode_lenient(blob.get("data", ""))
                    except (ValueError, binascii.Error):
                        raise V(f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 "
                                f"decoding failed for \"{str(blob.get('data'))[:40]}...\"")
                    if not raw:
                        raise V(f"* GenerateContentRequest.{where}.inline_data.data: data is required\n")
                    if mime.startswith("image/"):
                        if mime not in GEMINI_IMAGE_MIMES:
                            raise V(f"Unsupported MIME type: {mime}")
                        img = None
                        if mime not in ("image/heic", "image/heif"):
                            img = _open_image(raw)
                            if img is None:
                                raise V("Unable to process input image. Please retry or report in "
                                        "https://developers.generativeai.google/guide/troubleshooting")
                        n_images += 1
                        if first_image_size is None and img is not None:
                            first_image_size = img.size
                        if role == "model":
                            self._check_signature(sig_bytes, raw, ci, pi)
                    continue
                if "fileData" in part:
                    fd = part["fileData"]
                    uri, mime = fd.get("fileUri"), fd.get("mimeType")
                    if not uri:
                        raise V(f"* GenerateContentRequest.{where}.file_data.file_uri: file_uri is required\n")
                    if not (uri.startswith(GEMINI_FILE_PREFIX) or "youtube.com/" in uri or "youtu.be/" in uri):
                        raise V(f"Invalid or unsupported file uri: {uri}")
                    if mime and mime.startswith("image/"):
                        n_images += 1
                        if first_image_size is None:
                            first_image_size = (1024, 1024)
                    continue
        if last_user_text is None:
            last_user_text = ""
        gc = body.get("generationConfig") or {}
        modalities = gc.get("responseModalities")
        if modalities is not None:
            if not isinstance(modalities, list):
                raise V("Invalid JSON payload received. Expected an array at 'generation_config.response_modalities'.")
            for i, mod in enumerate(modalities):
                if mod not in ("TEXT", "IMAGE"):
                    if mod in ("MODALITY_UNSPECIFIED", "AUDIO"):
                        raise V(f"The requested combination of response modalities ({', '.join(map(str, modalities))})"
                                f" is not supported by the model. models/{model} accepts the following combination "
                                "of response modalities:\n* IMAGE\n* TEXT, IMAGE\n")
                    raise V(f"Invalid value at 'generation_config.response_modalities[{i}]' "
                            f"(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "
                            f"\"{mod}\"")
        want_image = modalities is None or "IMAGE" in modalities
        for name, lo, hi in (("temperature", 0.0, 2.0), ("topP", 0.0, 1.0)):
            v = gc.get(name)
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise V(f"Invalid value at 'generation_config.{_snake(name)}' (TYPE_FLOAT), {json.dumps(v)}")
                if not lo <= v <= hi:
                    raise V(f"* GenerateContentRequest.generation_config.{_snake(name)}: {_snake(name)} must be in "
                            f"the range [{lo}, {hi}]\n")
        for name in ("topK", "candidateCount", "maxOutputTokens", "seed"):
            v = gc.get(name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise V(f"Invalid value at 'generation_config.{_snake(name)}' (TYPE_INT32), {json.dumps(v)}")
        if gc.get("candidateCount") not in (None, 1):
            raise V(f"Multiple candidates is not enabled for models/{model}")
        if gc.get("maxOutputTokens") is not None and gc["maxOutputTokens"] < 1:
            raise V("* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be "
                    "positive.\n")
        ic = gc.get("imageConfig") or {}
        ratio, isize = ic.get("aspectRatio"), ic.get("imageSize")
        if ratio is not None and ratio not in spec["ratios"]:
            raise V(f"* GenerateContentRequest.generation_config.image_config.aspect_ratio: unsupported aspect "
                    f"ratio \"{ratio}\" for models/{model}; supported: {', '.join(spec['ratios'])}\n")
        if isize is not None and isize not in spec["sizes"]:
            raise V(f"* GenerateContentRequest.generation_config.image_config.image_size: unsupported image size "
                    f"\"{isize}\" for models/{model}; supported: {', '.join(spec['sizes'])}\n")
        for i, s in enumerate(body.get("safetySettings") or []):
            if s.get("category") not in _HARM_CATEGORIES:
                raise V(f"Invalid value at 'safety_settings[{i}].category' "
                        f"(type.googleapis.com/google.ai.generativelanguage.v1beta.HarmCategory), "
                        f"{json.dumps(s.get('category'))}")
            if s.get("threshold") not in _HARM_THRESHOLDS:
                raise V(f"Invalid value at 'safety_settings[{i}].threshold' "
                        f"(type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting.HarmBlockThreshold), "
                        f"{json.dumps(s.get('threshold'))}")
        if ratio is None and first_image_size is not None:
            w, h = first_image_size
            if isize is not None:  # keep the input's shape, scale its long side to the requested size
                scale = GEMINI_LONG_SIDE[isize] / max(w, h)
                w, h = max(1, round(w * scale)), max(1, round(h * scale))
        else:
            w, h = self.gemini_size(ratio or "1:1", isize or "1K")
        return {"want_image": want_image, "n_images": n_images, "text": last_user_text, "w": w, "h": h,
                "body": body, "all_text": all_text, "image_size": isize or "1K"}

    def _check_signature(self, sig_bytes: bytes | None, image: bytes, ci: int, pi: int) -> None:
        if sig_bytes is not None:
            try:
                if sig_bytes.decode("ascii") in GEMINI_DUMMY_SIGNATURES:
                    return
            except UnicodeDecodeError:
                pass
        msg = None
        if sig_bytes is None:
            msg = (f"Image part is missing a thought_signature in content position {ci + 1}, part position "
                   f"{pi + 1}. Please ensure that the thought signatures returned by the model are passed back "
                   "as is. See https://ai.google.dev/gemini-api/docs/thought-signatures")
        else:
            with self._lock:
                issued = self.issued_signatures.get(sig_bytes)
            if issued is None:
                msg = (f"Corrupted thought signature in content position {ci + 1}, part position {pi + 1}.")
            elif issued != hashlib.sha256(image).hexdigest():
                msg = (f"Thought signature in content position {ci + 1}, part position {pi + 1} does not match "
                       "the image it was issued for.")
        if msg:
            raise self._invalid(msg)

    def _gemini_answer(self, model: str, plan: dict, fault: str | None, kw: dict) -> dict:
        u = {"text_tokens": 4 + text_tokens(plan["all_text"], self.worst_case),
             "image_tokens_per_input_image": GEMINI_INPUT_IMAGE_TOKENS.get(model, 1120),
             "output_image_tokens": GEMINI_IMAGE_TOKENS[model].get(plan["image_size"], 1120),
             "output_text_tokens": 9, "thoughts_tokens": GEMINI_THOUGHTS[model], **self.usage["gemini"]}
        if self.worst_case:  # thinking fills what the output limit leaves
            u["thoughts_tokens"] = GEMINI_OUTPUT_LIMIT - u["output_image_tokens"] - u["output_text_tokens"]
        k = plan["n_images"]
        prompt_details = [{"modality": "TEXT", "tokenCount": u["text_tokens"]}]
        if k:
            prompt_details.append({"modality": "IMAGE", "tokenCount": u["image_tokens_per_input_image"] * k})
        prompt_tokens = u["text_tokens"] + u["image_tokens_per_input_image"] * k
        resp: dict[str, Any] = {}
        prompt_only_usage = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens,
                             "promptTokensDetails": prompt_details}
        if self.gemini_tool_use_tokens:
            prompt_only_usage["toolUsePromptTokenCount"] = self.gemini_tool_use_tokens
        response_id = base64.urlsafe_b64encode(secrets.token_bytes(17)).decode().rstrip("=")
        if fault == "blocked":
            return {"promptFeedback": {"blockReason": kw.get("reason", "PROHIBITED_CONTENT")},
                    "usageMetadata": prompt_only_usage, "modelVersion": model, "responseId": response_id}
        if fault == "image_safety":
            cand: dict[str, Any] = {"finishReason": kw.get("reason", "IMAGE_SAFETY"), "index": 0}
            if kw.get("text"):
                cand["content"] = {"role": "model", "parts": [{"text": kw["text"]}]}
            return {"candidates": [cand], "usageMetadata": prompt_only_usage, "modelVersion": model,
                    "responseId": response_id}
        thoughts = u.get("thoughts_tokens", 0)
        parts: list[dict] = []
        if thoughts:
            parts.append({"text": "**Planning the image**\n\nI'm working out the composition.", "thought": True})
        out_text, out_image = u["output_text_tokens"], u["output_image_tokens"]
        if fault == "text_only" or not plan["want_image"]:
            text = kw.get("text") or ("I can't create that image, but here is a description: a picture of "
                                      f"{plan['text'][:200]!r}." if fault == "text_only" else
                                      f"Here is a description of the image: {plan['text'][:200]}")
            parts.append({"text": text})
            cand_details = [{"modality": "TEXT", "tokenCount": out_text}]
            cand_tokens = out_text
        else:
            png = render_image(plan["w"], plan["h"], colour_for(plan["text"]), 0, "png")
            sig = secrets.token_bytes(48)
            with self._lock:
                self.issued_signatures[sig] = hashlib.sha256(png).hexdigest()
            parts.append({"text": "Here is the image you asked for."})
            parts.append({"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()},
                          "thoughtSignature": base64.b64encode(sig).decode()})
            cand_details = [{"modality": "TEXT", "tokenCount": out_text},
                            {"modality": "IMAGE", "tokenCount": out_image}]
            cand_tokens = out_text + out_image
        cand_tokens += self.gemini_unitemised_tokens
        usage = {**prompt_only_usage, "candidatesTokenCount": cand_tokens,
                 "totalTokenCount": prompt_tokens + cand_tokens + thoughts + self.gemini_tool_use_tokens,
                 "candidatesTokensDetails": cand_details}
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        resp = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": usage, "modelVersion": model, "responseId": response_id}
        return resp

    # ======================================================================= shared
    def _sleep(self, name: str | None, kw: dict) -> None:
        if name == "slow":
            time.sleep(kw.get("seconds", 1.0))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeproviders/1.0"
    # Headers and body go out in two writes; with Nagle on, each keep-alive answer waits ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True
    fake: FakeProviders  # set on the subclass

    def log_message(self, format, *args):  # silence
        pass

    def _dispatch(self):
        fake = self.fake
        req = None
        try:
            raw = self._read_body()
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
            headers = CaseInsensitiveDict(self.headers.items())
            path = parsed.path
            if path.startswith("/v1/images/") or path == "/v1/images":
                provider = "openai"
            elif path.startswith(("/v1beta/", "/v1/models/", "/v1alpha/")):
                provider = "gemini"
            else:
                provider = None
            batch = fake.batches.route(path, headers)
            provider = batch or provider
            req = RecordedRequest(provider=provider, method=self.command, path=path, query=query,
                                  headers=headers, raw=raw)
            ctype = (headers.get("content-type") or "").lower()
            if raw:
                if ctype.startswith("multipart/form-data"):
                    m = re.search(r'boundary="?([^";]+)"?', headers.get("content-type"))
                    try:
                        if not m:
                            raise ValueError("no boundary")
                        req.form, req.files = _parse_multipart(raw, m.group(1).encode())
                    except ValueError as e:
                        req.multipart_error = str(e)
                else:
                    try:
                        req.json = json.loads(raw)
                    except ValueError:
                        req.json = None
            with fake._lock:
                fake.requests.append(req)
            if batch:
                answer = fake.batches.handle(req)
                if batch == "openai":
                    answer.headers = {**fake._openai_headers(req), **answer.headers}
            elif provider == "openai":
                answer = fake._handle_openai(req)
                answer.headers = {**fake._openai_headers(req), **answer.headers}
            elif provider == "gemini":
                answer = fake._handle_gemini(req)
            else:
                answer = _Answer(404, {"error": {"code": 404, "message": f"Not found: {path}", "status": "NOT_FOUND"}})
        except Exception:
            tb = traceback.format_exc()
            with fake._lock:
                fake.server_errors.append(tb)
            answer = _Answer(500, {"error": {"message": "fakeserver internal error:\n" + tb, "type": "fake_bug",
                                             "code": 500, "status": "INTERNAL"}})
        if req is not None:
            req.status = answer.status
            req.response_json = answer.json
        if fake.latency > 0:
            time.sleep(fake.latency)
        if answer.status == 200 and answer.content_type.startswith("text/event-stream") and not answer.drop:
            fake.streaming.shape(req, answer)
            fake.streaming.send(self, answer)
            return
        self._send(answer)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline()
            return bytes(out)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, a: _Answer) -> None:
        if a.drop:  # the request was read and processed; the answer never leaves
            self.close_connection = True
            return
        try:
            body = a.body
            self.send_response(a.status)
            self.send_header("Content-Type", a.content_type)
            for k, v in a.headers.items():
                self.send_header(k, v)
            if a.truncate == "cut_json":
                body = body[: len(body) // 2]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif a.truncate:  # "close_early": promise the full length, send half, close
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _dispatch

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True
