"""How the Gemini API judges a generateContent request before any work: the JSON schema (snake_case
or lowerCamelCase, unknown names rejected), the parts, the image config per model, the thought
signatures of images the model made, with Google's 400s."""

from __future__ import annotations

import binascii
import hashlib
import json

from .wire import Answer, BadRequest, RecordedRequest, b64decode_lenient, camel, open_image, snake

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


def error(code: int, status: str, message: str, details: list | None = None, headers: dict | None = None) -> Answer:
    err = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return Answer(code, {"error": err}, headers=headers, content_type="application/json; charset=UTF-8")


def gemini_size(aspect_ratio: str = "1:1", image_size: str = "1K") -> tuple[int, int]:
    long_side = GEMINI_LONG_SIDE[image_size]
    w, h = (int(x) for x in aspect_ratio.split(":"))
    if w >= h:
        return long_side, max(1, round(long_side * h / w))
    return max(1, round(long_side * w / h)), long_side


def normalise(obj, schema, path: str):
    """Convert snake_case keys to lowerCamelCase, rejecting unknown names like the real parser."""
    if schema is _ANY or schema is None:
        return obj
    if isinstance(schema, list):
        if not isinstance(obj, list):
            raise invalid(f"Invalid JSON payload received. Expected an array at '{path}'.")
        return [normalise(x, schema[0], f"{path}[{i}]") for i, x in enumerate(obj)]
    if not isinstance(obj, dict):
        where = f" at '{path}'" if path else ""
        raise invalid(f"Invalid JSON payload received. Expected an object{where}.")
    out = {}
    for k, v in obj.items():
        ck = camel(k)
        if ck not in schema:
            where = f" at '{path}'" if path else ""
            raise invalid(f'Invalid JSON payload received. Unknown name "{k}"{where}: Cannot find field.')
        if ck in out:
            raise invalid(f'Invalid JSON payload received. Duplicate field "{k}"'
                                + (f" at '{path}'." if path else "."))
        sub_path = (path + "." if path else "") + snake(ck)
        out[ck] = normalise(v, schema[ck], sub_path)
    return out


def invalid(message: str) -> BadRequest:
    return BadRequest(error(400, "INVALID_ARGUMENT", message))


def validate(fake, req: RecordedRequest, model: str) -> dict:
    """The request as Google's front end parses it; raises BadRequest with its 400."""
    if req.json is None:
        raise invalid("Invalid JSON payload received. Unexpected token.")
    body = normalise(req.json, _REQUEST, "")
    V = invalid
    contents = body.get("contents")
    if not contents:
        raise V("* GenerateContentRequest.contents: contents is not specified\n")
    spec = fake.gemini_models[model]
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
                    sig_bytes = b64decode_lenient(sig)
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
                    raw = b64decode_lenient(blob.get("data", ""))
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
                        img = open_image(raw)
                        if img is None:
                            raise V("Unable to process input image. Please retry or report in "
                                    "https://developers.generativeai.google/guide/troubleshooting")
                    n_images += 1
                    if first_image_size is None and img is not None:
                        first_image_size = img.size
                    if role == "model":
                        check_signature(fake, sig_bytes, raw, ci, pi)
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
                raise V(f"Invalid value at 'generation_config.{snake(name)}' (TYPE_FLOAT), {json.dumps(v)}")
            if not lo <= v <= hi:
                raise V(f"* GenerateContentRequest.generation_config.{snake(name)}: {snake(name)} must be in "
                        f"the range [{lo}, {hi}]\n")
    for name in ("topK", "candidateCount", "maxOutputTokens", "seed"):
        v = gc.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise V(f"Invalid value at 'generation_config.{snake(name)}' (TYPE_INT32), {json.dumps(v)}")
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
        w, h = gemini_size(ratio or "1:1", isize or "1K")
    return {"want_image": want_image, "n_images": n_images, "text": last_user_text, "w": w, "h": h,
            "body": body, "all_text": all_text, "image_size": isize or "1K"}


def check_signature(fake, sig_bytes: bytes | None, image: bytes, ci: int, pi: int) -> None:
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
        with fake._lock:
            issued = fake.issued_signatures.get(sig_bytes)
        if issued is None:
            msg = (f"Corrupted thought signature in content position {ci + 1}, part position {pi + 1}.")
        elif issued != hashlib.sha256(image).hexdigest():
            msg = (f"Thought signature in content position {ci + 1}, part position {pi + 1} does not match "
                   "the image it was issued for.")
    if msg:
        raise invalid(msg)
