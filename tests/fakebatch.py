"""The Batch APIs of both providers, mounted on FakeProviders (``fake.batches``).

OpenAI: ``/v1/files`` (upload, retrieve, content), ``/v1/batches`` (create, retrieve, list,
cancel). Gemini: ``models/{m}:batchGenerateContent`` (inline requests or a file), ``batches/{id}``
(get, ``:cancel``), the Files API's resumable upload and ``files/{id}:download``.

Jobs move through their states with time: ``fake.batches.step`` seconds per stage (validating
or pending, then running: the lines run one by one across that stage, then finalizing; a cancel
takes ``cancel_delay``). Each line
is answered by the fake's own single-call handler, so a batch line validates, renders, bills and
takes queued faults exactly like a direct call, and is billed by the fake's own tables
(``fake.billed``) at the Batch API's rate: half the direct one. ``billed`` here lists the batch
lines' bills by job and key.
``expire(job_id)`` ends a job as the 24 h window would.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import base64
import dataclasses
from decimal import Decimal

from fakeserver import CaseInsensitiveDict, RecordedRequest, _Answer

OPENAI_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos")
OPENAI_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
BATCH_CREATE_FIELDS = {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"}
INLINE_LIMIT = 20 * 2**20
RPC_CODES = {"INVALID_ARGUMENT": 3, "NOT_FOUND": 5, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
             "INTERNAL": 13, "UNAVAILABLE": 14, "UNAUTHENTICATED": 16, "FAILED_PRECONDITION": 9}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


class _Job:
    def __init__(self, provider, job_id, model, lines, key, extra):
        self.provider, self.id, self.model, self.lines, self.key = provider, job_id, model, lines, key
        self.extra = extra                 # the provider's own fields (endpoint, metadata, displayName…)
        self.created = time.time()
        self.results: dict[int, dict] = {}  # line index -> {"status", "json", "key"}
        self.cancelled_at: float | None = None
        self.expired_at: float | None = None
        self.failed: list | None = None     # validation errors
        self.finished_at: float | None = None
        self.output: dict = {}              # provider-specific output references


class FakeBatches:
    def __init__(self, fake, step: float = 0.3):
        self.fake = fake
        self.step = step
        self.cancel_delay = 0.1              # seconds from a cancel request to "cancelled"
        self.drop_create = False             # create the next job, then drop the connection unanswered
        self.files: dict[str, dict] = {}     # id/name -> {"bytes", "purpose", "filename", "created"}
        self.jobs: dict[str, _Job] = {}
        self.billed: list[dict] = []         # {"provider", "job", "key", "usd"}
        self.lines_run: list[RecordedRequest] = []
        self._uploads: dict[str, dict] = {}
        self._lock = threading.RLock()

    # -- routing (called from FakeProviders._dispatch) ----------------------------------------------
    def route(self, path: str, headers) -> str | None:
        if path.startswith(("/upload/v1beta/files", "/upload/v1/files", "/download/v1beta/files")):
            return "gemini"
        if re.fullmatch(r"/(v1beta|v1)/models/[^/:]+:batchGenerateContent", path):
            return "gemini"
        if path.startswith(("/v1beta/batches", "/v1beta/files")):
            return "gemini"
        if path.startswith(("/v1/files", "/v1/batches")):
            return "gemini" if "x-goog-api-key" in headers else "openai"
        return None

    def handle(self, req: RecordedRequest) -> _Answer:
        with self._lock:
            before = len(self.jobs)
            if req.provider == "openai":
                req._request_id = "req_" + secrets.token_hex(16)  # type: ignore[attr-defined]
                answer = self._openai(req)
            else:
                answer = self._gemini(req)
            if self.drop_create and len(self.jobs) > before:
                self.drop_create, answer.drop = False, True  # the job exists; its creator never hears
            return answer

    def expire(self, job_id: str, ran: int | None = None) -> None:
        """End the job now, as the provider does when its 24 h window runs out; with ``ran``,
        after exactly its first ``ran`` lines (otherwise after those due by now)."""
        with self._lock:
            job = self.jobs[job_id]
            if ran is None:
                self._run_due(job, time.time())
            for i in range(ran or 0):
                if i not in job.results:
                    job.results[i] = self._run_line(job, i)
            job.expired_at = time.time()
            self._finish(job)

    def total(self, provider: str | None = None) -> Decimal:
        return sum((b["usd"] for b in self.billed if provider in (None, b["provider"])), Decimal(0))

    # -- the job clock -------------------------------------------------------------------------------
    def _due(self, job: _Job, i: int) -> float:
        return job.created + self.step + self.step * (i + 1) / max(1, len(job.lines))

    def _run_due(self, job: _Job, now: float) -> None:
        stop = min(t for t in (now, job.cancelled_at, job.expired_at) if t is not None)
        for i in range(len(job.lines)):
            if i not in job.results and self._due(job, i) <= stop:
                job.results[i] = self._run_line(job, i)

    def _stage(self, job: _Job) -> str:
        """pending | running | finalizing | done, moving the job (and running lines) as time passes."""
        now = time.time()
        if job.finished_at is not None:
            return "done"
        if job.failed is None and now >= job.created + self.step:
            job.failed = self._validate(job)
        if job.failed:
            job.finished_at = now
            return "done"
        if now < job.created + self.step and job.cancelled_at is None:
            return "pending"
        self._run_due(job, now)
        if job.cancelled_at is not None:
            if now >= job.cancelled_at + self.cancel_delay:
                self._finish(job)
                return "done"
            return "cancelling"
        if len(job.results) < len(job.lines):
            return "running"
        if now < job.created + 3 * self.step:
            return "finalizing"
        self._finish(job)
        return "done"

    def _finish(self, job: _Job) -> None:
        if job.finished_at is None:
            job.finished_at = time.time()
            (self._openai_files if job.provider == "openai" else self._gemini_output)(job)

    def _run_line(self, job: _Job, i: int) -> dict:
        key, body = job.lines[i]
        if job.provider == "openai":
            path = job.extra["endpoint"]
            headers = CaseInsensitiveDict([("authorization", f"Bearer {job.key}"), ("content-type", "application/json")])
        else:
            path = f"/v1beta/models/{job.model}:generateContent"
            headers = CaseInsensitiveDict([("x-goog-api-key", job.key), ("content-type", "application/json")])
        raw = json.dumps(body).encode()
        req = RecordedRequest(provider=job.provider, method="POST", path=path, query={}, headers=headers,
                              raw=raw, json=body)
        if path == "/v1/images/edits":
            answer = self._json_edit(req, body)
            if answer is None:
                answer = self.fake._handle_openai(req)
        else:
            answer = self.fake._handle_openai(req) if job.provider == "openai" else self.fake._handle_gemini(req)
        req.status, req.response_json = answer.status, answer.json
        self.lines_run.append(req)
        request_id = getattr(req, "_request_id", None)
        if answer.status == 200:
            self._rebill(job, key, request_id if job.provider == "openai" else answer.json.get("responseId"))
        return {"key": key, "status": answer.status, "json": answer.json, "request_id": request_id}

    def _json_edit(self, req: RecordedRequest, body) -> _Answer | None:
        """The JSON edit body (``images``/``mask`` as ``{"image_url"}`` or ``{"file_id"}``) read into
        the form and files the fake's edit handler judges; an answer here when it is malformed."""
        if not isinstance(body, dict):
            return self._oa_error(400, "The request body must be a JSON object.")
        images = body.get("images")
        if not isinstance(images, list) or not images:
            return self._oa_error(400, "Missing required parameter: 'images'.", param="images",
                                  code="missing_required_parameter")
        files: dict = {}
        for field, refs in (("image[]", images), ("mask", [body["mask"]] if "mask" in body else [])):
            for i, ref in enumerate(refs):
                data = self._image_ref(ref)
                if isinstance(data, _Answer):
                    return data
                files.setdefault(field, []).append((f"{field.strip('[]')}-{i}.png", "image/png", data))
        req.files = files
        req.form = {k: [json.dumps(v) if isinstance(v, bool) else str(v)] for k, v in body.items()
                    if k not in ("images", "mask")}
        req.headers["content-type"] = "multipart/form-data; boundary=json-edit"
        return None

    def _image_ref(self, ref) -> bytes | _Answer:
        if not isinstance(ref, dict) or len(ref) != 1 or not ({"image_url", "file_id"} & set(ref)):
            return self._oa_error(400, "Each image reference needs exactly one of 'image_url' or 'file_id'.",
                                  param="images")
        if "file_id" in ref:
            f = self.files.get(ref["file_id"])
            return f["bytes"] if f else self._oa_error(404, f"No such File object: {ref['file_id']}", param="images")
        m = re.fullmatch(r"data:image/(png|jpeg|webp);base64,([A-Za-z0-9+/=]+)", str(ref["image_url"]))
        if not m:  # an http(s) URL would be fetched by the provider; the fake cannot
            return self._oa_error(400, "Could not read image_url: use a data URL or a file_id.", param="images")
        return base64.b64decode(m.group(2))

    def _rebill(self, job: _Job, key: str, request_id: str) -> None:
        """The line was billed as a direct call: the Batch API charges half of that."""
        with self.fake._lock:
            for i, bill in enumerate(self.fake.billed):
                if bill.request_id == request_id:
                    half = dataclasses.replace(bill, cost=bill.cost / 2)
                    self.fake.billed[i] = half
                    self.billed.append({"provider": job.provider, "job": job.id, "key": key, "usd": half.cost})

    # ======================================================================= OpenAI
    def _oa_error(self, status, message, param=None, code=None, type="invalid_request_error"):
        return _Answer(status, {"error": {"message": message, "type": type, "param": param, "code": code}})

    def _openai(self, req: RecordedRequest) -> _Answer:
        auth = req.headers.get("authorization") or ""
        key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if key not in self.fake.keys:
            return self._oa_error(401, "Incorrect API key provided.", code="invalid_api_key")
        req.key_source = "bearer"
        p, m = req.path, req.method
        if p == "/v1/files" and m == "POST":
            return self._oa_upload(req)
        if p == "/v1/batches" and m == "POST":
            return self._oa_create(req, key)
        if p == "/v1/batches" and m == "GET":
            data = [self._oa_batch(j) for j in reversed(list(self.jobs.values())) if j.provider == "openai"]
            return _Answer(200, {"object": "list", "data": data, "has_more": False,
                                 "first_id": data[0]["id"] if data else None,
                                 "last_id": data[-1]["id"] if data else None})
        mm = re.fullmatch(r"/v1/batches/([^/]+)(/cancel)?", p)
        if mm:
            job = self.jobs.get(mm.group(1))
            if job is None or job.provider != "openai":
                return self._oa_error(404, f"No batch found with id '{mm.group(1)}'.")
            if mm.group(2):
                if m != "POST":
                    return self._oa_error(405, f"Invalid method for URL ({m} {p})")
                stage = self._stage(job)
                if stage == "done":
                    return self._oa_error(409, f"Cannot cancel a batch with status '{self._oa_status(job)}'.")
                if job.cancelled_at is None:
                    job.cancelled_at = time.time()
            return _Answer(200, self._oa_batch(job))
        mm = re.fullmatch(r"/v1/files/([^/]+)(/content)?", p)
        if mm and m == "GET":
            f = self.files.get(mm.group(1))
            if f is None:
                return self._oa_error(404, f"No such File object: {mm.group(1)}", param="id")
            if mm.group(2):
                return _Answer(200, f["bytes"], content_type="application/octet-stream")
            return _Answer(200, self._oa_file(mm.group(1)))
        return self._oa_error(404, f"Invalid URL ({m} {p})")

    def _oa_file(self, file_id: str) -> dict:
        f = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(f["bytes"]), "created_at": int(f["created"]),
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed",
                "expires_at": int(f["created"]) + 30 * 86400, "status_details": None}

    def _new_file(self, data: bytes, purpose: str, filename: str) -> str:
        file_id = "file-" + secrets.token_hex(12)
        self.files[file_id] = {"bytes": data, "purpose": purpose, "filename": filename, "created": time.time()}
        return file_id

    def _oa_upload(self, req: RecordedRequest) -> _Answer:
        if req.multipart_error or not (req.form or req.files):
            return self._oa_error(400, "Could not parse multipart form.")
        purpose = (req.form.get("purpose") or [None])[-1]
        if purpose is None:
            return self._oa_error(400, "Missing required parameter: 'purpose'.", param="purpose",
                                  code="missing_required_parameter")
        if purpose not in OPENAI_PURPOSES:
            return self._oa_error(400, f"Invalid value for 'purpose': '{purpose}'.", param="purpose")
        uploads = req.files.get("file") or []
        if len(uploads) != 1:
            return self._oa_error(400, "Missing required parameter: 'file'.", param="file",
                                  code="missing_required_parameter")
        filename, _, data = uploads[0]
        if purpose == "batch" and not filename.endswith(".jsonl"):
            return self._oa_error(400, "Invalid file format for Batch API. Must be .jsonl", param="file")
        return _Answer(200, self._oa_file(self._new_file(data, purpose, filename)))

    def _oa_create(self, req: RecordedRequest, key: str) -> _Answer:
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            return self._oa_error(400, "We could not parse the JSON body of your request.")
        for k in body:
            if k not in BATCH_CREATE_FIELDS:
                return self._oa_error(400, f"Unknown parameter: '{k}'.", param=k, code="unknown_parameter")
        for k in ("input_file_id", "endpoint", "completion_window"):
            if k not in body:
                return self._oa_error(400, f"Missing required parameter: '{k}'.", param=k,
                                      code="missing_required_parameter")
        if body["completion_window"] != "24h":
            return self._oa_error(400, f"Invalid value for 'completion_window': '{body['completion_window']}'. "
                                  "Supported values are: '24h'.", param="completion_window")
        if body["endpoint"] not in OPENAI_ENDPOINTS:
            return self._oa_error(400, f"Invalid value for 'endpoint': '{body['endpoint']}'.", param="endpoint")
        f = self.files.get(body["input_file_id"])
        if f is None:
            return self._oa_error(404, f"No such File object: {body['input_file_id']}", param="input_file_id")
        if f["purpose"] != "batch":
            return self._oa_error(400, "The input file must be uploaded with purpose 'batch'.",
                                  param="input_file_id")
        lines, model = [], None
        for raw in f["bytes"].decode("utf-8").splitlines():
            if raw.strip():
                line = json.loads(raw)
                lines.append((line.get("custom_id"), line))
                model = model or (line.get("body") or {}).get("model")
        job = _Job("openai", "batch_" + secrets.token_hex(12), model, [], key, dict(body))
        job.raw_lines = lines  # validated when the job leaves "validating", as the real one does
        job.lines = [(cid, line.get("body")) for cid, line in lines]
        self.jobs[job.id] = job
        return _Answer(200, self._oa_batch(job))

    def _validate(self, job: _Job) -> list:
        if job.provider != "openai":
            return []
        errors, seen = [], set()
        for n, (cid, line) in enumerate(getattr(job, "raw_lines", []), 1):
            if not isinstance(cid, str) or not cid:
                errors.append({"code": "missing_custom_id", "line": n, "message": "custom_id is required."})
            elif cid in seen:
                errors.append({"code": "duplicate_custom_id", "line": n,
                               "message": f"The custom_id '{cid}' is used more than once."})
            seen.add(cid)
            if line.get("method") != "POST" or line.get("url") != job.extra["endpoint"]:
                errors.append({"code": "mismatched_endpoint", "line": n,
                               "message": "The url of every line must be the batch's endpoint, with method POST."})
            if not isinstance(line.get("body"), dict):
                errors.append({"code": "invalid_request", "line": n, "message": "body must be an object."})
        if not job.lines:
            errors.append({"code": "empty_file", "line": None, "message": "The input file is empty."})
        return errors

    def _oa_status(self, job: _Job) -> str:
        stage = self._stage(job)
        if stage == "done":
            if job.failed:
                return "failed"
            if job.expired_at is not None:
                return "expired"
            return "cancelled" if job.cancelled_at is not None else "completed"
        return {"pending": "validating", "running": "in_progress", "finalizing": "finalizing",
                "cancelling": "cancelling"}[stage]

    def _oa_batch(self, job: _Job) -> dict:
        status = self._oa_status(job)
        ok = sum(1 for r in job.results.values() if r["status"] == 200)
        t = int(job.created)
        out = {"id": job.id, "object": "batch", "endpoint": job.extra["endpoint"], "model": job.model,
               "errors": {"object": "list", "data": job.failed} if job.failed else None,
               "input_file_id": job.extra["input_file_id"], "completion_window": "24h", "status": status,
               "output_file_id": job.output.get("output"), "error_file_id": job.output.get("error"),
               "created_at": t, "in_progress_at": t + 1 if status != "validating" else None,
               "expires_at": t + 86400, "finalizing_at": None, "completed_at": None, "failed_at": None,
               "expired_at": int(job.expired_at) if job.expired_at else None,
               "cancelling_at": int(job.cancelled_at) if job.cancelled_at else None,
               "cancelled_at": int(job.finished_at) if status == "cancelled" else None,
               "request_counts": {"total": len(job.lines), "completed": ok, "failed": len(job.results) - ok},
               "metadata": job.extra.get("metadata")}
        if status == "completed":
            out["completed_at"] = int(job.finished_at)
        if status == "failed":
            out["failed_at"] = int(job.finished_at)
        return out

    def _openai_files(self, job: _Job) -> None:
        ok, bad = [], []
        for i in sorted(job.results):
            r = job.results[i]
            line = {"id": "batch_req_" + secrets.token_hex(12), "custom_id": r["key"],
                    "response": {"status_code": r["status"], "request_id": r["request_id"], "body": r["json"]},
                    "error": None}
            (ok if r["status"] == 200 else bad).append(json.dumps(line))
        if ok:
            job.output["output"] = self._new_file(("\n".join(ok) + "\n").encode(), "batch_output", "output.jsonl")
        if bad:
            job.output["error"] = self._new_file(("\n".join(bad) + "\n").encode(), "batch_output", "errors.jsonl")

    # ======================================================================= Gemini
    def _gm_error(self, code, status, message):
        return _Answer(code, {"error": {"code": code, "message": message, "status": status}})

    def _gemini(self, req: RecordedRequest) -> _Answer:
        p, m = req.path, req.method
        if p.startswith("/upload/") and "upload_id" in req.query:
            return self._gm_upload_finish(req)
        key = req.headers.get("x-goog-api-key")
        if key is None:
            return self._gm_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.")
        if key not in self.fake.keys:
            return self._gm_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        req.key_source = "header"
        if p.startswith("/upload/") and m == "POST":
            return self._gm_upload_start(req)
        mm = re.fullmatch(r"/(?:download/)?(v1beta|v1)/files/([^/:]+):download", p)
        if mm and m == "GET":
            f = self.files.get(f"files/{mm.group(2)}")
            if f is None or req.query.get("alt") != "media":
                return self._gm_error(404, "NOT_FOUND", f"File files/{mm.group(2)} not found.")
            return _Answer(200, f["bytes"], content_type="application/octet-stream")
        mm = re.fullmatch(r"/(v1beta|v1)/models/([^/:]+):batchGenerateContent", p)
        if mm:
            return self._gm_create(req, mm.group(2), key)
        mm = re.fullmatch(r"/(v1beta|v1)/(batches/[^/:]+)(:cancel)?", p)
        if mm:
            job = self.jobs.get(mm.group(2))
            if job is None or job.provider != "gemini":
                return self._gm_error(404, "NOT_FOUND", f"Batch {mm.group(2)} not found.")
            if mm.group(3):
                if m != "POST":
                    return self._gm_error(405, "METHOD_NOT_ALLOWED", f"Method {m} not allowed")
                if self._stage(job) != "done" and job.cancelled_at is None:
                    job.cancelled_at = time.time()
                return _Answer(200, {})
            return _Answer(200, self._gm_operation(job))
        return self._gm_error(404, "NOT_FOUND", f"Method not found: {m} {p}")

    def _gm_upload_start(self, req: RecordedRequest) -> _Answer:
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
        return _Answer(200, b"", headers={"x-goog-upload-url": url, "x-goog-upload-status": "active"},
                       content_type="text/plain")

    def _gm_upload_finish(self, req: RecordedRequest) -> _Answer:
        up = self._uploads.pop(req.query["upload_id"], None)
        if up is None:
            return self._gm_error(404, "NOT_FOUND", "No such upload session.")
        command = (req.headers.get("x-goog-upload-command") or "").replace(" ", "")
        if command != "upload,finalize" or req.headers.get("x-goog-upload-offset") != "0":
            return self._gm_error(400, "INVALID_ARGUMENT", "This fake takes the file in one upload,finalize chunk.")
        if len(req.raw) != up["size"]:
            return self._gm_error(400, "INVALID_ARGUMENT", f"Upload size {len(req.raw)} != declared {up['size']}.")
        name = "files/" + secrets.token_hex(6)
        self.files[name] = {"bytes": req.raw, "purpose": "batch", "filename": up["meta"].get("displayName") or name,
                            "created": time.time()}
        return _Answer(200, {"file": {"name": name, "displayName": up["meta"].get("displayName"),
                                      "mimeType": up["mime"], "sizeBytes": str(up["size"]),
                                      "createTime": _iso(time.time()), "updateTime": _iso(time.time()),
                                      "uri": f"https://generativelanguage.googleapis.com/v1beta/{name}",
                                      "state": "ACTIVE", "source": "UPLOADED"}},
                       headers={"x-goog-upload-status": "final"})

    def _gm_create(self, req: RecordedRequest, model: str, key: str) -> _Answer:
        if model not in self.fake.gemini_models:
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
            f = self.files.get(file_name)
            if f is None:
                return self._gm_error(404, "NOT_FOUND", f"File {file_name} not found.")
            lines = []
            for raw in f["bytes"].decode("utf-8").splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    lines.append((line.get("key"), line.get("request")))
        if not lines:
            return self._gm_error(400, "INVALID_ARGUMENT", "A batch needs at least one request.")
        job = _Job("gemini", "batches/" + secrets.token_hex(8), model, lines, key,
                   {"displayName": batch.get("displayName"), "inline": inline is not None})
        self.jobs[job.id] = job
        return _Answer(200, self._gm_operation(job))

    def _gm_state(self, job: _Job) -> str:
        stage = self._stage(job)
        if stage == "done":
            if job.expired_at is not None:
                return "BATCH_STATE_EXPIRED"
            return "BATCH_STATE_CANCELLED" if job.cancelled_at is not None else "BATCH_STATE_SUCCEEDED"
        return "BATCH_STATE_PENDING" if stage == "pending" else "BATCH_STATE_RUNNING"

    def _gm_operation(self, job: _Job) -> dict:
        state = self._gm_state(job)
        ok = sum(1 for r in job.results.values() if r["status"] == 200)
        meta = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                "model": f"models/{job.model}", "displayName": job.extra["displayName"],
                "createTime": _iso(job.created), "updateTime": _iso(time.time()), "state": state,
                "name": job.id,
                "batchStats": {"requestCount": str(len(job.lines)), "successfulRequestCount": str(ok),
                               "failedRequestCount": str(len(job.results) - ok),
                               "pendingRequestCount": str(len(job.lines) - len(job.results))}}
        op = {"name": job.id, "metadata": meta}
        if job.finished_at is not None:
            meta["endTime"] = _iso(job.finished_at)
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

    def _gemini_output(self, job: _Job) -> None:
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
            self.files[name] = {"bytes": data, "purpose": "batch_output", "filename": name, "created": time.time()}
            job.output = {"responsesFile": name}
