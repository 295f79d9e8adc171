"""OpenAI Images API: ``images/generations`` (JSON) and ``images/edits`` (multipart)."""

from __future__ import annotations

import base64
import dataclasses
import json
from decimal import ROUND_CEILING, Decimal

from .. import markup, masks
from ..images import mime_of
from ..errors import AccessError, AuthError, InvalidRequest, ProviderError, QuotaExceeded, RateLimited, Refused
from ..pricing import Unbounded, UntrustedUsage, Usage, tokens
from ..redact import Secret, SecretURL
from ..sse import events
from ..transport import BILLED_HINT, Transport
from .base import Answer, Call, FileRef, Provider, Wire
from .streaming import read_openai

VERIFY_HINT = ("Verify the organization at https://platform.openai.com/settings/organization/general "
               "(it can take about 15 minutes to take effect). Meanwhile, Gemini works: "
               "pp.Client('gemini').")

# Our parameter names are OpenAI's own; these go as-is into the JSON body or the form.
FIELDS = ("n", "size", "quality", "background", "output_format", "output_compression",
          "moderation", "safety_identifier", "input_fidelity", "complexity")


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
    if status == 404:
        return InvalidRequest(f"OpenAI: {message}", param=param or "model",
                              hint="Check the model name: `promptpaint models` lists current ones.", **kw)
    where = f" (parameter {param!r})" if param else ""
    return InvalidRequest(f"OpenAI rejected the request{where}: {message}", param=param, **kw)


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


class OpenAIProvider(Provider):
    """Masks as a file (alpha 0 where to edit), no conversation: each chat turn edits the last image."""

    name = "openai"
    label = "OpenAI"
    key_env = ("OPENAI_API_KEY",)
    base_url_env = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"
    preview_tokens = PARTIAL_IMAGE_TOKENS
    key_placeholder = "$OPENAI_API_KEY"
    classify = staticmethod(classify)

    @staticmethod
    def worst_output(model, wc, params, first_image_size) -> dict:
        # complexity's planning tokens: a ceiling in the worst-case data, whatever level is asked
        per_image = worst_image_tokens(model, wc, params, first_image_size) + int(
            wc.get("planning_tokens_per_image", 0))
        return {"output_image_tokens": per_image * int(params.get("n") or 1)}

    def __init__(self, transport: Transport, api_key: str, base_url: str):
        self.transport = transport
        self._key = Secret(api_key)
        self.base_url = base_url.rstrip("/")

    def _fields(self, model, call: Call) -> dict:
        out = {"model": model.id, "prompt": call.prompt}
        out.update({k: call.params[k] for k in FIELDS if k in call.params})
        return out

    def _edit_images(self, call: Call) -> list:
        if any(isinstance(im, FileRef) for im in call.images):
            raise InvalidRequest("OpenAI edits take image files, not URIs: pass the image itself.",
                                 param="image")
        return list(call.images)

    def wire(self, model, call):
        headers = {"Authorization": f"Bearer {self.key_placeholder}"}
        fields = self._fields(model, call)
        if call.previews:
            fields.update(stream=True, partial_images=call.previews)
        if call.kind == "generate":
            return Wire("POST", f"{self.base_url}/images/generations",
                        {**headers, "Content-Type": "application/json"}, json=fields)
        files = [("image[]", f"image-{i}.png") for i in range(len(call.images))]
        if call.mask is not None:
            files.append(("mask", "mask.png"))
        if call.markup is not None:
            files.append(("markup", "markup.png"))
        return Wire("POST", f"{self.base_url}/images/edits", headers, form=_form(fields), files=files)

    def send(self, model, call, cancel=None, on_preview=None):
        headers = {"Authorization": Secret(f"Bearer {self._key}")}
        fields = self._fields(model, call)
        stream = call.previews > 0
        if stream:
            fields.update(stream=True, partial_images=call.previews)
        if call.kind == "generate":
            url = SecretURL(f"{self.base_url}/images/generations")  # no credentials in locals
            reply = self.transport.post(url, headers=headers, json=fields, cancel=cancel, stream=stream)
            n_in = 0
        else:
            images = self._edit_images(call)
            files = [("image[]", (f"image-{i}.png", data, mime_of(data) or "image/png")) for i, data in enumerate(images)]
            if call.mask is not None:
                files.append(("mask", ("mask.png", masks.openai_mask_png(call.mask), "image/png")))
            if call.markup is not None:
                files.append(("markup", ("markup.png", markup.png(call.markup), "image/png")))
            url = SecretURL(f"{self.base_url}/images/edits")
            reply = self.transport.post(url, headers=headers, data=_form(fields), files=files,
                                        cancel=cancel, stream=stream)
            n_in = len(images)
        if reply.stream is None:  # not streamed (or a gateway that ignored stream: true)
            return answer_from(reply.body, n_in, reply.request_id, reply.attempts)
        body = read_openai(events(self.transport.chunks(reply, url)), on_preview, reply.request_id)
        answer = answer_from(body, n_in, reply.request_id, reply.attempts)
        if not answer.usage_problem and body["partial_images"]:
            # "Each partial image will incur an additional 100 image output tokens" (OpenAI's
            # image-generation guide, "Partial images cost"); the completed usage has the image's own.
            answer.usage = dataclasses.replace(answer.usage, output_image_tokens=answer.usage.output_image_tokens
                                               + PARTIAL_IMAGE_TOKENS * body["partial_images"])
        return answer


def answer_from(body: dict, n_in: int, request_id: str | None, attempts: int = 1) -> Answer:
    """An Images API response body as an Answer: a direct call's, or one line of a batch's output."""
    try:
        items = body.get("data") or []
        images = [base64.b64decode(item["b64_json"], validate=True) for item in items if item.get("b64_json")]
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"OpenAI's answer had unreadable image data ({exc}).", provider="openai",
                            request_id=request_id, hint=BILLED_HINT, maybe_billed=True) from None
    usage, problem = Usage(input_images=n_in), "the answer carried no usage"
    if body.get("usage") is not None:
        try:
            usage, problem = parse_usage(body["usage"], n_in), None
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

