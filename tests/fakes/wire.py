"""HTTP as both fakes see it: the recorded request, the answer to send, and the parsers a real API
front end applies before any provider logic (multipart forms, lenient base64, image decoding)."""

from __future__ import annotations

import base64
import email.message
import email.utils
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image


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
        # Gemini names the model in the path (models/{m}:generateContent), OpenAI in the body.
        m = re.search(r"/models/([^/:]+):", self.path)
        if m:
            return m.group(1)
        if self.json and isinstance(self.json, dict):
            return self.json.get("model")
        vals = self.form.get("model")
        return vals[-1] if vals else None


class Answer:
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


class BadRequest(Exception):
    """Raised by request validation; carries the provider's own error answer."""

    def __init__(self, answer: Answer):
        self.answer = answer


def b64decode_lenient(s: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not (as Google's JSON parser does)."""
    if not isinstance(s, str):
        raise ValueError("not a string")
    t = s.strip().replace("-", "+").replace("_", "/")
    if re.search(r"[^A-Za-z0-9+/=]", t):
        raise ValueError("bad base64 characters")
    t = t.rstrip("=")
    t += "=" * (-len(t) % 4)
    return base64.b64decode(t, validate=True)


def open_image(data: bytes) -> Image.Image | None:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        return img
    except Exception:
        return None


def has_alpha(img: Image.Image) -> bool:
    return "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info)


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def mask_key(key: str) -> str:
    if len(key) <= 11:
        return key[:3] + "*" * max(1, len(key) - 3)
    return key[:7] + "*" * (len(key) - 11) + key[-4:]


def parse_multipart(body: bytes, boundary: bytes):
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
