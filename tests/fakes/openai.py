"""The OpenAI Images API (``/v1/images/generations`` and ``/v1/images/edits``): its answers, usage
counts, bill, faults and streamed events, as the real service gives them.

Prices and token counts are copied from shared/reference/providers.md (corrected 2026-11-25), NOT
from promptpaint's registry: the fake is the judge of the client's arithmetic, so it keeps its own.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import time
from decimal import Decimal

from promptpaint.sse import events as parse_events

from . import model_lists
from .base import ProviderFake
from .images import colour_for, preview_of, render_gif, render_image, svg_picture, text_tokens
from .openai_params import error, parse_edit, parse_generate, validate
from .wire import Answer, BadRequest, RecordedRequest, mask_key

OPENAI_KEY = "sk-test-openai-0123456789abcdef"
# Overrides of today's token counts, e.g. fake.usage["openai"]["text_tokens"] = 40. Keys:
# text_tokens, image_tokens_per_input_image, output_tokens_per_image. Empty: count like OpenAI today.
DEFAULT_OPENAI_USAGE: dict = {}
OPENAI_FAULTS = (
    "auth", "org_unverified", "moderation", "rate_limit", "quota", "server_error",
    "non_json", "truncated", "slow", "status", "drop_after_read", "odd_usage",
)
OPENAI_CURRENT_MODELS = (
    "gpt-image-2", "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst", "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-flare-2026-09-08",
    "gpt-image-2.6-sunburst", "gpt-image-2.6-flare",
    "gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest",
)
OPENAI_RETIRED_MODELS = ("gpt-image-1", "dall-e-2", "dall-e-3")
# Output tokens per image: (per-image price) / (image-out rate).
OPENAI_IMAGE_TOKENS = {
    "gpt-image-2": {"1024x1024": {"low": 200, "medium": 1767, "high": 7033},
                    "1536x1024": {"low": 167, "medium": 1367, "high": 5500},
                    "1024x1536": {"low": 167, "medium": 1367, "high": 5500}},
    "gpt-image-1.5": {"1024x1024": {"low": 281, "medium": 1063, "high": 4156}},
    "gpt-image-1-mini": {"1024x1024": {"low": 625, "medium": 1375, "high": 4500},
                         "1536x1024": {"low": 750, "medium": 1875, "high": 6500},
                         "1024x1536": {"low": 750, "medium": 1875, "high": 6500}},
}
# complexity (gpt-image-2.6): planning effort billed on top of the image. OpenAI publishes no
# figure (providers.md, 2026-12-03); the fake bills these per image, reported as output *text*
# tokens (output_tokens_details.text_tokens, $10/1M) as reasoning is elsewhere in OpenAI's usage.
# Unset, complexity is "high" (the documented default). fake.planning_tokens overrides them.
OPENAI_PLANNING_TOKENS = {"low": 512, "medium": 2048, "high": 6144}
# The authoring models of output_format=svg, USD per 1M tokens (text in, text out): OpenAI's model
# pages for gpt-5.1 and gpt-5.1-mini. Reasoning tokens are part of output_tokens, as in every other
# OpenAI usage object. Tokens the authoring model writes, by reasoning effort:
SVG_PRICES = {"gpt-5.1": (1.25, 10), "gpt-5.1-mini": (0.25, 2)}
SVG_OUTPUT_TOKENS = {"minimal": 900, "low": 1600, "medium": 3200, "high": 7000}


def svg_usage(plan: dict, text_tokens_in: int) -> dict:
    """What the authoring model read (the prompt and the picture described, 1,100 tokens) and wrote."""
    out = SVG_OUTPUT_TOKENS[plan["svg"]["effort"]]
    return {"model": plan["svg"]["model"], "input_tokens": text_tokens_in + 1100, "output_tokens": out,
            "reasoning_tokens": out // 2}


# xhigh/max have no published figure: the fake bills them well above high, as a model may.
OPENAI_EXTRA_QUALITY = {"xhigh": 2, "max": 4}
# USD per 1M tokens: text in, cached text in, image in, cached image in, text out, image out.
PRICES = {
    "gpt-image-2": (5, 1.25, 8, 2, 10, 30),
    "gpt-image-1.5": (5, 1.25, 8, 8, 10, 32),
    "gpt-image-1-mini": (2, 0.2, 2.5, 0.25, 8, 8),
}
# A streamed preview costs 100 output image tokens (OpenAI's image-generation guide, "Partial images cost").
PARTIAL_IMAGE_TOKENS = 100


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


class OpenAIFake(ProviderFake):
    name = "openai"
    FAULTS = OPENAI_FAULTS
    DEFAULT_USAGE = DEFAULT_OPENAI_USAGE
    OUTCOME_FAULTS = frozenset({"moderation"})
    USAGE_KEY, OUTPUT_COUNT = "usage", "output_tokens"

    def owns(self, path: str) -> bool:
        return path.startswith("/v1/images/") or path in ("/v1/images", "/v1/models")

    def headers(self, req: RecordedRequest) -> dict:
        return {
            "x-request-id": req._request_id,  # type: ignore[attr-defined]
            "openai-version": "2020-10-01",
            "openai-processing-ms": "7",
            "openai-organization": "org-fakeproviders",
        }

    def handle(self, req: RecordedRequest) -> Answer:
        req._request_id = "req_" + secrets.token_hex(16)  # type: ignore[attr-defined]
        if req.path == "/v1/models" and req.method == "GET":
            auth = req.headers.get("authorization") or ""
            key = auth[7:].strip() if auth.startswith("Bearer ") else ""
            if key not in self.fake.keys:
                return self.bad_key(key or "sk-none")
            return Answer(200, model_lists.openai_models(self.fake, key))
        if req.path not in ("/v1/images/generations", "/v1/images/edits"):
            return error(404, f"Invalid URL ({req.method} {req.path})", code=None)
        if req.method != "POST":
            return error(405, f"Invalid method for URL ({req.method} {req.path})")
        name, kw = self.pop_fault(req)
        auth = req.headers.get("authorization")
        if name == "auth":  # the server rejects the key the client sent (kw key= overrides what is echoed)
            sent = auth[7:].strip() if auth and auth.startswith("Bearer ") else ""
            return self.bad_key(kw.get("key") or sent or "sk-none")
        if not auth or not auth.startswith("Bearer ") or not auth[7:].strip():
            return error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
                "username) if you're accessing the API from your browser and are prompted for a username and "
                "password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            )
        req.key_source = "bearer"
        key = auth[7:].strip()
        if key not in self.fake.keys:
            return self.bad_key(key)
        self.sleep(name, kw)
        if self.answers_before_validation(name, kw):
            return self.fault(name, kw, req)
        try:
            if req.path.endswith("/generations"):
                params, images, mask, markup = parse_generate(req), [], None, None
            else:
                params, images, mask, markup = parse_edit(req)
            models = {m for m in self.fake.openai_models if model_lists.reaches(self.fake, key, m)}
            plan = validate(params, images, mask, markup, edit=req.path.endswith("/edits"), models=models,
                            preview_access=self.fake.openai_preview_access)
        except BadRequest as e:
            return e.answer
        if name == "moderation":
            return error(
                400,
                "Your request was rejected by the safety system. If you believe this is an error, contact us "
                f"at help.openai.com and include the request ID {req._request_id}.",  # type: ignore[attr-defined]
                type="image_generation_user_error", code="moderation_blocked",
            )
        answer = self.success(params, plan, images, edit=req.path.endswith("/edits"))
        usage = answer.json["usage"] if answer.json else None
        if usage is not None and answer.json.get("svg_usage"):
            usage = {**usage, "svg_usage": answer.json["svg_usage"]}  # billed on top of usage
        if usage is not None:
            self.bill(plan["model"], req._request_id, usage, name)  # type: ignore[attr-defined]
        return self.mangle(answer, name, kw)

    def bad_key(self, key: str) -> Answer:
        return error(
            401,
            f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )

    def fault(self, name: str, kw: dict, req: RecordedRequest) -> Answer:
        model = (req.model or "gpt-image-2")
        if name == "org_unverified":
            return error(
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
            return error(
                429,
                f"Rate limit reached for {model} in organization org-fakeproviders on images per minute (IPM): "
                f"Limit 5, Used 5, Requested 1. Please try again in {wait}. Visit "
                "https://platform.openai.com/account/rate-limits to learn more.",
                type="requests", code="rate_limit_exceeded", headers=headers,
            )
        if name == "quota":
            return error(
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
            return error(status, msg, type="server_error")
        return self.common_fault(name, kw)

    def output_tokens(self, model: str, quality: str, w: int, h: int) -> int:
        table = OPENAI_IMAGE_TOKENS[openai_family(model)]
        factor = OPENAI_EXTRA_QUALITY.get(quality, 1)
        q = "high" if factor > 1 else quality
        size = f"{w}x{h}"
        if size in table:
            return table[size][q] * factor
        return math.ceil(table["1024x1024"][q] * w * h / (1024 * 1024)) * factor

    def success(self, p: dict, plan: dict, inputs: list, *, edit: bool) -> Answer:
        u = self.fake.usage["openai"]
        n_inputs = len(inputs)
        rgb = colour_for(plan["prompt"])
        transparent = plan["background"] == "transparent"
        images = [base64.b64encode(self.picture(plan, rgb, i, transparent)).decode() for i in range(plan["n"])]
        quality = plan["quality"]
        if quality == "auto":
            quality = "high" if self.fake.worst_case else self.fake.auto_quality
        text_t = u.get("text_tokens", 9 + text_tokens(plan["prompt"], self.fake.worst_case))
        if "image_tokens_per_input_image" in u:
            img_t = u["image_tokens_per_input_image"] * n_inputs if edit else 0
        else:
            img_t = sum(openai_input_image_tokens(*im.size) for im in inputs) if edit else 0
        per_image = u.get("output_tokens_per_image") or self.output_tokens(
            plan["model"], quality, plan["w"], plan["h"])
        out_t = per_image * plan["n"] * plan.get("frames", 1)
        plan_t = 0
        if plan["model"].startswith("gpt-image-2.6"):
            level = "high" if self.fake.worst_case else (plan.get("complexity") or "high")
            plan_t = self.fake.planning_tokens.get(level, OPENAI_PLANNING_TOKENS[level]) * plan["n"]
        usage = {
            "input_tokens": text_t + img_t,
            "input_tokens_details": {"text_tokens": text_t, "image_tokens": img_t},
            "output_tokens": out_t + plan_t,
            "total_tokens": text_t + img_t + out_t + plan_t,
            "output_tokens_details": {"image_tokens": out_t, "text_tokens": plan_t},
        }
        if self.fake.openai_cached_tokens:
            usage["input_tokens_details"]["cached_tokens"] = min(self.fake.openai_cached_tokens, text_t)
        extra = {"svg_usage": svg_usage(plan, text_t)} if plan["svg"] else {}
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
            return Answer(200, body, content_type="text/event-stream; charset=utf-8")
        return Answer(200, {
            "created": created,
            "data": [{"b64_json": b} for b in images],
            "usage": usage,
            "size": size,
            "quality": quality,
            "output_format": plan["output_format"],
            "background": background,
            **extra,
        })

    def picture(self, plan: dict, rgb: tuple, index: int, transparent: bool) -> bytes:
        if plan["output_format"] == "gif":
            return render_gif(plan["w"], plan["h"], rgb, plan["frames"], plan["frame_duration_ms"])
        if plan["output_format"] == "svg":
            return (self.fake.svg_document or svg_picture(plan["w"], plan["h"], rgb)).encode()
        return render_image(plan["w"], plan["h"], rgb, index, plan["output_format"], transparent,
                            plan["compression"])


    def cost(self, model: str, usage: dict) -> Decimal:
        t_in, ct_in, i_in, ci_in, t_out, i_out = (Decimal(str(x)) for x in PRICES[openai_family(model)])
        d = usage.get("input_tokens_details", {})
        cached = d.get("cached_tokens", 0)
        c_text = min(cached, d["text_tokens"])
        out = usage.get("output_tokens_details", {})
        svg = usage.get("svg_usage")  # billed on top, at the authoring model's own prices
        svg_cost = 0
        if svg:
            s_in, s_out = (Decimal(str(x)) for x in SVG_PRICES[svg["model"]])
            svg_cost = svg["input_tokens"] * s_in + svg["output_tokens"] * s_out
        return ((d["text_tokens"] - c_text) * t_in + c_text * ct_in + d["image_tokens"] * i_in
                + out.get("text_tokens", 0) * t_out + out.get("image_tokens", 0) * i_out + svg_cost)

    def truncated_body(self) -> dict:
        b64 = base64.b64encode(render_image(64, 64, (10, 20, 30))).decode()
        return {"created": int(time.time()), "data": [{"b64_json": b64}], "size": "64x64"}

    # -- streams: previews that are coarser drafts of the final image, then ``*.completed``
    def stream_events(self, req: RecordedRequest, answer: Answer) -> list:
        out, total = [], 0
        for ev in parse_events([answer.body]):
            data = json.loads(ev.data)
            if ev.event.endswith(".partial_image"):
                total += 1  # rebuilt below as drafts of the final image
                continue
            final = base64.b64decode(data["b64_json"])
            prefix = ev.event.rsplit(".", 1)[0]
            for k in range(total):
                out.append((f"{prefix}.partial_image", {
                    **{key: data[key] for key in ("background", "created_at", "output_format", "quality", "size")},
                    "type": f"{prefix}.partial_image", "partial_image_index": k,
                    "b64_json": base64.b64encode(preview_of(final, k, total)).decode()}))
            usage = dict(data["usage"])
            usage.pop("output_tokens_details", None)  # the completed event's usage has none
            out.append((ev.event, {**data, "usage": usage}))
            self._bill_stream(req, answer, usage, total)
            total = 0
        return out

    def _bill_stream(self, req: RecordedRequest, answer: Answer, usage: dict, previews: int) -> None:
        """A streamed call is billed here, not in ``handle``: the image's usage plus the previews."""
        usage = json.loads(json.dumps(usage))
        usage["output_tokens"] += PARTIAL_IMAGE_TOKENS * previews
        usage["total_tokens"] += PARTIAL_IMAGE_TOKENS * previews
        usage["output_tokens_details"] = {"image_tokens": usage["output_tokens"], "text_tokens": 0}
        self.bill(req.model, answer.headers.get("x-request-id"), usage, None)

    def stream_error(self) -> tuple:
        return "error", {"type": "error", "error": {
            "type": "server_error", "code": "server_error", "param": None,
            "message": "The server had an error while processing your request. Sorry about that!"}}
