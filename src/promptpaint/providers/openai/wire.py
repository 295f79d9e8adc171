"""OpenAI Images API wire format: errors, usage, answers and the worst case, as plain functions
the direct provider and the batch client share."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from decimal import ROUND_CEILING, Decimal

from ...errors import AccessError, AuthError, InvalidRequest, ProviderError, QuotaExceeded, RateLimited, Refused
from ...pricing import Unbounded, UntrustedUsage, Usage, tokens
from ...transport import BILLED_HINT
from ..base import Answer

VERIFY_HINT = ("Verify the organization at https://platform.openai.com/settings/organization/general "
               "(it can take about 15 minutes to take effect). Meanwhile, Gemini works: "
               "pp.Client('gemini').")

# Our parameter names are OpenAI's own; these go as-is into the JSON body or the form.
FIELDS = ("n", "size", "quality", "background", "output_format", "output_compression",
          "moderation", "safety_identifier", "input_fidelity", "complexity", "frame_count",
          "frame_duration_ms")


def svg_fields(params: dict, form: bool) -> dict:
    """``svg_model`` / ``svg_effort`` as OpenAI takes them: ``svg: {model, reasoning: {effort}}`` in
    JSON, ``svg[model]`` and ``svg[reasoning][effort]`` in a multipart form."""
    model, effort = params.get("svg_model"), params.get("svg_effort")
    if form:
        return {k: v for k, v in (("svg[model]", model), ("svg[reasoning][effort]", effort)) if v}
    svg = {**({"model": model} if model else {}), **({"reasoning": {"effort": effort}} if effort else {})}
    return {"svg": svg} if svg else {}


def classify(status: int, body: dict, headers, request_id: str | None):
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = str(err.get("message") or body.get("_text") or f"HTTP {status}")
    code, param = err.get("code"), err.get("param")
    kw = dict(provider="openai", status=status, request_id=request_id)
    if status == 401:
        return AuthError(f"OpenAI rejected the API key: {message}", **kw)
    if status == 403:
        if "verif" in message.lower():
            e = AccessError(f"OpenAI: {message}", hint=VERIFY_HINT, **kw)
        else:
            e = AccessError(f"OpenAI refused access: {message}",
                            hint="Check the project's model access and the key's permissions.", **kw)
        e.retryable = False
        return e
    if code == "moderation_blocked" or err.get("type") == "image_generation_user_error":
        return Refused(f"OpenAI's safety system refused the request: {message}",
                       reason=code or "moderation_blocked", **kw)
    if status == 429:
        if code in ("insufficient_quota", "billing_hard_limit_reached") or err.get("type") == "insufficient_quota":
            e = QuotaExceeded(f"OpenAI: {message}", hint="Add credit or raise the limit at "
                              "https://platform.openai.com/settings/organization/billing.", **kw)
            e.retryable = False
            return e
        return RateLimited(f"OpenAI rate limit: {message}", **kw)
    if status >= 500 or status in (408, 409):
        return ProviderError(f"OpenAI server error {status}: {message}", **kw)
    gone = re.search(r"model `([^`]+)`", message) if status == 404 else None
    if gone and (code == "model_not_found" or "does not exist" in message):
        from ...registry_reach import unavailable

        return unavailable("openai", "OpenAI", gone.group(1), message, status=status, request_id=request_id)
    if status == 404:
        return InvalidRequest(f"OpenAI: {message}", param=param or "model",
                              hint="Check the model name: `promptpaint models` lists current ones.", **kw)
    where = f" (parameter {param!r})" if param else ""
    return InvalidRequest(f"OpenAI rejected the request{where}: {message}", param=param, **kw)


def model_ids(body: dict, request_id: str | None = None) -> list[str]:
    """The ids in a ``GET /v1/models`` answer: ``{"object": "list", "data": [{"id": ...}]}``."""
    data = body.get("data")
    if not isinstance(data, list):
        raise ProviderError("OpenAI's model list had no data[] array.", provider="openai",
                            request_id=request_id, hint="Check the base URL (OPENAI_BASE_URL).")
    return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]


def parse_usage(usage, input_images: int) -> Usage:
    """OpenAI's ``usage`` as a Usage; raises UntrustedUsage for anything that is not a count."""
    if not isinstance(usage, dict):
        raise UntrustedUsage(f"usage is {type(usage).__name__}, not an object")
    details = _object(usage, "input_tokens_details")
    total_in = tokens(usage, "input_tokens")
    image_in = tokens(details, "image_tokens")
    text_in = tokens(details, "text_tokens") if "text_tokens" in details else max(0, total_in - image_in)
    image_in += max(0, total_in - text_in - image_in)  # not itemised: the dearer input rate
    # Cached tokens are part of the input counts and bill at the cached rate. Without a split by
    # modality, count them as text first: the smaller discount, so never under-booked.
    cached = tokens(details, "cached_tokens")
    split = _object(details, "cached_tokens_details")
    if split:
        cached_text, cached_image = tokens(split, "text_tokens"), tokens(split, "image_tokens")
    else:
        cached_text = min(cached, text_in)
        cached_image = min(cached - cached_text, image_in)
    cached_text, cached_image = min(cached_text, text_in), min(cached_image, image_in)
    out = tokens(usage, "output_tokens")
    out_details = _object(usage, "output_tokens_details")
    out_text = tokens(out_details, "text_tokens")
    out_image = tokens(out_details, "image_tokens") if "image_tokens" in out_details else 0
    out_image += max(0, out - out_text - out_image)  # not itemised: the dearer (image) rate
    return Usage(input_text_tokens=text_in - cached_text, input_image_tokens=image_in - cached_image,
                 cached_input_text_tokens=cached_text, cached_input_image_tokens=cached_image,
                 output_text_tokens=out_text, output_image_tokens=out_image,
                 input_images=input_images)


def with_svg_usage(usage: Usage, svg) -> Usage:
    """``usage`` plus the SVG authoring model's ``svg_usage {model, input_tokens, output_tokens,
    reasoning_tokens}``, billed on top at that model's prices. Its reasoning tokens are taken as
    part of ``output_tokens`` (as in every other OpenAI usage object), unless they exceed it."""
    if not isinstance(svg, dict) or not isinstance(svg.get("model"), str):
        raise UntrustedUsage("svg_usage has no model")
    out = max(tokens(svg, "output_tokens"), tokens(svg, "reasoning_tokens"))
    return dataclasses.replace(usage, authoring_model=svg["model"],
                               authoring_input_tokens=tokens(svg, "input_tokens"), authoring_output_tokens=out)


def _object(data: dict, name: str) -> dict:
    value = data.get(name)
    if isinstance(value, str):  # seen as a JSON string from some gateways
        try:
            value = json.loads(value)
        except ValueError:
            raise UntrustedUsage(f"usage field {name} is not JSON") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UntrustedUsage(f"usage field {name} is {type(value).__name__}, not an object")
    return value


#: Output image tokens each streamed preview adds to the bill (OpenAI image-generation guide,
#: section "Partial images cost": "each partial image will incur an additional 100 image output tokens").
PARTIAL_IMAGE_TOKENS = 100


def _form(fields: dict) -> dict:
    """Multipart text fields: booleans as JSON spells them ("true"), the rest as text."""
    return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in fields.items()}


STANDARD_SIZES = ("1024x1024", "1536x1024", "1024x1536")  # what size="auto" picks from


def _pixels(size: str) -> int:
    w, h = (int(x) for x in size.split("x"))
    return w * h


def worst_image_tokens(model, wc: dict, params: dict, first_image_size) -> int:
    """Output tokens of one image at most, from the model's table by size and quality."""
    table = wc["output_tokens"]
    asked = params.get("quality") or "auto"
    quality = "high" if asked == "auto" else asked  # "auto" lets the model pick: its worst is high
    if quality not in table["1024x1024"]:
        raise Unbounded(f"quality={asked!r} on {model.id} has no published token count, so no "
                        "budget can bound it")
    # Sizes not in the table scale the dearest figure per pixel, rounded up.
    rate = max(Decimal(row[quality]) / _pixels(s) for s, row in table.items())

    def for_size(size: str) -> int:
        if size in table:
            return table[size][quality]
        return int((rate * _pixels(size)).to_integral_value(ROUND_CEILING))

    size = params.get("size") or "auto"
    if size != "auto":
        return for_size(size)
    candidates = [for_size(s) for s in STANDARD_SIZES]
    if first_image_size:  # an edit at size=auto may answer at the input's size
        limit = (model.capabilities.get("custom_sizes") or {}).get("max_pixels", 1536 * 1024)
        px = min(first_image_size[0] * first_image_size[1], limit)
        candidates.append(int((rate * px).to_integral_value(ROUND_CEILING)))
    return max(candidates)


def answer_from(body: dict, n_in: int, request_id: str | None, attempts: int = 1) -> Answer:
    """An Images API response body as an Answer: a direct call's, or one line of a batch's output."""
    try:
        items = body.get("data") or []
        # A null or non-object entry ("data": [null, {...}]) is skipped: the good images are kept.
        items = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
        images = [base64.b64decode(item["b64_json"], validate=True) for item in items if item.get("b64_json")]
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"OpenAI's answer had unreadable image data ({exc}).", provider="openai",
                            request_id=request_id, hint=BILLED_HINT, maybe_billed=True) from None
    usage, problem = Usage(input_images=n_in), "the answer carried no usage"
    if body.get("usage") is not None:
        try:
            usage, problem = parse_usage(body["usage"], n_in), None
            if body.get("svg_usage") is not None:
                usage = with_svg_usage(usage, body["svg_usage"])
        except UntrustedUsage as exc:  # the images are still good: keep them, cost unknown
            problem = str(exc)
    revised = next((i.get("revised_prompt") for i in items if i.get("revised_prompt")), None)
    if not images and any(i.get("url") for i in items):
        raise ProviderError("OpenAI answered with image URLs; GPT image models answer with base64. "
                            "Is the base URL pointing at a DALL·E-era gateway?", provider="openai",
                            request_id=request_id, maybe_billed=True)
    return Answer(images=images, text=None, usage=usage, usage_problem=problem,
                  request_id=request_id, refusal=None if images else "NO_IMAGE", revised_prompt=revised,
                  attempts=attempts)
