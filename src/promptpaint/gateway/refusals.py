"""The gateway's own refusals, in the shape of the provider the request was for (its reader's
``refusal_body``), so the official SDKs (and promptpaint's Client) show them as they show the
provider's own errors; a route of no provider gets the common ``{"error": {...}}`` shape.

401 missing or revoked token, 402 over a budget, 429 over the request rate, 403 a model or
setting the gateway will not price, 404 an unknown route, 413 a body over the limit, 400 a
request it cannot read. A refusal never carries a key or a token.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

NO_RETRY = (400, 401, 402, 403, 404, 413)
# Refusals whose status says "try later" (503) but which a retry cannot clear: the teacher set no
# key for that provider, and will not have by the SDK's next attempt.
NO_RETRY_CODES = ("provider_not_configured",)


def refuse(reader, status: int, message: str, *, code: str, param: str | None = None,
           retry_after: float | None = None) -> JSONResponse:
    headers = {"x-promptpaint-refusal": code}
    if status in NO_RETRY or code in NO_RETRY_CODES:
        headers["x-should-retry"] = "false"  # SDKs that honour it make no pointless retries
    if retry_after is not None:
        headers["retry-after"] = str(max(1, int(retry_after + 0.999)))
    if reader is not None:
        body = reader.refusal_body(status, message, code, param, retry_after)
    else:
        body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)
