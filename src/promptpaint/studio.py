"""``pp.Studio``: the notebook widget. It drives the engine and knows providers only through Client.

Synced state stays small (ids, settings, text): images travel as binary custom messages on
demand and live in the engine's store, so a saved notebook holds no image bytes and no key.
The protocol is written down in docs/widget-protocol.md.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import anywidget
import traitlets as t
from PIL import Image

from . import codegen, config, masks, registry
from .client import Chat, Client, Result
from .errors import InvalidRequest, PromptpaintError
from .ledger import utc_now
from .store import ImageStore, encode_png
from .transport import scrub

STATIC = Path(__file__).parent / "static"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
THUMB = 160
PROVIDER_LABELS = {"gemini": "Gemini", "openai": "OpenAI", "offline": "Offline stand-in ($0)"}


@dataclass
class StudioTurn:
    """One entry of ``studio.history``."""

    id: int
    kind: str                 # generate | edit | upload
    prompt: str
    provider: str
    model: str
    params: dict
    ids: list[str]
    paths: list[Path]
    cost: Decimal | None
    parent: int | None = None
    text: str | None = None
    offline: bool = False
    chat: Chat | None = field(default=None, repr=False)  # the conversation that led here

    @property
    def images(self) -> list[Image.Image]:
        out = []
        for p in self.paths:
            im = Image.open(p)
            im.load()
            out.append(im)
        return out

    def as_state(self) -> dict:
        return {"id": self.id, "parent": self.parent, "kind": self.kind, "prompt": self.prompt,
                "provider": self.provider, "model": self.model, "params": self.params,
                "images": self.ids, "cost": None if self.cost is None else str(self.cost),
                "text": self.text, "offline": self.offline}


def _money(d: Decimal | None) -> str | None:
    return None if d is None else format(d, "f")


class Studio(anywidget.AnyWidget):
    _esm = STATIC / "widget.js"  # CSS is bundled inside it, scoped under .promptpaint

    prompt = t.Unicode("").tag(sync=True)
    provider = t.Unicode("offline").tag(sync=True)
    model = t.Unicode("").tag(sync=True)
    params = t.Dict().tag(sync=True)
    providers = t.List().tag(sync=True)
    models = t.List().tag(sync=True)
    status = t.Unicode("idle").tag(sync=True)
    started_at = t.Float(0.0).tag(sync=True)
    error = t.Dict().tag(sync=True)
    notice = t.Unicode("").tag(sync=True)
    turns = t.List().tag(sync=True)
    current = t.Dict().tag(sync=True)
    image_id = t.Unicode("").tag(sync=True)
    image_size = t.List().tag(sync=True)
    has_mask = t.Bool(False).tag(sync=True)
    costs = t.Dict().tag(sync=True)
    code = t.Dict().tag(sync=True)

    def __init__(self, provider: str | None = None, *, model: str | None = None,
                 budget: float | None = None, **client_options):
        # One Studio is one budget, whatever provider or model it calls (contract 5).
        self._client_options = dict(client_options, budget=budget,
                                    budget_id=client_options.get("budget_id") or f"studio-{uuid.uuid4().hex[:12]}")
        # Kept off the widget and out of state; only "configured" reaches the front end.
        api_key = self._client_options.pop("api_key", None)
        self._clients: dict[tuple[str, str], Client] = {}
        self._history: list[StudioTurn] = []
        self._mask: Image.Image | None = None
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._cancel: threading.Event | None = None
        self._thumbs: dict[str, bytes] = {}
        self._reverting = False
        self._widget_total = Decimal(0)
        self._last_cost: Decimal | None = None
        self._budget = Decimal(str(budget)) if budget is not None else None
        client = Client(provider, model=model, api_key=api_key, **self._client_options)
        self._api_keys = {client.provider_name: api_key} if api_key else {}
        self._clients[(client.provider_name, client.model.id)] = client
        self._store: ImageStore = client.store
        super().__init__(provider=client.provider_name, model=client.model.id,
                         providers=self._provider_list(), models=self._model_list(),
                         params=self._default_params(client.model))
        if client.offline:
            self.notice = ("Offline stand-in: pictures are placeholders drawn on this machine, at $0. "
                           "Set GEMINI_API_KEY or OPENAI_API_KEY and pick that provider for a real model.")
        self.on_msg(self._on_msg)
        self.observe(self._on_provider, names="provider")
        self.observe(self._on_model, names="model")
        self.observe(self._on_params, names="params")
        self.observe(self._on_current, names="current")
        self.observe(lambda _: self._refresh_costs(), names="prompt")
        self._refresh_costs()

    # -- the Python API -------------------------------------------------------------------------
    def generate(self, prompt: str | None = None, *, wait: bool = True, **params) -> Result | None:
        """Generate from ``prompt`` (or the prompt box) — the same path as pressing Generate."""
        return self._python_call("generate", prompt, params, wait)

    def edit(self, prompt: str | None = None, *, wait: bool = True, **params) -> Result | None:
        """Edit the current image, inside the painted mask if there is one — as pressing Edit."""
        return self._python_call("edit", prompt, params, wait)

    @property
    def client(self) -> Client:
        return self._client()

    @property
    def image(self) -> Image.Image | None:
        if not self.image_id:
            return None
        return self._store.open(self.image_id)

    @property
    def mask(self) -> Image.Image | None:
        """The painted mask as an "L" image (255 = change) at the image's size, or None."""
        return self._mask.copy() if self._mask is not None else None

    @mask.setter
    def mask(self, value) -> None:
        if value is None:
            self.clear_mask()
            return
        if not self.image_size:
            raise InvalidRequest("There is no image to mask yet.", param="mask")
        m = masks.normalise(value, tuple(self.image_size))
        self._mask = None if masks.is_empty(m) else m
        self.has_mask = self._mask is not None

    def clear_mask(self) -> None:
        self._mask = None
        self.has_mask = False
        self.send({"kind": "clear_mask"})

    @property
    def history(self) -> list[StudioTurn]:
        return list(self._history)

    @property
    def cost(self) -> Decimal:
        """What this widget's calls have cost (``pp.ledger().total()`` for all time)."""
        return self._widget_total

    def load(self, image, name: str = "image") -> None:
        """Use ``image`` (PIL image, path or bytes) as the picture to edit, as an upload would."""
        data = image if isinstance(image, (bytes, bytearray, memoryview)) else None
        if data is None:
            im = masks.to_image(image)
            data = encode_png(im if im.mode in ("RGB", "RGBA") else im.convert("RGB"))
        self._upload(bytes(data), name)

    # -- state helpers --------------------------------------------------------------------------
    def _client(self, provider: str | None = None, model: str | None = None) -> Client:
        provider, model = provider or self.provider, model or self.model
        key = (provider, model)
        if key not in self._clients:
            self._clients[key] = Client(provider, model=model, api_key=self._api_keys.get(provider),
                                        store=self._store, **self._client_options)
        return self._clients[key]

    def _provider_list(self) -> list[dict]:
        return [{"name": p, "label": PROVIDER_LABELS[p],
                 "configured": p == "offline" or bool(self._api_keys.get(p) or config.api_key(p))}
                for p in ("gemini", "openai", "offline")]

    @staticmethod
    def _model_list() -> list[dict]:
        out = []
        for m in registry.all_models():
            if m.is_retired():
                continue
            out.append({"id": m.id, "provider": m.provider, "label": m.label,
                        "warning": m.shutdown_warning(), "mask": m.can_mask or m.provider == "gemini",
                        "params": registry.ui_specs(m)})
        return out

    @staticmethod
    def _default_params(model, keep: dict | None = None) -> dict:
        keep = keep or {}
        out = {}
        for spec in registry.ui_specs(model):
            value = keep.get(spec["name"], spec.get("default"))
            try:
                registry.validate_params(model, {spec["name"]: value}, kind="edit")
            except InvalidRequest:
                value = spec.get("default")
            out[spec["name"]] = value
        return out

    def _set_error(self, exc: BaseException | None) -> None:
        if exc is None:
            self.error = {}
            return
        if isinstance(exc, PromptpaintError):
            self.error = {"kind": type(exc).__name__, "message": scrub(exc.message),
                          "hint": scrub(exc.hint or ""), "retry_after": getattr(exc, "retry_after", None)}
        else:
            # Never a traceback in the UI: the type and the message are enough to act on.
            self.error = {"kind": type(exc).__name__, "message": scrub(str(exc)) or type(exc).__name__,
                          "hint": "This looks like a bug in promptpaint; the details are in the kernel log.",
                          "retry_after": None}

    def _refresh_costs(self) -> None:
        estimate, note = None, ""
        try:
            client = self._client()
            params = {k: v for k, v in self.params.items() if v not in (None, "")}
            n_images = 1 if self.image_id else 0
            estimate = client.estimate(self.prompt or "", images=n_images, **params)
            note = "free (offline stand-in)" if client.offline else (
                "worst case for these settings" if estimate is not None else "price unknown")
        except PromptpaintError as exc:
            note = exc.message
        ledger = self._client().ledger if self._clients else None
        all_time = ledger.total() if ledger else Decimal(0)
        budget_left = None
        if self._budget is not None and ledger is not None:  # what counts: unknown costs at their reservation
            budget_left = max(Decimal(0), self._budget - ledger.spent(budget=self._client_options["budget_id"]))
        daily = config.daily_budget()
        if daily is not None and ledger is not None:
            left_today = max(Decimal(0), daily - ledger.spent(day=utc_now().date()))
            budget_left = left_today if budget_left is None else min(budget_left, left_today)
        self.costs = {"last": _money(self._last_cost), "widget": _money(self._widget_total),
                      "all_time": _money(all_time), "budget_left": _money(budget_left),
                      "estimate": _money(estimate), "estimate_note": note}

    # -- observers -------------------------------------------------------------------------------
    def _revert(self, name: str, old, exc: PromptpaintError) -> None:
        """Undo a bad value from the front end and say why; the observers stay quiet meanwhile."""
        self._reverting = True
        try:
            setattr(self, name, old)
        finally:
            self._reverting = False
        self._set_error(exc)

    def _on_provider(self, change) -> None:
        if self._reverting:
            return
        new = change["new"]
        try:
            same = registry.get(self.model, new).provider == new
        except InvalidRequest:
            same = False
        try:
            model = self.model if same else registry.default_model(new)
            self._client(new, model)  # fails here, not later, when the provider has no key
        except PromptpaintError as exc:
            self._revert("provider", change["old"], exc)
            return
        self._set_error(None)
        if model != self.model:
            self.model = model
        self._refresh_costs()

    def _on_model(self, change) -> None:
        if self._reverting:
            return
        try:
            if change["new"] not in {m["id"] for m in self.models}:
                raise InvalidRequest(f"Unknown model {change['new']!r}: pick one from the list "
                                     "(retired models are not offered).", param="model")
            m = registry.get(change["new"], self.provider)
            registry.check_lifecycle(m)
            self._client(self.provider, m.id)
        except PromptpaintError as exc:
            self._revert("model", change["old"], exc)
            return
        self.params = self._default_params(m, self.params)
        self._set_error(None)
        self._refresh_costs()

    def _on_params(self, change) -> None:
        if self._reverting:
            return
        cleaned = {k: v for k, v in change["new"].items() if v not in (None, "")}
        try:
            registry.validate_params(self._client().model, cleaned, kind="edit")
        except InvalidRequest as exc:
            self._revert("params", change["old"], exc)
            return
        self._refresh_costs()

    def _on_current(self, change) -> None:
        if self._reverting:
            return
        cur = change["new"]
        if not cur:
            return
        turn = self._turn(cur.get("turn"))
        index = cur.get("index", 0)
        if turn is None or not (0 <= index < len(turn.ids)):
            self._revert("current", change["old"], InvalidRequest("That history entry does not exist."))
            return
        self._show(turn.ids[index])

    def _turn(self, turn_id) -> StudioTurn | None:
        return next((h for h in self._history if h.id == turn_id), None)

    def _show(self, image_id: str) -> None:
        if image_id != self.image_id:
            with Image.open(self._store.find(image_id)) as im:  # reads the header, not the pixels
                size = list(im.size)
            self._mask = None
            self.has_mask = False
            self.image_size = size
            self.image_id = image_id
        self._refresh_costs()

    # -- messages from the front end -----------------------------------------------------------
    def _on_msg(self, _widget, content: dict, buffers: list) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        try:
            if kind == "run":
                self._start(content.get("action"), self.prompt, dict(self.params))
            elif kind == "cancel":
                self._cancel_running()
            elif kind == "mask":
                self._receive_mask(buffers)
            elif kind == "upload":
                if not buffers:
                    raise InvalidRequest("The upload arrived empty.")
                self._upload(_bytes(buffers[0]), str(content.get("name") or "upload"))
            elif kind == "fetch":
                self._send_image(str(content.get("id", "")), bool(content.get("thumb")))
            else:
                raise InvalidRequest(f"Unknown message from the front end: {kind!r}.")
        except PromptpaintError as exc:
            self._set_error(exc)

    def _receive_mask(self, buffers) -> None:
        if not buffers or not len(buffers[0]):
            self._mask = None
            self.has_mask = False
            return
        if not self.image_size:
            raise InvalidRequest("Paint the mask on an image: generate or upload one first.")
        m = masks.to_image(_bytes(buffers[0]))
        if list(m.size) != list(self.image_size):
            raise InvalidRequest(f"The mask is {m.size[0]}x{m.size[1]} but the image is "
                                 f"{self.image_size[0]}x{self.image_size[1]}; repaint it.", param="mask")
        m = masks.normalise(m, m.size)
        self._mask = None if masks.is_empty(m) else m
        self.has_mask = self._mask is not None

    def _upload(self, data: bytes, name: str) -> None:
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidRequest(f"{name} is {len(data) / 2**20:.1f} MB; the limit is 20 MB. "
                                 "Resize or compress it first.", param="image")
        try:
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if w * h > MAX_UPLOAD_PIXELS:
                    raise InvalidRequest(f"{name} is {w}x{h} pixels; the limit is 40 megapixels.",
                                         param="image")
                im.load()
                if im.mode not in ("RGB", "RGBA"):
                    data = encode_png(im.convert("RGBA" if "A" in im.getbands() else "RGB"))
        except InvalidRequest:
            raise
        except Exception:
            raise InvalidRequest(f"{name} is not an image we can read: use PNG, JPEG or WebP.",
                                 param="image") from None
        digest, path = self._store.put(data)
        self._add_turn("upload", f"(uploaded {name})", {}, [digest], [path], Decimal(0), None, None)

    def _send_image(self, image_id: str, thumb: bool) -> None:
        path = self._store.find(image_id) if len(image_id) == 64 else None
        if path is None:
            # An empty reply settles the front end's pending request instead of leaving it waiting.
            self.send({"kind": "image", "id": image_id, "thumb": thumb, "mime": None}, buffers=[])
            raise InvalidRequest("That image is not in the store any more.")
        if thumb:
            data = self._thumbs.get(image_id)
            if data is None:
                with Image.open(path) as im:
                    im.thumbnail((THUMB, THUMB))
                    data = encode_png(im.convert("RGB"))
                self._thumbs[image_id] = data
            mime = "image/png"
        else:
            data = path.read_bytes()
            mime = {"jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}.get(path.suffix[1:], "image/png")
        self.send({"kind": "image", "id": image_id, "thumb": thumb, "mime": mime}, buffers=[data])

    # -- running calls ---------------------------------------------------------------------------
    def _python_call(self, action, prompt, params, wait) -> Result | None:
        if prompt is not None:
            self.prompt = prompt
        if params:
            merged = {**self.params, **params}
            registry.validate_params(self._client().model,
                                     {k: v for k, v in merged.items() if v not in (None, "")}, kind="edit")
            self.params = merged
        worker = self._start(action, self.prompt, dict(self.params), raise_errors=True)
        if not wait:
            return None
        worker.join()
        if worker.error is not None:
            raise worker.error
        return worker.result

    def _start(self, action, prompt, params, raise_errors=False):
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                exc = InvalidRequest("A call is already running: wait for it, or press Cancel.")
                if raise_errors:
                    raise exc
                self.notice = exc.message
                return self._worker
            try:
                job = self._prepare(action, prompt, params)
            except PromptpaintError as exc:
                self._set_error(exc)
                if raise_errors:
                    raise
                return None
            self._cancel = threading.Event()
            worker = _Worker(self, job, self._cancel)
            self._worker = worker
            self._set_error(None)
            self.started_at = time.time()
            self.status = "running"
            worker.start()
            return worker

    def _prepare(self, action, prompt, params) -> dict:
        if action not in ("generate", "edit"):
            raise InvalidRequest(f"Unknown action {action!r}.")
        if not (prompt or "").strip():
            raise InvalidRequest("Type a prompt first: say what to draw or change.", param="prompt")
        client = self._client()
        params = {k: v for k, v in params.items() if v not in (None, "")}
        job = {"action": action, "prompt": prompt, "params": params, "client": client,
               "mask": self._mask, "parent": None, "chat": None, "image": None}
        if action == "edit":
            if not self.image_id:
                raise InvalidRequest("There is no image to edit yet: generate or upload one first.")
            cur = self._turn(self.current.get("turn"))
            index = self.current.get("index", 0)
            job["parent"] = cur.id if cur else None
            same_conversation = (cur is not None and cur.chat is not None and cur.chat.turns
                                 and cur.chat.client is client and index == 0)
            if same_conversation:
                job["chat"] = cur.chat.branch(-1)     # editing an older turn branches from it
            else:
                job["chat"] = client.chat()
                job["image"] = self._store.find(self.image_id)
        return job

    def _run_job(self, job, cancel) -> Result:
        client: Client = job["client"]
        if job["action"] == "generate":
            chat = client.chat()
            result = chat.send(job["prompt"], cancel=cancel, **job["params"])
        else:
            chat = job["chat"]
            result = chat.send(job["prompt"], image=job["image"], mask=job["mask"], cancel=cancel,
                               **job["params"])
        job["chat"] = chat
        return result

    def _finish(self, job, result: Result | None, exc: BaseException | None, cancelled: bool) -> None:
        client: Client = job["client"]
        paid = getattr(exc, "cost", None) if exc is not None else None
        if result is not None:
            self._last_cost = result.cost
            self._widget_total += result.cost or Decimal(0)
            self._add_turn(job["action"], job["prompt"], result.params, result.ids, result.paths,
                           result.cost, job["parent"], job["chat"], client=client, text=result.text,
                           show=not cancelled)
        elif paid:
            self._last_cost = paid
            self._widget_total += paid
        try:
            wire = client.wire(job["action"], job["prompt"], job["params"],
                               n_images=0 if job["action"] == "generate" else 1,
                               mask=job["mask"] is not None)
            self.code = {"curl": codegen.curl(wire), "python": codegen.python(wire)}
        except PromptpaintError:
            pass
        with self._lock:
            # A cancelled call finishes in the background; it must not touch a newer call's status.
            if not cancelled:
                if exc is not None:
                    self._set_error(exc)
                self.status = "idle"
                self.started_at = 0.0
        self._refresh_costs()

    def _add_turn(self, kind, prompt, params, ids, paths, cost, parent, chat, *, client=None,
                  text=None, show=True) -> StudioTurn:
        turn = StudioTurn(id=len(self._history) + 1, kind=kind, prompt=prompt,
                          provider=client.provider_name if client else kind, model=client.model.id if client else "",
                          params=dict(params), ids=list(ids), paths=list(paths), cost=cost, parent=parent,
                          text=text, offline=bool(client and client.offline), chat=chat)
        self._history.append(turn)
        self.turns = [h.as_state() for h in self._history]
        if show:
            self.current = {"turn": turn.id, "index": 0}
        return turn

    def _cancel_running(self) -> None:
        with self._lock:
            if self._cancel is not None:
                self._cancel.set()
            self._worker = None  # the next Generate may start at once; this call still lands in history
        if self.status == "running":
            self.status = "idle"
            self.started_at = 0.0
            self.notice = ("Cancelled. If the provider had already started, the call may still be "
                           "billed; its image will appear in the history when it arrives.")


class _Worker(threading.Thread):
    """One call off the kernel's main thread, so the notebook stays responsive."""

    def __init__(self, studio: Studio, job: dict, cancel: threading.Event):
        super().__init__(daemon=True, name="promptpaint-call")
        self.studio, self.job, self.cancel = studio, job, cancel
        self.result: Result | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.studio._run_job(self.job, self.cancel)
        except BaseException as exc:  # reported in the UI and re-raised to a Python caller
            self.error = exc
        finally:
            self.studio._finish(self.job, self.result, self.error, self.cancel.is_set())


def _bytes(buf) -> bytes:
    return buf.tobytes() if isinstance(buf, memoryview) else bytes(buf)
