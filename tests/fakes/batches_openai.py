"""OpenAI's Batch and Files APIs (``/v1/batches``, ``/v1/files``) on the fake: JSONL input files,
validation of the lines, the job's states, and the output and error files."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time

from .batch_jobs import Job
from .wire import Answer, RecordedRequest

OPENAI_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos")
OPENAI_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
BATCH_CREATE_FIELDS = {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"}


class OpenAIBatches:
    def __init__(self, batches):
        self.b = batches  # the FakeBatches that keeps jobs, files and the clock

    def owns(self, path: str, headers) -> bool:
        return path.startswith(("/v1/files", "/v1/batches"))

    def line_path(self, job: Job) -> str:
        return job.extra["endpoint"]

    def line_headers(self, job: Job) -> list:
        return [("authorization", f"Bearer {job.key}"), ("content-type", "application/json")]

    def prepare_line(self, req: RecordedRequest, body) -> Answer | None:
        """An edit line's JSON body read into the multipart form the edit handler judges."""
        return self._json_edit(req, body) if req.path == "/v1/images/edits" else None

    def bill_id(self, req: RecordedRequest, answer: Answer) -> str:
        return req._request_id  # type: ignore[attr-defined]

    def _json_edit(self, req: RecordedRequest, body) -> Answer | None:
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
                if isinstance(data, Answer):
                    return data
                files.setdefault(field, []).append((f"{field.strip('[]')}-{i}.png", "image/png", data))
        req.files = files
        req.form = {k: [json.dumps(v) if isinstance(v, bool) else str(v)] for k, v in body.items()
                    if k not in ("images", "mask")}
        req.headers["content-type"] = "multipart/form-data; boundary=json-edit"
        return None

    def _image_ref(self, ref) -> bytes | Answer:
        if not isinstance(ref, dict) or len(ref) != 1 or not ({"image_url", "file_id"} & set(ref)):
            return self._oa_error(400, "Each image reference needs exactly one of 'image_url' or 'file_id'.",
                                  param="images")
        if "file_id" in ref:
            f = self.b.files.get(ref["file_id"])
            return f["bytes"] if f else self._oa_error(404, f"No such File object: {ref['file_id']}", param="images")
        m = re.fullmatch(r"data:image/(png|jpeg|webp);base64,([A-Za-z0-9+/=]+)", str(ref["image_url"]))
        if not m:  # an http(s) URL would be fetched by the provider; the fake cannot
            return self._oa_error(400, "Could not read image_url: use a data URL or a file_id.", param="images")
        return base64.b64decode(m.group(2))

    def _oa_error(self, status, message, param=None, code=None, type="invalid_request_error"):
        return Answer(status, {"error": {"message": message, "type": type, "param": param, "code": code}})

    def handle(self, req: RecordedRequest) -> Answer:
        req._request_id = "req_" + secrets.token_hex(16)  # type: ignore[attr-defined]
        auth = req.headers.get("authorization") or ""
        key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if key not in self.b.fake.keys:
            return self._oa_error(401, "Incorrect API key provided.", code="invalid_api_key")
        req.key_source = "bearer"
        p, m = req.path, req.method
        if p == "/v1/files" and m == "POST":
            return self._oa_upload(req)
        if p == "/v1/batches" and m == "POST":
            return self._oa_create(req, key)
        if p == "/v1/batches" and m == "GET":
            data = [self._oa_batch(j) for j in reversed(list(self.b.jobs.values())) if j.provider == "openai"]
            return Answer(200, {"object": "list", "data": data, "has_more": False,
                                 "first_id": data[0]["id"] if data else None,
                                 "last_id": data[-1]["id"] if data else None})
        mm = re.fullmatch(r"/v1/batches/([^/]+)(/cancel)?", p)
        if mm:
            job = self.b.jobs.get(mm.group(1))
            if job is None or job.provider != "openai":
                return self._oa_error(404, f"No batch found with id '{mm.group(1)}'.")
            if mm.group(2):
                if m != "POST":
                    return self._oa_error(405, f"Invalid method for URL ({m} {p})")
                stage = self.b._stage(job)
                if stage == "done":
                    return self._oa_error(409, f"Cannot cancel a batch with status '{self._oa_status(job)}'.")
                if job.cancelled_at is None:
                    job.cancelled_at = time.time()
            return Answer(200, self._oa_batch(job))
        mm = re.fullmatch(r"/v1/files/([^/]+)(/content)?", p)
        if mm and m == "GET":
            f = self.b.files.get(mm.group(1))
            if f is None:
                return self._oa_error(404, f"No such File object: {mm.group(1)}", param="id")
            if mm.group(2):
                return Answer(200, f["bytes"], content_type="application/octet-stream")
            return Answer(200, self._oa_file(mm.group(1)))
        return self._oa_error(404, f"Invalid URL ({m} {p})")

    def _oa_file(self, file_id: str) -> dict:
        f = self.b.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(f["bytes"]), "created_at": int(f["created"]),
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed",
                "expires_at": int(f["created"]) + 30 * 86400, "status_details": None}

    def _new_file(self, data: bytes, purpose: str, filename: str) -> str:
        file_id = "file-" + secrets.token_hex(12)
        self.b.files[file_id] = {"bytes": data, "purpose": purpose, "filename": filename, "created": time.time()}
        return file_id

    def _oa_upload(self, req: RecordedRequest) -> Answer:
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
        return Answer(200, self._oa_file(self._new_file(data, purpose, filename)))

    def _oa_create(self, req: RecordedRequest, key: str) -> Answer:
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
        f = self.b.files.get(body["input_file_id"])
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
        job = Job("openai", "batch_" + secrets.token_hex(12), model, [], key, dict(body))
        job.raw_lines = lines  # validated when the job leaves "validating", as the real one does
        job.lines = [(cid, line.get("body")) for cid, line in lines]
        self.b.jobs[job.id] = job
        return Answer(200, self._oa_batch(job))

    def validate(self, job: Job) -> list:
        """The input file's lines, checked when the job leaves \"validating\"."""
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

    def _oa_status(self, job: Job) -> str:
        stage = self.b._stage(job)
        if stage == "done":
            if job.failed:
                return "failed"
            if job.expired_at is not None:
                return "expired"
            return "cancelled" if job.cancelled_at is not None else "completed"
        return {"pending": "validating", "running": "in_progress", "finalizing": "finalizing",
                "cancelling": "cancelling"}[stage]

    def _oa_batch(self, job: Job) -> dict:
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

    def finish(self, job: Job) -> None:
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
