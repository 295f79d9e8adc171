"""OpenAI Images API: ``images/generations`` (JSON) and ``images/edits`` (multipart)."""

from __future__ import annotations

import dataclasses

from ... import markup
from ...errors import InvalidRequest
from ...images import mime_of
from ...redact import Secret, SecretURL, register
from ...sse import events
from ...transport import Transport
from ..base import Call, FileRef, Wire
from ..http import HTTPProvider
from .batch import OpenAIBatches
from .masks import mask_png
from .stream import read_openai
from .wire import FIELDS, PARTIAL_IMAGE_TOKENS, _form, answer_from, classify, worst_image_tokens


class OpenAIProvider(HTTPProvider):
    """Masks as a file (alpha 0 where to edit), no conversation: each chat turn edits the last image."""

    name = "openai"
    label = "OpenAI"
    key_env = ("OPENAI_API_KEY",)
    base_url_env = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"
    preview_tokens = PARTIAL_IMAGE_TOKENS
    key_placeholder = "$OPENAI_API_KEY"
    snippet_curl_output = "jq -r '.data[0].b64_json' | base64 --decode > out.png"
    snippet_python_output = ("open('out.png', 'wb').write(base64.b64decode(resp.json()['data'][0]['b64_json']))",)
    classify = staticmethod(classify)

    @classmethod
    def batch_api(cls, key, base_url: str) -> OpenAIBatches:
        register(key)  # scrubbed from every message from here on, as a Client does with its key
        # No retries: creating a job twice would bill twice (see batchwire).
        return OpenAIBatches(cls.transport(key), key, base_url)

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
                        {**headers, "Content-Type": "application/json"}, json=fields, provider=self.name)
        files = [("image[]", f"image-{i}.png") for i in range(len(call.images))]
        if call.mask is not None:
            files.append(("mask", "mask.png"))
        if call.markup is not None:
            files.append(("markup", "markup.png"))
        return Wire("POST", f"{self.base_url}/images/edits", headers, form=_form(fields), files=files,
                    provider=self.name)

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
                files.append(("mask", ("mask.png", mask_png(call.mask), "image/png")))
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
