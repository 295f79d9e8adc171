"""OpenAI's Batch API for images: a JSONL file uploaded to ``/v1/files`` (``purpose=batch``), a
job at ``POST /v1/batches`` for ``/v1/images/generations`` or ``/v1/images/edits``, and the output
and error files streamed back line by line.

Wire format checked against openai-python 3.57 (``resources/batches.py``, ``resources/files.py``,
``types/batch.py``) and OpenAI's batch guide. A batch line's body is JSON, so edits use the
Images API's JSON edit body (OpenAPI ``EditImageBodyJsonParam``: ``images`` as ``{"image_url":
data URL}`` items), which the SDK's multipart-only ``images.edit`` does not send.
"""

from __future__ import annotations

import base64
import json
from typing import Iterator

from ...errors import InvalidRequest, PromptpaintError, ProviderError
from ...transport import Transport
from .. import batchwire
from ...images import mime_of
from ...redact import Secret
from ..base import Answer, Call, FileRef
from .wire import FIELDS, answer_from, classify
from .masks import mask_png

GENERATE, EDIT = "/v1/images/generations", "/v1/images/edits"
STATES = {"validating": batchwire.PENDING, "in_progress": batchwire.RUNNING,
          "finalizing": batchwire.RUNNING, "completed": batchwire.COMPLETED, "failed": batchwire.FAILED,
          "expired": batchwire.EXPIRED, "cancelling": batchwire.CANCELLING, "cancelled": batchwire.CANCELLED}
MAX_LINES = 50_000           # the Batch API's limit per file
MAX_FILE_BYTES = 200 * 2**20


class OpenAIBatches:
    def __init__(self, transport: Transport, api_key: str, base_url: str):
        self.transport = transport
        self._headers = {"Authorization": Secret(f"Bearer {api_key}")}  # prints as '[key]' in a traceback
        self.base_url = base_url.rstrip("/")

    def line(self, model, key: str, call: Call) -> dict:
        if any(isinstance(im, FileRef) for im in call.images):
            raise InvalidRequest("OpenAI edits take image files, not URIs: pass the image itself.",
                                 param="images")
        body = {"model": model.id, "prompt": call.prompt}
        body.update({k: call.params[k] for k in FIELDS if k in call.params})
        if not call.images:
            return {"custom_id": key, "method": "POST", "url": GENERATE, "body": body}
        body["images"] = [{"image_url": _data_url(im)} for im in call.images]
        if call.mask is not None:
            body["mask"] = {"image_url": _data_url(mask_png(call.mask))}
        return {"custom_id": key, "method": "POST", "url": EDIT, "body": body}

    def submit(self, model, lines: list[tuple[str, Call]], name: str) -> batchwire.Remote:
        if len(lines) > MAX_LINES:
            raise InvalidRequest(f"An OpenAI batch takes at most {MAX_LINES} prompts; split the list.",
                                 param="prompts")
        encoded = [self.line(model, key, call) for key, call in lines]
        endpoint = encoded[0]["url"]
        if any(line["url"] != endpoint for line in encoded):
            raise InvalidRequest("One OpenAI batch is all generations or all edits: give images= for every "
                                 "prompt or for none.", param="images")
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in encoded).encode("utf-8")
        del encoded
        if len(data) > MAX_FILE_BYTES:
            raise InvalidRequest("The batch file would pass OpenAI's 200 MB limit; split the prompts.",
                                 param="prompts")
        resp = batchwire.call(self.transport, "POST", f"{self.base_url}/files", headers=self._headers,
                              data={"purpose": "batch"},
                              files=[("file", (f"{name}.jsonl", data, "application/jsonl"))])
        file_id = batchwire.body_of(resp, "openai").get("id")
        if not file_id:
            raise ProviderError("OpenAI's file upload answered without a file id.", provider="openai")
        resp = batchwire.call(self.transport, "POST", f"{self.base_url}/batches", headers=self._headers,
                              json={"input_file_id": file_id, "endpoint": endpoint,
                                    "completion_window": "24h", "metadata": {"promptpaint": name}})
        return self._remote(batchwire.body_of(resp, "openai"))

    def poll(self, job_id: str) -> batchwire.Remote:
        resp = batchwire.call(self.transport, "GET", f"{self.base_url}/batches/{job_id}", headers=self._headers)
        return self._remote(batchwire.body_of(resp, "openai"))

    def cancel(self, job_id: str) -> batchwire.Remote:
        resp = batchwire.call(self.transport, "POST", f"{self.base_url}/batches/{job_id}/cancel",
                              headers=self._headers)
        return self._remote(batchwire.body_of(resp, "openai"))

    @staticmethod
    def _remote(body: dict) -> batchwire.Remote:
        counts = body.get("request_counts") or {}
        errors = ((body.get("errors") or {}).get("data") or [])
        error = "; ".join(str(e.get("message")) for e in errors if e.get("message")) or None
        if not body.get("id"):
            raise ProviderError("OpenAI's Batch API answered without a batch id.", provider="openai")
        return batchwire.Remote(id=body["id"], state=STATES.get(body.get("status"), batchwire.RUNNING),
                                total=counts.get("total") or 0, completed=counts.get("completed") or 0,
                                failed=counts.get("failed") or 0, error=error, raw=body)

    def outcomes(self, remote: batchwire.Remote, inputs: dict) -> Iterator[tuple[str | None, Answer | PromptpaintError]]:
        """(custom_id, Answer or error) for every line the job ran, streamed from its files;
        ``inputs`` maps a custom_id to its number of input images. A line that cannot be read is
        that line's error (its custom_id None when even that is unreadable), never the job's."""
        for file_id in (remote.raw.get("output_file_id"), remote.raw.get("error_file_id")):
            if not file_id:
                continue
            resp = batchwire.call(self.transport, "GET", f"{self.base_url}/files/{file_id}/content",
                                  headers=self._headers, stream=True)
            for line in batchwire.jsonl(resp):
                if isinstance(line, batchwire.BadLine):
                    yield None, batchwire.line_error("openai", f"line {line.number} is {line.why}")
                    continue
                key = line.get("custom_id")
                key = key if isinstance(key, str) else None
                yield key, batchwire.read_line("openai", self._outcome, line, inputs.get(key, 0))

    @staticmethod
    def _outcome(line: dict, n_in: int) -> Answer | PromptpaintError:
        response = line.get("response") or {}
        if not isinstance(response, dict):
            return batchwire.line_error("openai", f"its response is a JSON {type(response).__name__}")
        status, body = response.get("status_code"), response.get("body") or {}
        rid = response.get("request_id")
        rid = rid if isinstance(rid, str) else None
        if line.get("error") and not response:
            err = line["error"]
            said = (err.get("message") or err.get("code")) if isinstance(err, dict) else err
            return ProviderError(f"OpenAI did not run this line: {said}", provider="openai")
        if not isinstance(body, dict):
            return batchwire.line_error("openai", f"its body is a JSON {type(body).__name__}")
        if status == 200:
            try:
                return answer_from(body, n_in, rid)
            except PromptpaintError as exc:
                return exc
        return classify(status if isinstance(status, int) and 400 <= status < 600 else 500, body, {}, rid)


def _data_url(data: bytes) -> str:
    return f"data:{mime_of(data) or 'image/png'};base64,{base64.b64encode(data).decode('ascii')}"
