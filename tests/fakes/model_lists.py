"""The providers' model lists, as a key sees them: OpenAI's ``GET /v1/models`` (one page,
``data[].id``) and Gemini's ``GET /v1beta/models`` (``models[].name`` = ``models/ID`` with
``supportedGenerationMethods``, paged by ``pageSize``/``pageToken``/``nextPageToken``).

A key in ``fake.key_models`` reaches only the models listed for it (in the list *and* in calls,
which answer 404 as for a model that does not exist); any other key reaches every model served.
Both lists also hold models an image tool does not call (text, embeddings, video), as the real
lists do.
"""

from __future__ import annotations

import base64

# Served beside the image models, as the real lists do; never image models.
OPENAI_OTHER_MODELS = ("gpt-5.1", "gpt-4o-mini", "whisper-1", "text-embedding-3-small", "tts-1")
GEMINI_OTHER_MODELS = {
    "gemini-2.5-pro": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
    "gemini-embedding-001": ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
    "veo-3.1-generate-preview": ["predictLongRunning"],
    "gemini-3-pro-image-interactions": ["generateInteraction"],  # an image model not for generateContent
}
GEMINI_PAGE_SIZE, GEMINI_MAX_PAGE_SIZE = 50, 1000  # the API's default and largest pageSize


def reaches(fake, key: str, model: str) -> bool:
    allowed = fake.key_models.get(key)
    return allowed is None or model in allowed


def openai_models(fake, key: str) -> dict:
    ids = [m for m in sorted(fake.openai_models) if reaches(fake, key, m)] + list(OPENAI_OTHER_MODELS)
    return {"object": "list", "data": [
        {"id": m, "object": "model", "created": 1_745_000_000 + i, "owned_by": "system"}
        for i, m in enumerate(ids)]}


def gemini_models(fake, key: str, query: dict) -> tuple[int, dict]:
    """(status, body) for one page; a pageToken not issued here is a 400 like the real one."""
    rows = [(m, ["generateContent", "countTokens", "batchGenerateContent"])
            for m in sorted(fake.gemini_models) if reaches(fake, key, m)]
    rows += list(GEMINI_OTHER_MODELS.items())
    try:
        size = int(query.get("pageSize") or GEMINI_PAGE_SIZE)
        start = int(base64.urlsafe_b64decode(query["pageToken"]).decode()) if query.get("pageToken") else 0
    except ValueError:
        return 400, {"error": {"code": 400, "message": "Invalid page token.", "status": "INVALID_ARGUMENT"}}
    size = max(1, min(size, GEMINI_MAX_PAGE_SIZE, fake.gemini_list_page_max))
    page = rows[start:start + size]
    body = {"models": [{
        "name": f"models/{m}", "version": "001", "displayName": m.replace("-", " ").title(),
        "description": f"The fake's {m}.", "inputTokenLimit": 65536, "outputTokenLimit": 32768,
        "supportedGenerationMethods": methods} for m, methods in page]}
    if start + size < len(rows):
        body["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return 200, body
