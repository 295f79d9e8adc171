"""OpenAI Images API requests as the class gateway receives them, and the usage in the answers.

``inbound`` reads ``images/generations`` (JSON) and ``images/edits`` (multipart) into an
``Inbound``; a field the gateway does not know is refused, because an unknown field may change
what the call costs (an ``svg`` or ``gif`` output, say). ``outcome`` reads the usage back from a
JSON answer or from a stream's ``completed`` event, adding the previews' tokens as a direct
streamed call does.
"""

from __future__ import annotations

import dataclasses
import email.message
import email.utils
import json

from ...sse import events
from ...errors import GatewayRefusal, InvalidRequest
from ..inbound import Inbound, Outcome
from .stream import read_openai
from .wire import FIELDS, PARTIAL_IMAGE_TOKENS, answer_from

INTS = ("n", "output_compression", "partial_images", "frame_count", "frame_duration_ms")
PASSED = set(FIELDS) | {"model", "prompt", "stream", "partial_images", "user"}
FILES = {"image", "image[]", "mask", "markup"}


#: Paths under the gateway's prefix for this provider (``/openai/v1``), as the API names them.
ROUTES = ("/images/{route}",)
TYPES = {402: "insufficient_quota", 429: "requests", 500: "server_error", 502: "server_error",
         503: "server_error", 504: "server_error"}


def _refuse(message: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(message, param=param, provider="openai")


def read(params: dict, query, headers, body: bytes) -> Inbound:
    route = params["route"]
    if route not in ("generations", "edits"):
        raise GatewayRefusal(404, "not_found", f"The gateway forwards images/generations and images/edits, "
                             f"not images/{route}.")
    return inbound(route, body, headers.get("content-type", ""))


def upstream_path(params: dict, inb: Inbound) -> str:
    return f"images/{params['route']}"


def upstream_query(query) -> dict:
    return {}


# The model list (`promptpaint models --check`, an SDK's models.list()): free, so only forwarded.
LIST_ROUTES = ("/models",)


def list_path(params: dict) -> str:
    return "models"


def list_query(query) -> dict:
    return {}


def auth_headers(key: str) -> dict:
    return {"authorization": f"Bearer {key}"}


def refusal_body(status: int, message: str, code: str, param: str | None, retry_after: float | None) -> dict:
    return {"error": {"message": message, "type": TYPES.get(status, "invalid_request_error"), "param": param,
                      "code": code}}


def multipart(body: bytes, content_type: str) -> tuple[dict, dict]:
    """(fields, files) of a multipart/form-data body: files as name -> [bytes]."""
    msg = email.message.Message()
    msg["content-type"] = content_type
    boundary = msg.get_param("boundary")
    if not boundary:
        raise _refuse("images/edits takes multipart/form-data with a boundary.")
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    fields: dict = {}
    files: dict = {}
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return fields, files
        head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise _refuse("A multipart part has no headers.")
        part = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                part[k.strip()] = v.strip()
        name = part.get_param("name", header="content-disposition")
        if name is None:
            raise _refuse("A multipart part has no name.")
        name = email.utils.collapse_rfc2231_value(name)
        if part.get_param("filename", header="content-disposition") is not None:
            files.setdefault(name, []).append(content)
        else:
            fields[name] = content.decode("utf-8")
    raise _refuse("The multipart body has no closing boundary.")


def _value(name: str, value):
    if name in INTS and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise _refuse(f"{name} must be a whole number, not {value!r}.", name) from None
    if name == "stream" and isinstance(value, str):
        return value.lower() == "true"
    return value


def inbound(route: str, body: bytes, content_type: str) -> Inbound:
    """``route`` is ``generations`` or ``edits``."""
    files: dict = {}
    if route == "generations":
        try:
            fields = json.loads(body)
        except ValueError:
            raise _refuse("images/generations takes a JSON body.") from None
        if not isinstance(fields, dict):
            raise _refuse("images/generations takes a JSON object.")
    else:
        fields, files = multipart(body, content_type)
        unknown_files = set(files) - FILES
        if unknown_files:
            raise _refuse(f"The gateway does not forward the file field {sorted(unknown_files)[0]!r}.",
                          sorted(unknown_files)[0])
    unknown = sorted(set(fields) - PASSED)
    if unknown:
        raise _refuse(f"The gateway does not forward {unknown[0]!r}: it cannot bound what the call would "
                      f"cost with it. It forwards: {', '.join(sorted(PASSED))}.", unknown[0])
    fields = {k: _value(k, v) for k, v in fields.items() if v is not None}
    model, prompt = fields.get("model"), fields.get("prompt")
    if not isinstance(model, str) or not model:
        raise _refuse("Name the model (e.g. \"gpt-image-2\"): the gateway prices each call by it.", "model")
    if not isinstance(prompt, str):
        raise _refuse("The request has no prompt.", "prompt")
    stream = fields.get("stream") is True
    previews = fields.get("partial_images") or 0
    if not isinstance(previews, int) or isinstance(previews, bool) or previews < 0:
        raise _refuse("partial_images must be a whole number from 0 to 3.", "partial_images")
    images = files.get("image", []) + files.get("image[]", [])
    if route == "edits" and not images:
        raise _refuse("images/edits needs an image.", "image")
    params = {k: fields[k] for k in FIELDS if k in fields}
    return Inbound(provider="openai", model=model, kind="generate" if route == "generations" else "edit",
                   prompt=prompt, params=params, images=images, mask=bool(files.get("mask")),
                   markup=bool(files.get("markup")), previews=previews if stream else 0, stream=stream)


def outcome(body: bytes, *, streamed: bool, input_images: int, request_id: str | None) -> Outcome:
    """The usage the answer reports; ``usage`` is None when the answer was cut or unreadable."""
    from ...errors import PromptpaintError

    try:
        if streamed:
            data = read_openai(events([body]), None, request_id)
        else:
            data = json.loads(body)
        answer = answer_from(data, input_images, request_id)
    except (PromptpaintError, ValueError) as exc:
        return Outcome(None, getattr(exc, "message", None) or str(exc), request_id, answered=False)
    if answer.usage_problem:
        return Outcome(None, answer.usage_problem, request_id)
    usage = answer.usage
    if streamed and data.get("partial_images"):  # as OpenAIProvider.send: 100 image tokens each
        usage = dataclasses.replace(usage, output_image_tokens=usage.output_image_tokens
                                    + PARTIAL_IMAGE_TOKENS * data["partial_images"])
    return Outcome(usage, None, request_id, answer.refusal, len(answer.images))
