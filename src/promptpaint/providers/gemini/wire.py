"""Gemini ``generateContent`` wire format: request bodies, errors, usage and answers, as plain
functions the direct provider and the batch client share."""

from __future__ import annotations

import base64
import re

from ...images import mime_of
from ...errors import AccessError, AuthError, InvalidRequest, ProviderError, QuotaExceeded, RateLimited
from ...pricing import UntrustedUsage, Usage, tokens
from ...transport import BILLED_HINT
from ..base import Answer, Call, FileRef
from .masks import MASK_INSTRUCTION, mask_png

# Our name -> generationConfig field. imageConfig fields are handled apart.
GENERATION_FIELDS = {"temperature": "temperature", "top_p": "topP", "top_k": "topK",
                     "max_output_tokens": "maxOutputTokens", "stop_sequences": "stopSequences",
                     "seed": "seed", "candidate_count": "candidateCount"}
IMAGE_FIELDS = {"aspect_ratio": "aspectRatio", "image_size": "imageSize",
                "person_generation": "personGeneration"}
NO_IMAGE_REASONS = {"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER",
                    "NO_IMAGE", "SAFETY", "PROHIBITED_CONTENT", "RECITATION", "BLOCKLIST", "SPII",
                    "OTHER", "MAX_TOKENS"}


def _detail(body: dict, kind: str) -> dict | None:
    err = body.get("error")
    details = err.get("details") if isinstance(err, dict) else None
    for d in details if isinstance(details, list) else []:
        if isinstance(d, dict) and str(d.get("@type", "")).endswith(kind):
            return d
    return None


# google.protobuf.Duration in JSON: decimal seconds with an "s", e.g. "0.5s", "30s".
_DURATION = re.compile(r"^(\d{1,9}(?:\.\d{1,9})?)s$")


def retry_delay(body: dict) -> float | None:
    """RetryInfo's ``retryDelay`` in seconds; None when absent or not a valid Duration ("1..5s")."""
    info = _detail(body, "google.rpc.RetryInfo")
    m = _DURATION.match(info.get("retryDelay", "")) if info and isinstance(info.get("retryDelay"), str) else None
    return float(m.group(1)) if m else None


def model_page(body: dict, request_id: str | None = None) -> tuple[list[str], str]:
    """One page of ``GET /v1beta/models``: the ids (``models[].name`` is ``models/ID``) of the
    models that take ``generateContent``, and the next page's token ("" on the last page)."""
    models = body.get("models", [])
    if not isinstance(models, list):
        raise ProviderError("Gemini's model list had no models[] array.", provider="gemini",
                            request_id=request_id, hint="Check the base URL (GOOGLE_GEMINI_BASE_URL).")
    ids = []
    for m in models:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            continue
        methods = m.get("supportedGenerationMethods")
        if isinstance(methods, list) and "generateContent" not in methods:
            continue  # an embedding or a Veo model: not callable the way promptpaint calls
        ids.append(m["name"].removeprefix("models/"))
    token = body.get("nextPageToken")
    return ids, token if isinstance(token, str) else ""


def classify(status: int, body: dict, headers, request_id: str | None):
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = str(err.get("message") or body.get("_text") or f"HTTP {status}")
    state = str(err.get("status", ""))
    info = _detail(body, "google.rpc.ErrorInfo") or {}
    kw = dict(provider="gemini", status=status, request_id=request_id)
    if info.get("reason") in ("API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED") or (
            status == 403 and "unregistered callers" in message):
        return AuthError(f"Gemini rejected the API key: {message}", **kw)
    if status == 429:
        quota = _detail(body, "google.rpc.QuotaFailure") or {}
        violations = quota.get("violations")
        metrics = " ".join(str(v.get("quotaMetric", "")) for v in violations if isinstance(v, dict)) \
            if isinstance(violations, list) else ""
        if "limit: 0" in message or "free_tier" in metrics:
            e = QuotaExceeded(
                f"Gemini: {message}",
                hint="The free tier allows no image generation for this model (limit: 0): enable "
                     "billing for the project at https://aistudio.google.com/apikey, or use "
                     "pp.Client('offline') to practise.", **kw)
            e.retryable = False
            return e
        return RateLimited(f"Gemini rate limit: {message}", **kw)
    if status >= 500 or status == 408:
        return ProviderError(f"Gemini server error {status} {state}: {message}", **kw)
    if status == 403 or state in ("PERMISSION_DENIED", "FAILED_PRECONDITION"):
        return AccessError(f"Gemini refused access: {message}",
                           hint="Check that the key's project may use this model and has billing enabled.", **kw)
    gone = re.search(r"models/([\w.-]+) is not found", message) if status == 404 else None
    if gone:
        from ...registry_reach import unavailable

        return unavailable("gemini", "Gemini", gone.group(1), message, status=status, request_id=request_id)
    if status == 404:
        return InvalidRequest(f"Gemini: {message}", param="model",
                              hint="Check the model name: `promptpaint models` lists current ones.", **kw)
    field = None
    m = re.search(r"'([a-z_.]+)'|Unknown name \"(\w+)\"", message)
    if m:
        field = m.group(1) or m.group(2)
    return InvalidRequest(f"Gemini rejected the request: {message}", param=field, **kw)


def _image_part(item) -> dict:
    if isinstance(item, FileRef):
        return {"fileData": {"mimeType": item.mime_type, "fileUri": item.uri}}
    return {"inlineData": {"mimeType": mime_of(item) or "image/png", "data": base64.b64encode(item).decode("ascii")}}


def user_turn(call: Call) -> dict:
    """Our turn: the prompt, then the images (a mask goes second, with the instruction)."""
    text = call.prompt
    parts = []
    images = list(call.images)
    if call.mask is not None:
        text = f"{call.prompt}\n\n{MASK_INSTRUCTION}"
        images = images[:1] + [mask_png(call.mask)] + images[1:]
    parts.append({"text": text})
    parts.extend(_image_part(im) for im in images)
    return {"role": "user", "parts": parts}


def body(call: Call) -> dict:
    """The ``generateContent`` request body: the conversation so far, our turn, the config."""
    p = call.params
    config = {"responseModalities": ["TEXT", "IMAGE"]}
    config.update({wire: p[ours] for ours, wire in GENERATION_FIELDS.items() if ours in p})
    image_config = {wire: p[ours] for ours, wire in IMAGE_FIELDS.items() if ours in p}
    if image_config:
        config["imageConfig"] = image_config
    out = {"contents": [*call.history, user_turn(call)], "generationConfig": config}
    if "safety_settings" in p:
        out["safetySettings"] = p["safety_settings"]
    return out


def parse_usage(meta, produced_image: bool, input_images: int) -> Usage:
    """Gemini's ``usageMetadata`` as a Usage; raises UntrustedUsage for anything not a count."""
    if not isinstance(meta, dict):
        raise UntrustedUsage(f"usageMetadata is {type(meta).__name__}, not an object")

    def by_modality(name: str) -> dict:
        details = meta.get(name) or []
        if not isinstance(details, list):
            raise UntrustedUsage(f"usage field {name} is not a list")
        got = {"TEXT": 0, "IMAGE": 0}
        for d in details:
            if not isinstance(d, dict):
                raise UntrustedUsage(f"usage field {name} holds {d!r}")
            kind = "IMAGE" if d.get("modality") == "IMAGE" else "TEXT"  # AUDIO/VIDEO/...: as text
            got[kind] += tokens(d, "tokenCount")
        return got

    prompt = by_modality("promptTokensDetails")
    prompt["TEXT"] += max(0, tokens(meta, "promptTokenCount") - prompt["TEXT"] - prompt["IMAGE"])
    out = by_modality("candidatesTokensDetails")
    rest = max(0, tokens(meta, "candidatesTokenCount") - out["TEXT"] - out["IMAGE"])
    if meta.get("candidatesTokensDetails") or not produced_image:
        out["TEXT"] += rest  # counted but not itemised by modality: billed at the text-out rate
    else:
        out["IMAGE"] += rest  # no breakdown at all and an image came back: the image rate
    return Usage(input_text_tokens=prompt["TEXT"], input_image_tokens=prompt["IMAGE"],
                 output_text_tokens=out["TEXT"], output_image_tokens=out["IMAGE"],
                 thinking_tokens=tokens(meta, "thoughtsTokenCount"),
                 tool_use_tokens=tokens(meta, "toolUsePromptTokenCount"),
                 input_images=input_images)


def answer_from(data: dict, n_in: int, user_turn: dict | None, request_id: str | None,
                attempts: int = 1) -> Answer:
    """A GenerateContentResponse as an Answer: a direct call's, or one line of a batch's output.
    ``n_in`` input images were sent in ``user_turn`` (the turn is kept for multi-turn replay)."""
    candidates = data.get("candidates") or []
    images, texts, finish, content = [], [], None, None
    if candidates:
        cand = candidates[0] if isinstance(candidates, list) and isinstance(candidates[0], dict) else {}
        finish = cand.get("finishReason")
        content = cand.get("content") or {}
        content = content if isinstance(content, dict) else {}
        for part in content.get("parts") or []:
            if not isinstance(part, dict):
                continue  # a null part loses only itself, never the image beside it
            if part.get("thought"):
                continue  # the model's working drafts: replayed, never shown
            inline = part.get("inlineData") or part.get("inline_data")
            if inline and inline.get("data"):
                try:
                    images.append(base64.b64decode(inline["data"], validate=True))
                except ValueError:
                    raise ProviderError("Gemini's answer had unreadable image data.",
                                        provider="gemini", request_id=request_id,
                                        hint=BILLED_HINT, maybe_billed=True) from None
            elif part.get("text"):
                texts.append(part["text"])
    elif "candidates" not in data and "promptFeedback" not in data and "usageMetadata" not in data:
        raise ProviderError("Gemini's answer had neither candidates nor feedback.",
                            provider="gemini", request_id=request_id, hint=BILLED_HINT,
                            maybe_billed=True)
    block = (data.get("promptFeedback") or {}).get("blockReason")
    refusal = None
    if not images:
        refusal = block or (finish if finish and finish != "STOP" else "NO_IMAGE")
    usage, problem = Usage(input_images=n_in), "the answer carried no usage"
    if data.get("usageMetadata") is not None:
        try:
            usage, problem = parse_usage(data["usageMetadata"], bool(images), n_in), None
        except UntrustedUsage as exc:  # the images are still good: keep them, cost unknown
            problem = str(exc)
    return Answer(images=images, text="\n".join(texts) or None, usage=usage, usage_problem=problem,
                  request_id=request_id or data.get("responseId"), finish_reason=finish,
                  refusal=refusal,
                  turn={"role": "model", "parts": [p for p in (content or {}).get("parts") or [] if isinstance(p, dict)]}
                  if images else None,
                  user_turn=user_turn, attempts=attempts)
