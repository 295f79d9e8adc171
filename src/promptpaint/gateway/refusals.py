"""The gateway's own refusals, in the shape of the provider the request was for, so the official
SDKs (and promptpaint's Client) show them as they show the provider's own errors.

401 missing or revoked token, 402 over a budget, 429 over the request rate, 403 a model or
setting the gateway will not price, 404 an unknown route, 413 a body over the limit, 400 a
request it cannot read. A refusal never carries a key or a token.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 402: "RESOURCE_EXHAUSTED",
                 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 413: "INVALID_ARGUMENT",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
OPENAI_TYPE = {400: "invalid_request_error", 401: "invalid_request_error", 402: "insufficient_quota",
               403: "invalid_request_error", 404: "invalid_request_error", 413: "invalid_request_error",
               429: "requests", 500: "server_error", 502: "server_error", 503: "server_error"}


def refuse(provider: str | None, status: int, message: str, *, code: str, param: str | None = None,
           retry_after: float | None = None) -> JSONResponse:
    headers = {"x-promptpaint-refusal": code}
    if status in (401, 402, 403, 404, 413, 400):
        headers["x-should-retry"] = "false"  # openai-python honours it: no pointless retries
    if retry_after is not None:
        headers["retry-after"] = str(max(1, int(retry_after + 0.999)))
    if provider == "gemini":
        details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": code.upper(),
                    "domain": "promptpaint-gateway"}]
        if retry_after is not None:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                            "retryDelay": f"{max(1, int(retry_after + 0.999))}s"})
        body = {"error": {"code": status, "message": message, "status": GOOGLE_STATUS.get(status, "UNKNOWN"),
                          "details": details}}
    else:  # OpenAI's shape, also for routes of no provider
        body = {"error": {"message": message, "type": OPENAI_TYPE.get(status, "invalid_request_error"),
                          "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)
