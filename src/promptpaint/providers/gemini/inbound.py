"""Gemini ``generateContent`` requests as the class gateway receives them, and their usage.

The JSON parser of the real API takes lowerCamelCase and snake_case alike, so both are read here.
A field the gateway does not know is refused (tools, cached content, media resolution...): it
may change what the call costs in a way the registry cannot bound.
"""

from __future__ import annotations

import json

from ...sse import events
from ...errors import GatewayRefusal, InvalidRequest
from ..inbound import Inbound, Outcome
from .stream import read_gemini
from .wire import GENERATION_FIELDS, IMAGE_FIELDS, answer_from

TOP = {"contents", "generationConfig", "safetySettings", "systemInstruction"}
# generationConfig fields that change nothing the worst case does not already cover.
BOUNDED = {"responseModalities", "thinkingConfig", "imageConfig", "responseMimeType"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _camelise(obj: dict) -> dict:
    return {_camel(k): v for k, v in obj.items()}


def _refuse(message: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(message, param=param, provider="gemini")


#: Paths under the gateway's prefix for this provider (``/gemini``), as the API names them.
ROUTES = ("/{version}/models/{call}",)
VERSIONS = ("v1beta", "v1")
METHODS = ("generateContent", "streamGenerateContent")
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 402: "RESOURCE_EXHAUSTED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
          502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def read(params: dict, query, headers, body: bytes) -> Inbound:
    model, _, method = params["call"].partition(":")
    if params["version"] not in VERSIONS or method not in METHODS:
        raise GatewayRefusal(404, "not_found", "The gateway forwards models/MODEL:generateContent and "
                             ":streamGenerateContent under /v1beta and /v1.")
    stream = method == "streamGenerateContent"
    if stream and query.get("alt") != "sse":
        raise GatewayRefusal(400, "invalid_argument", "streamGenerateContent goes through the gateway as SSE "
                             "only: add ?alt=sse.")
    return inbound(model, body, stream=stream)


def upstream_path(params: dict, inb: Inbound) -> str:
    return f"{params['version']}/models/{inb.model}:{params['call'].partition(':')[2]}"


def upstream_query(query) -> dict:
    return {"alt": "sse"} if query.get("alt") == "sse" else {}


# The model list (`promptpaint models --check`, an SDK's models.list()): free, so only forwarded,
# page by page.
LIST_ROUTES = ("/{version}/models",)


def list_path(params: dict) -> str | None:
    return f"{params['version']}/models" if params.get("version") in VERSIONS else None


def list_query(query) -> dict:
    return {k: query[k] for k in ("pageSize", "pageToken") if query.get(k)}


def auth_headers(key: str) -> dict:
    return {"x-goog-api-key": key}


def refusal_body(status: int, message: str, code: str, param: str | None, retry_after: float | None) -> dict:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": code.upper(),
                "domain": "promptpaint-gateway"}]
    if retry_after is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{max(1, int(retry_after + 0.999))}s"})
    return {"error": {"code": status, "message": message, "status": STATUS.get(status, "UNKNOWN"),
                      "details": details}}


def _turn(content) -> dict:
    """A turn with its parts' field names in camelCase (``inline_data`` -> ``inlineData``)."""
    if not isinstance(content, dict):
        raise _refuse("Each content is an object with parts.", "contents")
    parts = content.get("parts")
    if not isinstance(parts, list):
        raise _refuse("Each content has a list of parts.", "contents")
    if not all(isinstance(p, dict) for p in parts):
        raise _refuse("Each part is an object.", "contents")
    return {"role": content.get("role", "user"), "parts": [_camelise(p) for p in parts]}


def inbound(model: str, body: bytes, *, stream: bool) -> Inbound:
    try:
        data = json.loads(body)
    except ValueError:
        raise _refuse("generateContent takes a JSON body.") from None
    if not isinstance(data, dict):
        raise _refuse("generateContent takes a JSON object.")
    data = _camelise(data)
    unknown = sorted(set(data) - TOP)
    if unknown:
        raise _refuse(f"The gateway does not forward {unknown[0]!r}: it cannot bound what the call would "
                      "cost with it.", unknown[0])
    contents = data.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise _refuse("The request has no contents.", "contents")
    turns = [_turn(c) for c in contents]
    last = turns[-1]
    prompt = "\n".join(p["text"] for p in last["parts"] if isinstance(p.get("text"), str))
    n_last = sum(1 for p in last["parts"] if "inlineData" in p or "fileData" in p)
    history = turns[:-1]
    if data.get("systemInstruction"):
        history = [_turn(data["systemInstruction"]), *history]  # its text is billed as input too
    config = _camelise(data.get("generationConfig") or {})
    ours = {wire: name for name, wire in GENERATION_FIELDS.items()}
    params, left = {}, []
    for key, value in config.items():
        if key in ours:
            params[ours[key]] = value
        elif key not in BOUNDED:
            left.append(key)
    if left:
        raise _refuse(f"The gateway does not forward generationConfig.{sorted(left)[0]}: it cannot bound "
                      "what the call would cost with it.", sorted(left)[0])
    image_config = _camelise(config.get("imageConfig") or {})
    image_names = {wire: name for name, wire in IMAGE_FIELDS.items()}
    for key, value in image_config.items():
        if key not in image_names:
            raise _refuse(f"The gateway does not forward imageConfig.{key}.", key)
        params[image_names[key]] = value
    if data.get("safetySettings") is not None:
        params["safety_settings"] = data["safetySettings"]
    return Inbound(provider="gemini", model=model, kind="chat" if len(contents) > 1 else
                   ("edit" if n_last else "generate"), prompt=prompt, params=params,
                   images=[b""] * n_last, history=history, stream=stream)


def outcome(body: bytes, *, streamed: bool, input_images: int, request_id: str | None) -> Outcome:
    from ...errors import PromptpaintError

    try:
        data = read_gemini(events([body]), None, request_id) if streamed else json.loads(body)
        answer = answer_from(data, input_images, None, request_id)
    except (PromptpaintError, ValueError) as exc:
        return Outcome(None, getattr(exc, "message", None) or str(exc), request_id, answered=False)
    if answer.usage_problem:
        return Outcome(None, answer.usage_problem, request_id or answer.request_id)
    return Outcome(answer.usage, None, request_id or answer.request_id, answer.refusal, len(answer.images))
