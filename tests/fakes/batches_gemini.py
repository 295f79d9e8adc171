"""Gemini's Batch API on the fake: ``models/{m}:batchGenerateContent`` (inline requests or an
uploaded file), ``batches/{id}`` (get, ``:cancel``), the Files API's resumable upload and
``files/{id}:download``."""

from __future__ import annotations

import json
import re
import secrets
import time

from .batch_jobs import Job, iso
from .wire import Answer, RecordedRequest

INLINE_LIMIT = 20 * 2**20
RPC_CODES = {"INVALID_ARGUMENT": 3, "NOT_FOUND": 5, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
             "INTERNAL": 13, "UNAVAILABLE": 14, "UNAUTHENTICATED": 16, "FAILED_PRECONDITION": 9}


class GeminiBatches:
    def __init__(self, batches):
        self.b = batches  # the FakeBatches that keeps jobs, files and the clock
        self._uploads: dict[str, dict] = {}

    def owns(self, path: str, headers) -> bool:
        if path.startswith(("/upload/v1beta/files", "/upload/v1/files", "/download/v1beta/files")):
            return True
        if re.fullmatch(r"/(v1beta|v1)/models/[^/:]+:batchGenerateContent", path):
            return True
        if path.startswith(("/v1beta/batches", "/v1beta/files")):
            return True
        return path.startswith(("/v1/files", "/v1/batches")) and "x-goog-api-key" in headers

    def line_path(self, job: Job) -> str:
        return f"/v1beta/models/{job.model}:generateContent"

    def line_headers(self, job: Job) -> list:
        return [("x-goog-api-key", job.key), ("content-type", "application/json")]

    def prepare_line(self, req: RecordedRequest, body) -> None:
        return None

    def bill_id(self, req: RecordedRequest, answer: Answer) -> str:
        return answer.json.get("responseId")

    def validate(self, job: Job) -> list:
        return []  # Gemini judges each request as its line runs

    def _gm_error(self, code, status, message):
        return Answer(code, {"error": {"code": code, "message": message, "status": status}})

    def handle(self, req: RecordedRequest) -> Answer:
        p, m = req.path, req.method
        if p.startswith("/upload/") and "upload_id" in req.query:
            return self._gm_upload_finish(req)
        key = req.headers.get("x-goog-api-key")
        if key is None:
            return self._gm_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.")
        if key not in self.b.fake.keys:
            return self._gm_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        req.key_source = "header"
        if p.startswith("/upload/") and m == "POST":
            return self._gm_upload_start(req)
        mm = re.fullmatch(r"/(?:download/)?(v1beta|v1)/files/([^/:]+):download", p)
        if mm and m == "GET":
            f = self.b.files.get(f"files/{mm.group(2)}")
            if f is None or req.query.get("alt") != "media":
                return self._gm_error(404, "NOT_FOUND", f"File files/{mm.group(2)} not found.")
            return Answer(200, f["bytes"], content_type="application/octet-stream")
        mm = re.fullmatch(r"/(v1beta|v1)/models/([^/:]+):batchGenerateContent", p)
        if mm:
            return self._gm_create(req, mm.group(2), key)
        mm = re.fullmatch(r"/(v1beta|v1)/(batches/[^/:]+)(:cancel)?", p)
        if mm:
            job = self.b.jobs.get(mm.group(2))
            if job is None or job.provider != "gemini":
                return self._gm_error(404, "NOT_FOUND", f"Batch {mm.group(2)} not found.")
            if mm.group(3):
                if m != "POST":
                    return self._gm_error(405, "METHOD_NOT_ALLOWED", f"Method {m} not allowed")
                if self.b._stage(job) != "done" and job.cancelled_at is None:
                    job.cancelled_at = time.time()
                return Answer(200, {})
            return Answer(200, self._gm_operation(job))
        return self._gm_error(404, "NOT_FOUND", f"Method not found: {m} {p}")

    def _gm_upload_start(self, req: RecordedRequest) -> Answer:
        h = req.headers
        if h.get("x-goog-upload-protocol") != "resumable" or h.get("x-goog-upload-command") != "start":
            return self._gm_error(400, "INVALID_ARGUMENT", "Expected a resumable upload start.")
        size = h.get("x-goog-upload-header-content-length")
        if size is None or not size.isdigit():
            return self._gm_error(400, "INVALID_ARGUMENT", "X-Goog-Upload-Header-Content-Length is required.")
        upload_id = secrets.token_hex(12)
        meta = (req.json or {}).get("file") or {}
        self._uploads[upload_id] = {"size": int(size), "meta": meta,
                                    "mime": h.get("x-goog-upload-header-content-type") or meta.get("mimeType")}
        # Google answers with its own host; a client behind a proxy or base URL must re-aim it.
        url = f"https://generativelanguage.googleapis.com{req.path}?upload_id={upload_id}&upload_protocol=resumable"
        return Answer(200, b"", headers={"x-goog-upload-url": url, "x-goog-upload-status": "active"},
                       content_type="text/plain")

    def _gm_upload_finish(self, req: RecordedRequest) -> Answer:
        up = self._uploads.pop(req.query["upload_id"], None)
        if up is None:
            return self._gm_error(404, "NOT_FOUND", "No such upload session.")
        command = (req.headers.get("x-goog-upload-command") or "").replace(" ", "")
        if command != "upload,finalize" or req.headers.get("x-goog-upload-offset") != "0":
            return self._gm_error(400, "INVALID_ARGUMENT", "This fake takes the file in one upload,finalize chunk.")
        if len(req.raw) != up["size"]:
            return self._gm_error(400, "INVALID_ARGUMENT", f"Upload size {len(req.raw)} != declared {up['size']}.")
        name = "files/" + secrets.token_hex(6)
        self.b.files[name] = {"bytes": req.raw, "purpose": "batch", "filename": up["meta"].get("displayName") or name,
                            "created": time.time()}
        return Answer(200, {"file": {"name": name, "displayName": up["meta"].get("displayName"),
                                      "mimeType": up["mime"], "sizeBytes": str(up["size"]),
                                      "createTime": iso(time.time()), "updateTime": iso(time.time()),
                                      "uri": f"https://generativelanguage.googleapis.com/v1beta/{name}",
                                      "state": "ACTIVE", "source": "UPLOADED"}},
                       headers={"x-goog-upload-status": "final"})

    def _gm_create(self, req: RecordedRequest, model: str, key: str) -> Answer:
        if model not in self.b.fake.gemini_models:
            return self._gm_error(404, "NOT_FOUND", f"models/{model} is not found or does not support batches.")
        body = req.json if isinstance(req.json, dict) else {}
        batch = body.get("batch")
        if not isinstance(batch, dict):
            return self._gm_error(400, "INVALID_ARGUMENT", "* BatchGenerateContentRequest.batch: batch is required\n")
        source = batch.get("inputConfig") or {}
        inline, file_name = (source.get("requests") or {}).get("requests"), source.get("fileName")
        if (inline is None) == (file_name is None):
            return self._gm_error(400, "INVALID_ARGUMENT",
                                  "* BatchGenerateContentRequest.batch.input_config: exactly one of requests or "
                                  "file_name is required\n")
        if inline is not None:
            if len(req.raw) > INLINE_LIMIT:
                return self._gm_error(400, "INVALID_ARGUMENT", "Inline batch requests exceed 20 MB; use a file.")
            lines = []
            for i, item in enumerate(inline):
                if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
                    return self._gm_error(400, "INVALID_ARGUMENT",
                                          f"* requests[{i}].request: request is required\n")
                lines.append(((item.get("metadata") or {}).get("key"), item["request"]))
        else:
            f = self.b.files.get(file_name)
            if f is None:
                return self._gm_error(404, "NOT_FOUND", f"File {file_name} not found.")
            lines = []
            for raw in f["bytes"].decode("utf-8").splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    lines.append((line.get("key"), line.get("request")))
        if not lines:
            return self._gm_error(400, "INVALID_ARGUMENT", "A batch needs at least one request.")
        job = Job("gemini", "batches/" + secrets.token_hex(8), model, lines, key,
                   {"displayName": batch.get("displayName"), "inline": inline is not None})
        self.b.jobs[job.id] = job
        return Answer(200, self._gm_operation(job))

    def _gm_state(self, job: Job) -> str:
        stage = self.b._stage(job)
        if stage == "done":
            if job.expired_at is not None:
                return "BATCH_STATE_EXPIRED"
            return "BATCH_STATE_CANCELLED" if job.cancelled_at is not None else "BATCH_STATE_SUCCEEDED"
        return "BATCH_STATE_PENDING" if stage == "pending" else "BATCH_STATE_RUNNING"

    def _gm_operation(self, job: Job) -> dict:
        state = self._gm_state(job)
        ok = sum(1 for r in job.results.values() if r["status"] == 200)
        meta = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                "model": f"models/{job.model}", "displayName": job.extra["displayName"],
                "createTime": iso(job.created), "updateTime": iso(time.time()), "state": state,
                "name": job.id,
                "batchStats": {"requestCount": str(len(job.lines)), "successfulRequestCount": str(ok),
                               "failedRequestCount": str(len(job.results) - ok),
                               "pendingRequestCount": str(len(job.lines) - len(job.results))}}
        op = {"name": job.id, "metadata": meta}
        if job.finished_at is not None:
            meta["endTime"] = iso(job.finished_at)
            meta["output"] = job.output
            op["done"] = True
            op["response"] = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main."
                                       "GenerateContentBatchOutput", **job.output}
        return op

    def _gm_item(self, r: dict) -> dict:
        if r["status"] == 200:
            return {"response": r["json"]}
        err = (r["json"] or {}).get("error") or {}
        return {"error": {"code": RPC_CODES.get(err.get("status"), 13), "message": err.get("message", ""),
                          "status": err.get("status", "INTERNAL")}}

    def finish(self, job: Job) -> None:
        items = []
        for i in sorted(job.results):
            r = job.results[i]
            items.append((r["key"], self._gm_item(r)))
        if job.extra["inline"]:
            job.output = {"inlinedResponses": {"inlinedResponses": [
                {**item, **({"metadata": {"key": key}} if key is not None else {})} for key, item in items]}}
        else:
            data = "".join(json.dumps({"key": key, **item}) + "\n" for key, item in items).encode()
            name = "files/batch-" + secrets.token_hex(6)
            self.b.files[name] = {"bytes": data, "purpose": "batch_output", "filename": name, "created": time.time()}
            job.output = {"responsesFile": name}
