"""OpenAI Images API: ``images/generations`` (JSON) and ``images/edits`` (multipart)."""

from __future__ import annotations

import dataclasses

from ... import markup
from ...errors import InvalidRequest, Unbounded
from ...images import mime_of
from ...redact import Secret, SecretURL, register
from ...sse import events
from ...transport import Transport, Watch
from ..base import Call, FileRef, Wire
from ..http import HTTPProvider
from .batch import OpenAIBatches
from .masks import mask_png
from .stream import read_openai
from .wire import (FIELDS, PARTIAL_IMAGE_TOKENS, _form, answer_from, classify, model_ids, svg_fields,
                   worst_image_tokens)


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
        # A GIF bills each frame as an image (frame_count, else OpenAI's default of 9).
        frames = int(params.get("frame_count") or wc.get("gif_default_frames", 9)) \
            if params.get("output_format") == "gif" else 1
        per_image = worst_image_tokens(model, wc, params, first_image_size) * frames + int(
            wc.get("planning_tokens_per_image", 0))
        out = {"output_image_tokens": per_image * int(params.get("n") or 1)}
        if params.get("output_format") == "svg":
            # svg_usage is billed on top at the authoring model's prices: reserved only from a
            # published bound (worst_cases' svg_authoring_tokens), else the call needs ceiling=.
            bound = wc.get("svg_authoring_tokens")
            if not bound:
                raise Unbounded(f"output_format='svg' on {model.id}: OpenAI publishes no bound on the "
                                "authoring model's svg_usage, so a budget needs ceiling= for it")
            out.update(authoring_model=params.get("svg_model") or bound["model"],
                       authoring_input_tokens=int(bound["input"]), authoring_output_tokens=int(bound["output"]))
        return out

    def __init__(self, transport: Transport, api_key: str, base_url: str):
        self.transport = transport
        self._key = Secret(api_key)
        self.base_url = base_url.rstrip("/")

    @staticmethod
    def image_model(model_id: str) -> bool:
        return "image" in model_id or model_id.startswith("dall-e")

    def list_models(self, cancel=None) -> list[str]:
        # GET /v1/models: every model the key's project may use, in one page (``data[].id``).
        reply = self.transport.get(SecretURL(f"{self.base_url}/models"),
                                   headers={"Authorization": Secret(f"Bearer {self._key}")}, cancel=cancel)
        return model_ids(reply.body, reply.request_id)

    def _fields(self, model, call: Call) -> dict:
        out = {"model": model.id, "prompt": call.prompt}
        out.update({k: call.params[k] for k in FIELDS if k in call.params})
        out.update(svg_fields(call.params, form=call.kind != "generate"))
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
        if call.kind == "generate" and not call.images:
            return Wire("POST", f"{self.base_url}/images/generations",
                        {**headers, "Content-Type": "application/json"}, json=fields, provider=self.name)
        files = [("image[]", f"image-{i}.png") for i in range(len(call.images))]
        payloads = {f"image-{i}.png": data for i, data in enumerate(call.images) if isinstance(data, bytes)}
        if call.mask is not None:
            files.append(("mask", "mask.png"))
            payloads["mask.png"] = mask_png(call.mask)
        if call.markup is not None:
            files.append(("markup", "markup.png"))
            payloads["markup.png"] = markup.png(call.markup)
        return Wire("POST", f"{self.base_url}/images/edits", headers, form=_form(fields), files=files,
                    provider=self.name, payloads=payloads)

    def send(self, model, call, cancel=None, on_preview=None):
        headers = {"Authorization": Secret(f"Bearer {self._key}")}
        fields = self._fields(model, call)
        stream = call.previews > 0
        if stream:
            fields.update(stream=True, partial_images=call.previews)
        # Reference images go to images/edits, the endpoint that takes image files (image[]);
        # images/generations is text only.
        if call.kind == "generate" and not call.images:
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
        watch = Watch(self.transport.timeout[1])  # no event within the timeout ends the call
        body = read_openai(events(self.transport.chunks(reply, url, cancel, watch)), on_preview,
                           reply.request_id, asked=call.previews * int(call.params.get("n") or 1),  # per image
                           watch=watch)
        answer = answer_from(body, n_in, reply.request_id, reply.attempts)
        if not answer.usage_problem and body["partial_images"]:
            # "Each partial image will incur an additional 100 image output tokens" (OpenAI's
            # image-generation guide, "Partial images cost"); the completed usage has the image's own.
            answer.usage = dataclasses.replace(answer.usage, output_image_tokens=answer.usage.output_image_tokens
                                               + PARTIAL_IMAGE_TOKENS * body["partial_images"])
        return answer
