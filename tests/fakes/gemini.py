"""The Gemini API (``models/{m}:generateContent`` and ``:streamGenerateContent``): its answers,
``usageMetadata`` (thinking included), thought signatures, bill, faults and streamed chunks, as the
real service gives them.

Prices and token counts are copied from shared/reference/providers.md (corrected 2026-11-25), NOT
from promptpaint's registry: the fake is the judge of the client's arithmetic, so it keeps its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from decimal import Decimal
from typing import Any

from promptpaint.sse import events as parse_events

from . import model_lists
from .base import ProviderFake, billed_fault
from .gemini_params import error, validate
from .images import colour_for, preview_of, render_image, text_tokens
from .wire import Answer, BadRequest, RecordedRequest

GEMINI_KEY = "AIza-test-gemini-0123456789abcdef"
# Overrides of today's token counts, e.g. fake.usage["gemini"]["thoughts_tokens"] = 0. Keys:
# text_tokens, image_tokens_per_input_image, output_image_tokens, output_text_tokens, thoughts_tokens.
DEFAULT_GEMINI_USAGE: dict = {}
GEMINI_FAULTS = (
    "auth", "permission", "rate_limit", "free_tier", "server_error", "image_safety",
    "blocked", "text_only", "non_json", "truncated", "slow", "status", "drop_after_read", "odd_usage",
)
# USD per 1M tokens: text in, cached text in, image in, cached image in, text out, image out.
PRICES = {
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


class GeminiFake(ProviderFake):
    name = "gemini"
    FAULTS = GEMINI_FAULTS
    DEFAULT_USAGE = DEFAULT_GEMINI_USAGE
    OUTCOME_FAULTS = frozenset({"image_safety", "blocked", "text_only"})
    USAGE_KEY, OUTPUT_COUNT = "usageMetadata", "candidatesTokenCount"

    def owns(self, path: str) -> bool:
        return path.startswith(("/v1beta/", "/v1/models/", "/v1alpha/"))

    def bad_key(self) -> Answer:
        msg = "API key not valid. Please pass a valid API key."
        return error(400, "INVALID_ARGUMENT", msg, [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": msg},
        ])

    def handle(self, req: RecordedRequest) -> Answer:
        if re.fullmatch(r"/(v1beta|v1|v1alpha)/models", req.path) and req.method == "GET":
            key = req.headers.get("x-goog-api-key") or req.query.get("key")
            if key not in self.fake.keys:
                return self.bad_key()
            status, listing = model_lists.gemini_models(self.fake, key, req.query)
            return Answer(status, listing, content_type="application/json; charset=UTF-8")
        m = re.fullmatch(r"/(v1beta|v1|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)", req.path)
        if not m:
            return error(404, "NOT_FOUND", f"Method not found: {req.method} {req.path}")
        version, model, method = m.groups()
        if req.method != "POST":
            return error(405, "METHOD_NOT_ALLOWED", f"Method {req.method} not allowed")
        name, kw = self.pop_fault(req)
        if name == "auth":
            return self.bad_key()
        header_key = req.headers.get("x-goog-api-key")
        query_key = req.query.get("key")
        key = header_key if header_key is not None else query_key
        req.key_source = "header" if header_key is not None else ("query" if query_key is not None else None)
        if not key:
            return error(
                403, "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use "
                "API Key or other form of API consumer identity to call this API.")
        if key not in self.fake.keys:
            return self.bad_key()
        self.sleep(name, kw)
        if self.answers_before_validation(name, kw):
            return self.fault(name, kw, model)
        if model not in self.fake.gemini_models or not model_lists.reaches(self.fake, key, model):
            return error(
                404, "NOT_FOUND",
                f"models/{model} is not found for API version {version}, or is not supported for generateContent. "
                "Call ListModels to see the list of available models and their supported methods.")
        try:
            plan = validate(self.fake, req, model)
        except BadRequest as e:
            return e.answer
        answer_json = self.answer(model, plan, name, kw)
        self.bill(model, answer_json["responseId"], answer_json["usageMetadata"], name)
        if billed_fault(name, kw):
            return self.mangle(Answer(200, answer_json, content_type="application/json; charset=UTF-8"),
                               name, kw)
        if method == "streamGenerateContent":
            if req.query.get("alt") == "sse":
                return Answer(200, f"data: {json.dumps(answer_json)}\r\n\r\n",
                               content_type="text/event-stream")
            return Answer(200, [answer_json], content_type="application/json; charset=UTF-8")
        return Answer(200, answer_json, content_type="application/json; charset=UTF-8")

    def fault(self, name: str, kw: dict, model: str) -> Answer:
        if name == "permission":
            return error(
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
            return error(429, "RESOURCE_EXHAUSTED", msg, [
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
            return error(status, st, msg)
        return self.common_fault(name, kw)

    def answer(self, model: str, plan: dict, fault: str | None, kw: dict) -> dict:
        u = {"text_tokens": 4 + text_tokens(plan["all_text"], self.fake.worst_case),
             "image_tokens_per_input_image": GEMINI_INPUT_IMAGE_TOKENS.get(model, 1120),
             "output_image_tokens": GEMINI_IMAGE_TOKENS[model].get(plan["image_size"], 1120),
             "output_text_tokens": 9, "thoughts_tokens": GEMINI_THOUGHTS[model], **self.fake.usage["gemini"]}
        if self.fake.worst_case:  # thinking fills what the output limit leaves
            u["thoughts_tokens"] = GEMINI_OUTPUT_LIMIT - u["output_image_tokens"] - u["output_text_tokens"]
        k = plan["n_images"]
        prompt_details = [{"modality": "TEXT", "tokenCount": u["text_tokens"]}]
        if k:
            prompt_details.append({"modality": "IMAGE", "tokenCount": u["image_tokens_per_input_image"] * k})
        prompt_tokens = u["text_tokens"] + u["image_tokens_per_input_image"] * k
        resp: dict[str, Any] = {}
        prompt_only_usage = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens,
                             "promptTokensDetails": prompt_details}
        if self.fake.gemini_tool_use_tokens:
            prompt_only_usage["toolUsePromptTokenCount"] = self.fake.gemini_tool_use_tokens
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
            with self.fake._lock:
                self.fake.issued_signatures[sig] = hashlib.sha256(png).hexdigest()
            parts.append({"text": "Here is the image you asked for."})
            parts.append({"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()},
                          "thoughtSignature": base64.b64encode(sig).decode()})
            cand_details = [{"modality": "TEXT", "tokenCount": out_text},
                            {"modality": "IMAGE", "tokenCount": out_image}]
            cand_tokens = out_text + out_image
        cand_tokens += self.fake.gemini_unitemised_tokens
        usage = {**prompt_only_usage, "candidatesTokenCount": cand_tokens,
                 "totalTokenCount": prompt_tokens + cand_tokens + thoughts + self.fake.gemini_tool_use_tokens,
                 "candidatesTokensDetails": cand_details}
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        resp = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": usage, "modelVersion": model, "responseId": response_id}
        return resp


    def cost(self, model: str, usage: dict) -> Decimal:
        t_in, ct_in, i_in, ci_in, t_out, i_out = (Decimal(str(x)) for x in PRICES[model])
        pd = {x["modality"]: x["tokenCount"] for x in usage.get("promptTokensDetails", [])}
        cd = {x["modality"]: x["tokenCount"] for x in usage.get("candidatesTokensDetails", [])}
        out_text = usage.get("candidatesTokenCount", 0) - cd.get("IMAGE", 0)
        return ((pd.get("TEXT", 0) + usage.get("toolUsePromptTokenCount", 0)) * t_in
                + pd.get("IMAGE", 0) * i_in
                + (out_text + usage.get("thoughtsTokenCount", 0)) * t_out + cd.get("IMAGE", 0) * i_out)

    def truncated_body(self) -> dict:
        b64 = base64.b64encode(render_image(64, 64, (10, 20, 30))).decode()
        return {"candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "image/png", "data": b64}}]}, "finishReason": "STOP", "index": 0}]}

    # -- streams (``streamGenerateContent?alt=sse``): interim images marked ``thought: true``, then the
    # text and the final image; every chunk carries the cumulative ``usageMetadata`` so far.
    def stream_events(self, req: RecordedRequest, answer: Answer) -> list:
        previews = self.fake.streaming.previews
        body = answer.body
        (ev,) = list(parse_events([body]))
        whole = json.loads(ev.data)
        meta = {k: whole[k] for k in ("modelVersion", "responseId") if k in whole}
        usage = whole.get("usageMetadata") or {}
        prompt_only = {k: usage[k] for k in ("promptTokenCount", "promptTokensDetails") if k in usage}
        prompt_only["totalTokenCount"] = usage.get("promptTokenCount", 0)
        cands = whole.get("candidates") or []
        parts = (cands[0].get("content") or {}).get("parts", []) if cands else []
        image = next((p for p in parts if "inlineData" in p and not p.get("thought")), None)
        out = []
        if image is not None:
            final = base64.b64decode(image["inlineData"]["data"])
            for k in range(previews):
                out.append((None, {"candidates": [{"content": {"role": "model", "parts": [
                    {"inlineData": {"mimeType": "image/png",
                                    "data": base64.b64encode(preview_of(final, k, previews)).decode()},
                     "thought": True}]}, "index": 0}], "usageMetadata": prompt_only, **meta}))
            before = [p for p in parts if p is not image]
            if before:
                out.append((None, {"candidates": [{"content": {"role": "model", "parts": before}, "index": 0}],
                                   "usageMetadata": prompt_only, **meta}))
            last = {**cands[0], "content": {"role": "model", "parts": [image]}}
            out.append((None, {**whole, "candidates": [last]}))
        else:
            out.append((None, whole))
        return out

    def stream_event(self, name: str | None, data: dict) -> bytes:
        return f"data: {json.dumps(data)}\r\n\r\n".encode()  # Gemini ends its events with CRLF CRLF

    def stream_error(self) -> tuple:
        return None, {"error": {"code": 500, "status": "INTERNAL",
                                "message": "An internal error has occurred. Please retry or report."}}
