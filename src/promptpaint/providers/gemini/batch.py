"""Gemini's Batch API: ``models/{model}:batchGenerateContent`` with the requests inline (a small
job: under 20 MB and a few lines) or in a JSONL file sent through the Files API's resumable upload; the job is a long-running
operation polled at ``batches/{id}``; results come back inline or as a file streamed line by line.

Wire format checked against google-genai 3.6 (``batches.py``: ``_BatchJobSource_to_mldev``,
``_InlinedRequest_to_mldev``, ``_BatchJob_from_mldev``; ``files.py`` upload and download).
"""

from __future__ import annotations

import json
import tempfile
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from ...errors import PromptpaintError, ProviderError
from ...redact import Secret
from ...transport import Transport
from .. import batchwire
from ..base import Answer, Call
from .wire import answer_from, body as request_body, classify

INLINE_LIMIT = 20 * 2**20    # Gemini's limit for a batch sent inline; larger jobs go as a file
# Inline requests get their answers inline: every image of the job in one JSON document, held whole
# in memory (bench/batch.py: ~10x the images' size at 1,000 lines). Past this many lines the job goes
# as a file, whose answers come back as a file streamed line by line.
INLINE_MAX_LINES = 16
STATES = {"BATCH_STATE_PENDING": batchwire.PENDING, "BATCH_STATE_RUNNING": batchwire.RUNNING,
          "BATCH_STATE_SUCCEEDED": batchwire.COMPLETED, "BATCH_STATE_FAILED": batchwire.FAILED,
          "BATCH_STATE_CANCELLED": batchwire.CANCELLED, "BATCH_STATE_EXPIRED": batchwire.EXPIRED}
STATES.update({k.replace("BATCH_", "JOB_"): v for k, v in STATES.items()})
# A failed line carries a google.rpc.Status, whose code is gRPC's, not HTTP's.
RPC_TO_HTTP = {1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409,
               11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}


class GeminiBatches:
    def __init__(self, transport: Transport, api_key: str, base_url: str, api_version: str = "v1beta"):
        self.transport = transport
        self._headers = {"x-goog-api-key": Secret(api_key)}  # prints as '[key]' in a traceback
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path}"

    def line(self, model, key: str, call: Call) -> dict:
        """One line of the JSONL file form; the inline form carries the same request."""
        return {"key": key, "request": request_body(call)}

    def submit(self, model, lines: list[tuple[str, Call]], name: str) -> batchwire.Remote:
        with tempfile.TemporaryFile() as spool:
            for key, call in lines:
                spool.write(json.dumps(self.line(model, key, call)).encode("utf-8") + b"\n")
            size = spool.tell()
            spool.seek(0)
            if size < INLINE_LIMIT and len(lines) <= INLINE_MAX_LINES:
                requests = []
                for raw in spool:
                    line = json.loads(raw)
                    requests.append({"request": line["request"], "metadata": {"key": line["key"]}})
                source = {"requests": {"requests": requests}}
            else:
                source = {"fileName": self._upload(spool, size, name)}
        resp = batchwire.call(self.transport, "POST", self._url(f"models/{model.id}:batchGenerateContent"),
                              headers=self._headers,
                              json={"batch": {"displayName": name, "inputConfig": source}})
        return self._remote(batchwire.body_of(resp, "gemini"))

    def _upload(self, spool, size: int, name: str) -> str:
        """The JSONL file through the Files API's resumable protocol: start, then upload + finalize."""
        start = batchwire.call(
            self.transport, "POST", f"{self.base_url}/upload/{self.api_version}/files",
            headers={**self._headers, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                     "X-Goog-Upload-Header-Content-Length": str(size),
                     "X-Goog-Upload-Header-Content-Type": "application/jsonl"},
            json={"file": {"displayName": name, "mimeType": "application/jsonl", "sizeBytes": str(size)}})
        upload_url = start.headers.get("x-goog-upload-url")
        if not upload_url:
            raise ProviderError("Gemini's Files API gave no upload URL for the batch file.", provider="gemini")
        # Google names its own host here; the upload goes to our base URL's host (a proxy or gateway),
        # as google-genai does when base_url is given per request.
        base, given = urlsplit(self.base_url), urlsplit(upload_url)
        upload_url = urlunsplit((base.scheme, base.netloc, given.path, given.query, ""))
        done = batchwire.call(self.transport, "POST", upload_url,
                              headers={**self._headers, "X-Goog-Upload-Command": "upload, finalize",
                                       "X-Goog-Upload-Offset": "0", "Content-Length": str(size)},
                              data=spool)
        file_name = (batchwire.body_of(done, "gemini").get("file") or {}).get("name")
        if not file_name:
            raise ProviderError("Gemini's Files API did not name the uploaded batch file.", provider="gemini")
        return file_name

    def poll(self, job_id: str) -> batchwire.Remote:
        resp = batchwire.call(self.transport, "GET", self._url(job_id), headers=self._headers)
        return self._remote(batchwire.body_of(resp, "gemini"))

    def cancel(self, job_id: str) -> batchwire.Remote:
        batchwire.call(self.transport, "POST", self._url(f"{job_id}:cancel"), headers=self._headers)
        return self.poll(job_id)

    @staticmethod
    def _remote(body: dict) -> batchwire.Remote:
        meta = body.get("metadata") or body  # an Operation carries the batch in metadata
        stats = meta.get("batchStats") or {}
        if not body.get("name"):
            raise ProviderError("Gemini's Batch API answered without a batch name.", provider="gemini")
        state = STATES.get(meta.get("state"), batchwire.PENDING)
        if body.get("done") and state not in batchwire.TERMINAL:
            state = batchwire.FAILED if body.get("error") else batchwire.COMPLETED
        return batchwire.Remote(id=body["name"], state=state,
                                total=int(stats.get("requestCount") or 0),
                                completed=int(stats.get("successfulRequestCount") or 0),
                                failed=int(stats.get("failedRequestCount") or 0),
                                error=(body.get("error") or {}).get("message"), raw=body)

    def outcomes(self, remote: batchwire.Remote, inputs: dict) -> Iterator[tuple[str | int | None, Answer | PromptpaintError]]:
        """(key, Answer or error) per line the job ran; a line without its key is named by position
        (None when even that is unknown). A line that cannot be read is that line's error."""
        output = (remote.raw.get("metadata") or {}).get("output") or remote.raw.get("response") or {}
        output = output if isinstance(output, dict) else {}
        inline = output.get("inlinedResponses")
        if isinstance(inline, dict):  # the REST form nests the list once more, as the SDK reads it
            inline = inline.get("inlinedResponses")
        if inline is not None:
            if not isinstance(inline, list):
                yield None, batchwire.line_error("gemini", "inlinedResponses is not a list")
                return
            for i, item in enumerate(inline):
                yield self._keyed(item, i, inputs)
            return
        file_name = output.get("responsesFile")
        if file_name:
            resp = batchwire.call(self.transport, "GET", self._url(f"{file_name}:download?alt=media"),
                                  headers=self._headers, stream=True)
            for i, item in enumerate(batchwire.jsonl(resp)):
                if isinstance(item, batchwire.BadLine):
                    yield None, batchwire.line_error("gemini", f"line {item.number} is {item.why}")
                else:  # a file's lines come in any order: one without its key is nobody's
                    yield self._keyed(item, None, inputs, item.get("key"))

    def _keyed(self, item, i: int | None, inputs: dict, key=None):
        """(key, outcome) of one answer: its key (else, inline, its position) and what it says."""
        if not isinstance(item, dict):
            return i, batchwire.line_error("gemini", f"answer {i} is a JSON {type(item).__name__}")
        if key is None:
            meta = item.get("metadata")
            key = meta.get("key") if isinstance(meta, dict) else None
        if not isinstance(key, str):
            key = i
        return key, batchwire.read_line("gemini", self._outcome, item, inputs.get(key, 0))

    @staticmethod
    def _outcome(item: dict, n_in: int) -> Answer | PromptpaintError:
        if item.get("error"):
            err = item["error"]
            err = err if isinstance(err, dict) else {"message": str(err)}
            code = err.get("code")
            code = code if isinstance(code, int) else 13
            return classify(RPC_TO_HTTP.get(code, 500), {"error": err}, {}, None)
        response = item.get("response") or {}
        if not isinstance(response, dict):
            return batchwire.line_error("gemini", f"its response is a JSON {type(response).__name__}")
        try:
            return answer_from(response, n_in, None, None)
        except PromptpaintError as exc:
            return exc
