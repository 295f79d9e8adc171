"""OpenAI's Batch API for image generation: a JSONL file uploaded to ``/v1/files``
(``purpose=batch``), a job at ``POST /v1/batches`` for ``/v1/images/generations``, and the
output and error files streamed back line by line.

Wire format checked against openai-python 3.57 (``resources/batches.py``, ``resources/files.py``,
``types/batch.py``) and OpenAI's batch guide.
"""

from __future__ import annotations

import json
from typing import Iterator

from ..errors import InvalidRequest, PromptpaintError, ProviderError
from ..transport import Transport
from . import batchwire
from .base import Answer, Call
from .openai import FIELDS, answer_from, classify

ENDPOINT = "/v1/images/generations"
STATES = {"validating": batchwire.PENDING, "in_progress": batchwire.RUNNING,
          "finalizing": batchwire.RUNNING, "completed": batchwire.COMPLETED, "failed": batchwire.FAILED,
          "expired": batchwire.EXPIRED, "cancelling": batchwire.CANCELLING, "cancelled": batchwire.CANCELLED}
MAX_LINES = 50_000           # the Batch API's limit per file
MAX_FILE_BYTES = 200 * 2**20


class OpenAIBatches:
    def __init__(self, transport: Transport, api_key: str, base_url: str):
        self.transport = transport
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self.base_url = base_url.rstrip("/")

    def line(self, model, key: str, call: Call) -> dict:
        if call.images or call.mask is not None:
            raise InvalidRequest(
                "promptpaint sends OpenAI batch jobs for image generation only: the edits endpoint's "
                "image inputs in a batch file are not in the SDK's types we check against. Edit with "
                "client.edit(), or batch edits with Gemini.", param="images")
        body = {"model": model.id, "prompt": call.prompt}
        body.update({k: call.params[k] for k in FIELDS if k in call.params})
        return {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}

    def submit(self, model, lines: list[tuple[str, Call]], name: str) -> batchwire.Remote:
        if len(lines) > MAX_LINES:
            raise InvalidRequest(f"An OpenAI batch takes at most {MAX_LINES} prompts; split the list.",
                                 param="prompts")
        data = "".join(json.dumps(self.line(model, key, call), ensure_ascii=False) + "\n"
                       for key, call in lines).encode("utf-8")
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
                              json={"input_file_id": file_id, "endpoint": ENDPOINT,
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

    def outcomes(self, remote: batchwire.Remote, inputs: dict) -> Iterator[tuple[str, Answer | PromptpaintError]]:
        """(custom_id, Answer or error) for every line the job ran, streamed from its files.
        ``inputs`` (key -> input images) is unused: OpenAI batches here are generations."""
        for file_id in (remote.raw.get("output_file_id"), remote.raw.get("error_file_id")):
            if not file_id:
                continue
            resp = batchwire.call(self.transport, "GET", f"{self.base_url}/files/{file_id}/content",
                                  headers=self._headers, stream=True)
            for line in batchwire.jsonl(resp):
                yield line.get("custom_id"), self._outcome(line)

    @staticmethod
    def _outcome(line: dict) -> Answer | PromptpaintError:
        response = line.get("response") or {}
        status, body = response.get("status_code"), response.get("body") or {}
        rid = response.get("request_id")
        if line.get("error") and not response:
            err = line["error"]
            return ProviderError(f"OpenAI did not run this line: {err.get('message') or err.get('code')}",
                                 provider="openai")
        if status == 200:
            try:
                return answer_from(body, 0, rid)
            except PromptpaintError as exc:
                return exc
        return classify(status or 500, body if isinstance(body, dict) else {}, {}, rid)
