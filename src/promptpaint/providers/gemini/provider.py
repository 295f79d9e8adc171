"""Gemini native image models: ``models/{model}:generateContent``."""

from __future__ import annotations

import urllib.parse

from ...redact import Secret, SecretURL, register
from ...sse import events
from ...transport import Transport, Watch
from ..base import Call, Wire
from ..http import HTTPProvider
from . import history
from .batch import GeminiBatches
from .masks import MASK_INSTRUCTION
from .stream import read_gemini
from .wire import answer_from, body, classify, model_page, retry_delay, user_turn


class GeminiProvider(HTTPProvider):
    """Masks by instruction plus a mask image (there is no mask parameter); chats replay the whole
    conversation with the model's own image parts and thought signatures; takes gs:// URIs."""

    name = "gemini"
    label = "Gemini"
    key_env = ("GOOGLE_API_KEY", "GEMINI_API_KEY")  # the SDK's order: GOOGLE_API_KEY first
    base_url_env = "GOOGLE_GEMINI_BASE_URL"
    default_base_url = "https://generativelanguage.googleapis.com"
    replays_conversation = True
    takes_uris = True
    masks_by_instruction = True
    key_placeholder = "$GEMINI_API_KEY"
    request_id_headers = ("x-request-id", "x-goog-request-id")
    mask_instruction = MASK_INSTRUCTION
    snippet_curl_output = ("jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data'"
                           " | head -n1 | base64 --decode > out.png")
    snippet_python_output = ("for part in resp.json()['candidates'][0]['content']['parts']:",
                             "    if 'inlineData' in part:",
                             "        open('out.png', 'wb').write(base64.b64decode(part['inlineData']['data']))",
                             "    elif 'text' in part:", "        print(part['text'])")
    classify = staticmethod(classify)
    retry_delay = staticmethod(retry_delay)
    compact_turn = staticmethod(history.compact)
    inflate_turn = staticmethod(history.inflate)
    inline_images = staticmethod(history.inline_images)

    @staticmethod
    def history_inputs(turns: list) -> tuple[int, str]:
        parts = history.parts(turns)
        return (sum(1 for p in parts if "inlineData" in p or "fileData" in p),
                "".join(str(p.get("text", "")) for p in parts))

    @classmethod
    def batch_api(cls, key, base_url: str) -> GeminiBatches:
        register(key)  # scrubbed from every message from here on, as a Client does with its key
        # No retries: creating a job twice would bill twice (see batchwire).
        return GeminiBatches(cls.transport(key), key, base_url)

    @staticmethod
    def worst_output(model, wc, params, first_image_size) -> dict:
        sizes = wc["image_tokens"]
        image = sizes.get(params.get("image_size") or "1K", max(sizes.values()))
        # Thinking, text and the image share the output limit; maxOutputTokens is not sent (an
        # image model that hits it ends MAX_TOKENS with no image, still billed), so the limit
        # itself is the bound. The image is priced at the image rate, the rest at text-out. A
        # user's larger max_output_tokens is taken at its word, should the API honour it.
        limit = max(wc["output_limit"], int(params.get("max_output_tokens") or 0))
        return {"output_image_tokens": image, "thinking_tokens": limit - image}

    def __init__(self, transport: Transport, api_key: str, base_url: str, api_version: str = "v1beta"):
        self.transport = transport
        self._key = Secret(api_key)
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version

    def list_models(self, cancel=None) -> list[str]:
        # GET /v1beta/models pages through ``models[]`` with ``nextPageToken`` / ``pageToken``.
        ids, token, seen = [], "", set()
        while True:
            query = f"?pageSize=1000&pageToken={urllib.parse.quote(token)}" if token else "?pageSize=1000"
            reply = self.transport.get(SecretURL(f"{self.base_url}/{self.api_version}/models{query}"),
                                       headers={"x-goog-api-key": self._key}, cancel=cancel)
            page, token = model_page(reply.body, reply.request_id)
            ids += page
            if not token or token in seen:  # a server repeating a token would loop for ever
                return ids
            seen.add(token)

    def url(self, model, stream: bool = False) -> str:
        # SecretURL: a base URL's credentials never show in a traceback's locals.
        if stream:  # the same response, as SSE chunks
            return SecretURL(f"{self.base_url}/{self.api_version}/models/{model.id}:streamGenerateContent?alt=sse")
        return SecretURL(f"{self.base_url}/{self.api_version}/models/{model.id}:generateContent")

    def user_turn(self, call: Call) -> dict:
        return user_turn(call)

    def body(self, call: Call) -> dict:
        return body(call)

    def wire(self, model, call):
        return Wire("POST", self.url(model, stream=call.previews > 0),
                    {"x-goog-api-key": self.key_placeholder, "Content-Type": "application/json"},
                    json=self.body(call), provider=self.name)

    def send(self, model, call, cancel=None, on_preview=None):
        body = self.body(call)
        url = self.url(model, stream=call.previews > 0)
        reply = self.transport.post(url, headers={"x-goog-api-key": self._key}, json=body,
                                    cancel=cancel, stream=call.previews > 0)
        n_in = sum(1 for t in body["contents"] for part in t.get("parts", [])
                   if "inlineData" in part or "fileData" in part)
        data = reply.body
        if reply.stream is not None:
            watch = Watch(self.transport.timeout[1])  # no event within the timeout ends the call
            data = read_gemini(events(self.transport.chunks(reply, url, cancel, watch)), on_preview,
                               reply.request_id, asked=call.previews, watch=watch)
        return answer_from(data, n_in, body["contents"][-1], reply.request_id, reply.attempts)
