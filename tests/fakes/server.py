"""Both provider fakes on one local ThreadingHTTPServer: routing, the record of requests, the
queue of faults, the providers' bills, and the HTTP details (chunked bodies, cut-off answers).

The per-request order is in fakes/__init__.py; each provider's wire format lives in its own module.
"""

from __future__ import annotations

import collections
import json
import re
import threading
import time
import traceback
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .base import Bill
from .batches import FakeBatches
from .gemini import GEMINI_KEY, GeminiFake
from .gemini_params import GEMINI_MODELS, gemini_size
from .images import colour_for
from .openai import OPENAI_CURRENT_MODELS, OPENAI_KEY, OPENAI_RETIRED_MODELS, OpenAIFake
from .streams import Streaming
from .wire import Answer, CaseInsensitiveDict, RecordedRequest, parse_multipart


class FakeProviders:
    """Both providers on one ThreadingHTTPServer bound to 127.0.0.1:<ephemeral port>."""

    def __init__(self, *, keys=None, latency: float = 0.0, host: str = "127.0.0.1"):
        self.providers = {p.name: p for p in (OpenAIFake(self), GeminiFake(self))}
        self.keys: set[str] = set(keys) if keys is not None else {OPENAI_KEY, GEMINI_KEY}
        self.latency = latency
        # Overrides of the token counts, per provider: e.g. fake.usage["openai"]["text_tokens"] = 40.
        self.usage: dict[str, dict[str, int]] = {n: dict(p.DEFAULT_USAGE) for n, p in self.providers.items()}
        self.openai_models: set[str] = set(OPENAI_CURRENT_MODELS)
        self.openai_retired: set[str] = set(OPENAI_RETIRED_MODELS)
        self.gemini_models: dict[str, dict] = {k: dict(v) for k, v in GEMINI_MODELS.items()}
        # key -> the model ids it reaches (lists and calls); a key not here reaches every model
        self.key_models: dict[str, set[str]] = {}
        self.gemini_list_page_max = 1000  # lower it to make GET /v1beta/models page
        self._billing_defaults()
        self.billed: list[Bill] = []  # what the provider charged, per request, answered or not
        self.requests: list[RecordedRequest] = []
        self.streaming = Streaming(self)  # delays and faults of streamed answers
        self.server_errors: list[str] = []  # tracebacks of bugs inside the fake itself
        self.issued_signatures: dict[bytes, str] = {}  # decoded signature -> sha256 of its image
        self._faults: dict[str, collections.deque] = {n: collections.deque() for n in self.providers}
        self._lock = threading.Lock()
        # Notified when a request arrives or an answer is done: tests wait on it instead of sleeping.
        self._changed = threading.Condition(self._lock)
        self._in_flight = 0  # requests being handled: read, judged, billed, not yet answered
        self._host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.batches = FakeBatches(self)

    def _billing_defaults(self) -> None:
        self.auto_quality = "medium"        # what quality="auto" turns out to be
        self.worst_case = False             # answer with the largest usage the provider may bill
        self.openai_cached_tokens = 0       # reported as input_tokens_details.cached_tokens
        self.gemini_tool_use_tokens = 0     # reported as toolUsePromptTokenCount
        self.gemini_unitemised_tokens = 0   # in candidatesTokenCount but in no modality
        self.planning_tokens = {}           # complexity level -> planning tokens per image (2.6)
        self.openai_preview_access = True   # the key may use gif/svg output (a preview feature)
        self.svg_document = None            # the SVG text output_format=svg answers (None: a drawing)

    def bill_total(self, provider: str | None = None) -> Decimal:
        with self._lock:
            return sum((b.cost for b in self.billed if provider in (None, b.provider)), Decimal(0))

    def _bill(self, provider: str, model: str, request_id: str, usage: dict, fault: str | None) -> None:
        self.providers[provider].bill(model, request_id, usage, fault)

    # -- lifecycle
    def start(self) -> "FakeProviders":
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        server = ThreadingHTTPServer((self._host, 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="fakeproviders", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    close = stop

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def openai_base(self) -> str:
        return self.base + "/v1"

    @property
    def gemini_base(self) -> str:
        return self.base

    # -- faults
    def fault(self, provider: str, name: str, **kw) -> None:
        if provider not in self.providers:
            raise ValueError(f"unknown provider {provider!r}")
        names = self.providers[provider].FAULTS
        if name not in names:
            raise ValueError(f"unknown {provider} fault {name!r}; known: {', '.join(names)}")
        with self._lock:
            self._faults[provider].append((name, kw))

    def pending_faults(self, provider: str) -> list:
        with self._lock:
            return list(self._faults[provider])

    def clear_faults(self) -> None:
        with self._lock:
            for q in self._faults.values():
                q.clear()

    def _pop_fault(self, provider: str):
        with self._lock:
            q = self._faults[provider]
            return q.popleft() if q else None

    # -- inspection helpers
    def by_provider(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    def wait_for_requests(self, n: int = 1, provider: str | None = None, timeout: float = 10.0) -> None:
        """Block until ``n`` requests (to ``provider``) have reached the fake: the event "the call left"."""
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: sum(provider in (None, r.provider) for r in self.requests) >= n, timeout)
        if not arrived:
            raise TimeoutError(f"{n} {provider or ''} request(s) expected, {len(self.requests)} arrived")

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until no request is being handled: the work done, billed and answered (or dropped)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._in_flight == 0, timeout):
                raise TimeoutError(f"{self._in_flight} request(s) still being handled")

    def last(self, provider: str | None = None) -> RecordedRequest:
        reqs = self.requests if provider is None else self.by_provider(provider)
        if not reqs:
            raise LookupError(f"no recorded {provider or ''} request")
        return reqs[-1]

    def reset(self) -> None:
        """Forget recorded requests and queued faults; restore default usage and latency."""
        self.clear_faults()
        with self._lock:
            self.requests.clear()
            self.server_errors.clear()
            self.billed.clear()
        for name, provider in self.providers.items():
            self.usage[name] = dict(provider.DEFAULT_USAGE)
        self._billing_defaults()
        self.latency = 0.0
        self.key_models.clear()
        self.gemini_list_page_max = 1000
        self.streaming.reset()

    @staticmethod
    def colour_for(text: str) -> tuple[int, int, int]:
        return colour_for(text)

    @staticmethod
    def gemini_size(aspect_ratio: str = "1:1", image_size: str = "1K") -> tuple[int, int]:
        return gemini_size(aspect_ratio, image_size)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeproviders/1.0"
    # Headers and body go out in two writes; with Nagle on, each keep-alive answer waits ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True
    fake: FakeProviders  # set on the subclass

    def log_message(self, format, *args):  # silence
        pass

    def _dispatch(self):
        with self.fake._changed:
            self.fake._in_flight += 1
        try:
            self._answer()
        finally:
            with self.fake._changed:
                self.fake._in_flight -= 1
                self.fake._changed.notify_all()

    def _answer(self):
        fake = self.fake
        req = None
        try:
            raw = self._read_body()
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
            headers = CaseInsensitiveDict(self.headers.items())
            path = parsed.path
            batch = fake.batches.route(path, headers)
            provider = batch or next((p.name for p in fake.providers.values() if p.owns(path)), None)
            req = RecordedRequest(provider=provider, method=self.command, path=path, query=query,
                                  headers=headers, raw=raw)
            ctype = (headers.get("content-type") or "").lower()
            if raw:
                if ctype.startswith("multipart/form-data"):
                    m = re.search(r'boundary="?([^";]+)"?', headers.get("content-type"))
                    try:
                        if not m:
                            raise ValueError("no boundary")
                        req.form, req.files = parse_multipart(raw, m.group(1).encode())
                    except ValueError as e:
                        req.multipart_error = str(e)
                else:
                    try:
                        req.json = json.loads(raw)
                    except ValueError:
                        req.json = None
            with fake._lock:
                fake.requests.append(req)
                fake._changed.notify_all()
            if provider:
                answer = fake.batches.handle(req) if batch else fake.providers[provider].handle(req)
                answer.headers = {**fake.providers[provider].headers(req), **answer.headers}
            else:
                answer = Answer(404, {"error": {"code": 404, "message": f"Not found: {path}", "status": "NOT_FOUND"}})
        except Exception:
            tb = traceback.format_exc()
            with fake._lock:
                fake.server_errors.append(tb)
            answer = Answer(500, {"error": {"message": "fakeserver internal error:\n" + tb, "type": "fake_bug",
                                             "code": 500, "status": "INTERNAL"}})
        if req is not None:
            req.status = answer.status
            req.response_json = answer.json
        if fake.latency > 0:
            time.sleep(fake.latency)
        if answer.status == 200 and answer.content_type.startswith("text/event-stream") and not answer.drop:
            fake.streaming.shape(req, answer)
            fake.streaming.send(self, answer)
            return
        self._send(answer)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline()
            return bytes(out)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, a: Answer) -> None:
        if a.drop:  # the request was read and processed; the answer never leaves
            self.close_connection = True
            return
        try:
            body = a.body
            self.send_response(a.status)
            self.send_header("Content-Type", a.content_type)
            for k, v in a.headers.items():
                self.send_header(k, v)
            if a.truncate == "cut_json":
                body = body[: len(body) // 2]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif a.truncate:  # "close_early": promise the full length, send half, close
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _dispatch

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True
