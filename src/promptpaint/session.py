"""What a Studio does, without the widget: the history tree, one call at a time on a worker
thread (with ids and cancel), the cost figures, uploads and the mask.

``Session`` holds the state and says what changed through one callback (``on_change(name)``);
``studio.Studio`` maps that onto traits and custom messages. Nothing here imports a widget
library, so it is tested and reused without a front end.
"""

from __future__ import annotations

import io
import itertools
import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from PIL import Image

from . import codegen, compare, config, images, masks, past, providers, registry
from .client import Chat, Client, Result
from .errors import BudgetExceeded, InvalidRequest, PromptpaintError, Refused
from .ledger import Totals
from .clock import current_user, utc_now
from .store import ImageStore, check_id, encode_png
from .transport import on_retry, scrub

log = logging.getLogger(__name__)
THUMB = 160
PREVIEWS = 2         # previews asked for per call when the model streams them
THUMB_CACHE = 256    # thumbnails kept in memory; a long session must not grow without bound
TYPICAL_OF = 20      # the typical cost is the median of at most this many recent calls
PROVIDER_LABELS = {p.name: p.label for p in providers.all_providers()}
OFFLINE_NOTICE = ("Offline stand-in: pictures are placeholders drawn on this machine, at $0. "
                  "Set GEMINI_API_KEY or OPENAI_API_KEY and pick that provider for a real model.")
CLOSED_MESSAGES = {
    "replaced": "This Studio was replaced by a newer one (its cell was run again): use the new one.",
    "closed": "This Studio was closed: create a new one with pp.Studio().",
}
CANCEL_NOTICE = ("Cancelled. If the provider had already started, the call may still be billed; "
                 "its image will appear in the history, marked cancelled, when it arrives.")


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
    cancelled: bool = False   # the user cancelled this call; it landed (and was billed) anyway
    refused: bool = False     # the provider answered without an image; ``text`` says why
    chat: Chat | None = field(default=None, repr=False)  # the conversation that led here

    @property
    def images(self) -> list[Image.Image]:
        out = []
        for p in self.paths:
            im = Image.open(p, formats=images.FORMATS)
            im.load()
            out.append(im)
        return out

    def as_state(self) -> dict:
        return {"id": self.id, "parent": self.parent, "kind": self.kind, "prompt": self.prompt,
                "provider": self.provider, "model": self.model, "params": self.params,
                "images": self.ids, "cost": None if self.cost is None else str(self.cost),
                "text": self.text, "offline": self.offline, "cancelled": self.cancelled,
                "refused": self.refused}


@dataclass
class Job:
    """One call: its inputs, the thread running it, and how it ended."""

    id: int
    action: str
    prompt: str
    params: dict
    client: Client
    mask: Image.Image | None
    markup: Image.Image | None = None
    parent: int | None = None
    chat: Chat | None = None
    image: Path | None = None
    cells: list = field(default_factory=list)   # a comparison's compare.Cell list...
    grid: dict = field(default_factory=dict)    # ...and the `compare` state it fills in
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    result: Result | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def join(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def is_alive(self) -> bool:
        return not self.done.is_set()


def _typical_params(model, params: dict) -> dict:
    """The settings a call usually ends up costing: OpenAI's ``quality`` auto is priced as its
    worst case (high) for budgets, but usually renders at medium."""
    if "quality" in model.params and params.get("quality") in (None, "auto"):
        return {**params, "quality": "medium"}
    return params


def _money(d: Decimal | None) -> str | None:
    return None if d is None else format(d, "f")


def _typical_params(model, params: dict) -> dict:
    """The settings a call usually ends up costing: OpenAI's ``quality`` auto is priced as its
    worst case (high) for budgets, but usually renders at medium."""
    if "quality" in model.params and params.get("quality") in (None, "auto"):
        return {**params, "quality": "medium"}
    return params


def error_state(exc: BaseException | None) -> dict:
    """An exception as the error card shows it: kind, a title in words, message and hint."""
    if exc is None:
        return {}
    if isinstance(exc, PromptpaintError):
        return {"kind": type(exc).__name__, "title": error_title(exc), "message": scrub(exc.message),
                "hint": scrub(exc.hint or ""), "retry_after": getattr(exc, "retry_after", None)}
    # Never a traceback in the UI: the type and the message are enough to act on.
    return {"kind": type(exc).__name__, "title": "Something went wrong",
            "message": scrub(str(exc)) or type(exc).__name__,
            "hint": "This looks like a bug in promptpaint; the details are in the kernel log.",
            "retry_after": None}


def error_title(exc: BaseException) -> str:
    """The error class's ``title`` when it has one, else its name in words ("Rate limited")."""
    title = getattr(type(exc), "title", None)
    if isinstance(title, str) and title:
        return title
    name = type(exc).__name__
    words = "".join(f" {c.lower()}" if c.isupper() and i else c for i, c in enumerate(name)).strip()
    return words[:1].upper() + words[1:]


class Session:
    """The widget-free core of ``pp.Studio``: see the module docstring."""

    thumb_cache_size = THUMB_CACHE

    def __init__(self, provider: str | None = None, *, model: str | None = None,
                 budget: float | None = None, resume: bool = False,
                 on_change: Callable[[str], None] | None = None, **client_options):
        self.on_change = on_change or (lambda name: None)
        # The key stays on this object's clients; only "configured" ever reaches a front end.
        api_key = client_options.pop("api_key", None)
        store, ledger = client_options.pop("store", None), client_options.pop("ledger", None)
        # One budget per Studio: every Client it makes (one per provider and model) books against
        # the same cap, so switching models never starts a fresh budget.
        self.budget_id = client_options.pop("budget_id", None) or (
            f"studio-{uuid.uuid4().hex[:12]}" if budget is not None else None)
        self._client_options = dict(client_options, budget=budget, budget_id=self.budget_id)
        self._clients: dict[tuple[str, str], Client] = {}
        self._lock = threading.RLock()
        self._job: Job | None = None
        self._job_ids = itertools.count(1)
        self._thumbs: OrderedDict[str, bytes] = OrderedDict()
        self.history: list[StudioTurn] = []
        self.mask: Image.Image | None = None
        self.markup: Image.Image | None = None   # strokes saying what to draw (RGBA), beside the mask
        self.total = Decimal(0)
        self.last_cost: Decimal | None = None
        self.calls = 0  # calls that landed or may have been paid: "Last call: —" before the first
        self.unknown_calls = 0  # of those, calls whose cost nobody knows: never folded in as $0
        self.budget = Decimal(str(budget)) if budget is not None else None
        client = Client(provider, model=model, api_key=api_key, store=store, ledger=ledger,
                        **self._client_options)
        self._api_keys = {client.provider_name: api_key} if api_key else {}
        self._clients[(client.provider_name, client.model.id)] = client
        self.store: ImageStore = client.store
        self.ledger = client.ledger
        self.provider, self.model = client.provider_name, client.model.id
        self.params = self.default_params(client.model)
        self.prompt = ""
        self.current: dict = {}
        self.image_id = ""
        self.image_size: list[int] = []
        self.status, self.started_at = "idle", 0.0
        self.error: dict = {}
        self.notice = OFFLINE_NOTICE if client.offline else ""
        self.code: dict = {}
        self.retry: dict = {}
        self.closed = ""
        self.compare: dict = {}  # the Compare panel's grid (`compare` in docs/widget-protocol.md)
        self.costs: dict = {}
        # Streamed previews: on by default where the model streams them. ``on_preview`` (set by
        # the widget) gets (job id, index, total, bytes, mime) for each; nothing is stored.
        self.previews = True
        self.on_preview: Callable[[int, int, int, bytes, str], None] | None = None
        self._all_time: Totals | None = None
        self._typical: Decimal | None = None
        if resume:
            self._resume(past.load_session())
        self.refresh_costs()

    # -- what the front end lists --------------------------------------------------------------
    def provider_list(self) -> list[dict]:
        return [{"name": p.name, "label": p.label,
                 "configured": p.offline or bool(self._api_keys.get(p.name) or config.api_key(p.name))}
                for p in providers.all_providers()]

    @staticmethod
    def model_list() -> list[dict]:
        return [{"id": m.id, "provider": m.provider, "label": m.label, "warning": m.shutdown_warning(),
                 "mask": m.can_mask or providers.provider_class(m.provider).masks_by_instruction,
                 "previews": m.previews, "markup": m.takes_markup,
                 "params": registry.ui_specs(m)}
                for m in registry.all_models() if not m.is_retired()]

    @staticmethod
    def default_params(model, keep: dict | None = None) -> dict:
        keep = keep or {}
        out = {}
        for spec in registry.ui_specs(model):
            value = keep.get(spec["name"], spec.get("default"))
            try:
                registry.validate_params(model, {spec["name"]: value}, kind="edit")
            except (InvalidRequest, TypeError, ValueError):
                value = spec.get("default")
            out[spec["name"]] = value
        return out

    def client(self, provider: str | None = None, model: str | None = None) -> Client:
        provider, model = provider or self.provider, model or self.model
        key = (provider, model)
        if key not in self._clients:
            self._clients[key] = Client(provider, model=model, api_key=self._api_keys.get(provider),
                                        store=self.store, ledger=self.ledger, **self._client_options)
        return self._clients[key]

    # -- choices (each raises InvalidRequest and changes nothing when the value is refused) --------
    def choose_provider(self, name) -> None:
        if not isinstance(name, str) or name not in PROVIDER_LABELS:
            raise InvalidRequest(f"Unknown provider {str(name)[:40]!r}: use 'gemini', 'openai' or "
                                 "'offline'.", param="provider")
        try:
            same = registry.get(self.model, name).provider == name
        except InvalidRequest:
            same = False
        model = self.model if same else registry.default_model(name)
        client = self.client(name, model)  # fails here, not later, when the provider has no key
        self.provider, self.model = name, model
        self.params = self.default_params(client.model, self.params)
        self._changed("selection")
        self.refresh_costs()

    def choose_model(self, model_id) -> None:
        if not isinstance(model_id, str) or model_id not in {m["id"] for m in self.model_list()}:
            raise InvalidRequest(f"Unknown model {str(model_id)[:80]!r}: pick one from the list "
                                 "(retired models are not offered).", param="model")
        m = registry.get(model_id, self.provider)
        registry.check_lifecycle(m)
        self.client(self.provider, m.id)
        self.model = m.id
        self.params = self.default_params(m, self.params)
        self._changed("selection")
        self.refresh_costs()

    def choose_params(self, params) -> None:
        if not isinstance(params, dict):
            raise InvalidRequest("The settings must be a dictionary of parameter values.", param="params")
        model = self.client().model
        for name, value in params.items():
            # Checked before the registry quotes them in a message: a name or value from a fuzzed
            # front end can be 100 KB long.
            if name not in model.params:
                raise InvalidRequest(f"{model.id} does not take {str(name)[:40]!r}.", param="params")
            if isinstance(value, str) and len(value) > 200 or isinstance(value, dict) or (
                    isinstance(value, list) and model.params[name]["kind"] != "list"):
                raise InvalidRequest(f"{name}: that value is not one {model.id} accepts.", param=name)
        try:
            registry.validate_params(model, images.drop_empty(params), kind="edit")
        except InvalidRequest:  # a ValueError too: keep the registry's words
            raise
        except (TypeError, ValueError, OverflowError):
            raise InvalidRequest("A setting has a value of the wrong kind.", param="params") from None
        self.params = dict(params)
        self._changed("selection")
        self.refresh_costs()

    def choose_prompt(self, prompt) -> None:
        if not isinstance(prompt, str):
            raise InvalidRequest("The prompt must be text.", param="prompt")
        self.prompt = prompt
        self.refresh_costs(totals=False)  # only the estimate depends on the prompt

    def show(self, turn_id, index=0) -> None:
        """Show (and edit next) image ``index`` of turn ``turn_id``."""
        turn = self.turn(turn_id)
        if turn is None or type(index) is not int or not (0 <= index < len(turn.ids)):
            raise InvalidRequest("That history entry does not exist.")
        self.current = {"turn": turn.id, "index": index}
        self._show_image(turn.ids[index])
        self._changed("shown")

    def turn(self, turn_id) -> StudioTurn | None:
        if type(turn_id) is not int:
            return None
        return next((h for h in self.history if h.id == turn_id), None)

    def _show_image(self, image_id: str) -> None:
        if image_id != self.image_id:
            path = self.store.find(image_id)
            try:
                with Image.open(path, formats=images.FORMATS) as im:  # the header, not the pixels
                    size = list(im.size)
            except Exception:
                size = []
            self.mask = None
            self.markup = None  # strokes belong to the image they were drawn on
            self._changed("mask")
            self.image_size = size
            self.image_id = image_id
        self.refresh_costs()

    # -- the mask ------------------------------------------------------------------------------
    def set_mask(self, value) -> None:
        """A mask from Python (PIL image, array, bytes, path): non-zero where to change."""
        if value is None:
            return self.clear_mask()
        if not self.image_size:
            raise InvalidRequest("There is no image to mask yet.", param="mask")
        m = masks.normalise(value, tuple(self.image_size))
        self.mask = None if masks.is_empty(m) else m
        self._changed("mask")

    def set_mask_png(self, data: bytes) -> None:
        """The brush layer from the front end: a PNG at the image's size; empty bytes clear it."""
        if not data:
            return self.clear_mask()
        if not self.image_size:
            raise InvalidRequest("Paint the mask on an image: generate or upload one first.")
        size = images.png_size(data)
        if size is None:
            raise InvalidRequest("The mask must be a PNG.", param="mask")
        # Checked from the header: a huge mask is refused before a single pixel is decoded.
        if list(size) != list(self.image_size):
            raise InvalidRequest(f"The mask is {size[0]}x{size[1]} but the image is "
                                 f"{self.image_size[0]}x{self.image_size[1]}; repaint it.", param="mask")
        m = masks.normalise(images.open_image(data, "The mask"), tuple(size))
        self.mask = None if masks.is_empty(m) else m
        self._changed("mask")

    def clear_mask(self) -> None:
        self.mask = None
        self._changed("mask")

    def set_markup_png(self, data: bytes) -> None:
        """The markup layer from the front end: a transparent PNG at the image's size; empty bytes clear it."""
        if not data:
            self.markup = None
            return
        if not self.image_size:
            raise InvalidRequest("Draw markup on an image: generate or upload one first.")
        size = images.png_size(data)
        if size is None or list(size) != list(self.image_size):
            raise InvalidRequest("The markup must be a PNG the size of the image; draw it again.",
                                 param="markup")
        layer = images.open_image(data, "The markup").convert("RGBA")
        self.markup = layer if layer.getchannel("A").getbbox() else None

    def mask_png(self) -> bytes | None:
        """The mask as the brush layer draws it: white, alpha 255 where painted; None without one."""
        if self.mask is None:
            return None
        layer = Image.new("RGBA", self.mask.size, (255, 255, 255, 0))
        layer.putalpha(self.mask)
        return encode_png(layer)

    def retire(self, why: str) -> None:
        """``why`` is "replaced" or "closed": from now on every run is refused, saying so."""
        self.cancel()
        self.closed = why
        self.set_notice(CLOSED_MESSAGES[why])
        self._changed("closed")

    # -- uploads and image bytes ---------------------------------------------------------------
    def upload(self, data: bytes, name: str = "image") -> StudioTurn:
        """Store an uploaded PNG/JPEG/WebP/GIF as it came (same bytes, its own extension) and show it."""
        name = (name or "image")[:120]
        images.open_image(data, name)  # refuses other formats, huge or damaged files
        digest, path = self.store.put(bytes(data))
        past.record_upload(digest, name)
        return self._add_turn("upload", f"(uploaded {name})", {}, [digest], [path], Decimal(0), None, None)

    def load(self, image, name: str = "image") -> StudioTurn:
        """``image`` (PIL image, array, path or encoded bytes) as the picture to edit."""
        if isinstance(image, (bytes, bytearray, memoryview)):
            return self.upload(bytes(image), name)
        if isinstance(image, (str, Path)):
            path = Path(image)
            if not path.is_file():
                raise InvalidRequest(f"No image file at {path}.", param="image")
            return self.upload(path.read_bytes(), path.name)
        return self.upload(encode_png(images.rgb_or_rgba(masks.to_image(image))), name)

    def image_bytes(self, image_id, thumb: bool = False) -> tuple[bytes, str]:
        """The bytes and MIME type of a stored image (a small PNG when ``thumb``)."""
        check_id(image_id)
        if thumb and image_id in self._thumbs:
            self._thumbs.move_to_end(image_id)
            return self._thumbs[image_id], "image/png"
        path = self.store.find(image_id)
        if path is None:
            raise InvalidRequest("That image is not in the store any more.", param="id")
        data = path.read_bytes()
        mime = images.mime_of(data)
        if mime is None:
            raise InvalidRequest(f"The stored file {path.name} is damaged: it is not an image.", param="id")
        if not thumb:
            return data, mime
        im = images.open_image(data, f"The stored file {path.name}")
        im.thumbnail((THUMB, THUMB))
        small = encode_png(images.rgb_or_rgba(im))
        self._thumbs[image_id] = small
        while len(self._thumbs) > self.thumb_cache_size:
            self._thumbs.popitem(last=False)
        return small, "image/png"

    # -- Past images and the last session -----------------------------------------------------
    def past(self, query: str = "", limit: int = 60) -> list[dict]:
        """Images from earlier calls and uploads (ledger + store), newest first, filtered by text."""
        if not isinstance(query, str):
            raise InvalidRequest("The filter must be text.", param="query")
        limit = limit if type(limit) is int and 0 < limit <= 500 else 60
        return past.items(self.ledger, self.store, query[:200], limit)

    def hide_past(self, image_id) -> None:
        """Hide an image from Past images. The ledger row (what it cost) is kept."""
        check_id(image_id)
        past.hide(image_id)

    def open_past(self, image_id) -> StudioTurn:
        """Bring a stored image into this session as a new turn, shown and ready to edit."""
        check_id(image_id)
        path = self.store.find(image_id)
        if path is None:
            raise InvalidRequest("That image is not in the store any more.", param="id")
        info = next((i for i in past.items(self.ledger, self.store, limit=10_000) if i["id"] == image_id), {})
        return self._add_turn("open", info.get("prompt") or "(from Past images)", info.get("params") or {},
                              [image_id], [path], Decimal(0), None, None)

    def snapshot(self) -> dict:
        """What ``resume=True`` reopens: the turns, the image shown, the settings."""
        return {"turns": [h.as_state() for h in self.history], "current": dict(self.current),
                "provider": self.provider, "model": self.model, "params": dict(self.params),
                "prompt": self.prompt}

    def _resume(self, state: dict) -> None:
        for t in state.get("turns") or []:
            try:
                ids = [i for i in t["images"] if check_id(i)]
                paths = [self.store.find(i) for i in ids]
                cost = None if t.get("cost") is None else Decimal(str(t["cost"]))
                self.history.append(StudioTurn(
                    id=int(t["id"]), kind=str(t["kind"]), prompt=str(t.get("prompt") or ""),
                    provider=str(t.get("provider") or ""), model=str(t.get("model") or ""),
                    params=dict(t.get("params") or {}), ids=ids, paths=[p for p in paths if p is not None],
                    cost=cost, parent=t.get("parent"), text=t.get("text"), offline=bool(t.get("offline")),
                    cancelled=bool(t.get("cancelled")), refused=bool(t.get("refused"))))
            except (KeyError, TypeError, ValueError, ArithmeticError, PromptpaintError):
                continue  # one damaged entry must not cost the rest of the history
        try:
            self.choose_provider(state.get("provider"))
            self.choose_model(state.get("model"))
            self.choose_params(state.get("params") or {})
        except PromptpaintError:
            pass  # the provider has no key today, or the model retired: keep this Studio's choice
        if isinstance(state.get("prompt"), str):
            self.prompt = state["prompt"]
        cur = state.get("current") or {}
        try:
            self.show(cur.get("turn"), cur.get("index", 0))
        except (PromptpaintError, AttributeError):
            pass

    # -- calls ---------------------------------------------------------------------------------
    @property
    def job(self) -> Job | None:
        return self._job

    def start(self, action, prompt: str | None = None, params: dict | None = None) -> Job:
        """Start a call on a worker thread; raises InvalidRequest before anything is spent."""
        with self._lock:
            if self.closed:
                raise InvalidRequest(CLOSED_MESSAGES[self.closed])
            if self._job is not None and self._job.is_alive():
                raise InvalidRequest("A call is already running: wait for it, or press Cancel.")
            job = self._prepare(action, self.prompt if prompt is None else prompt,
                                dict(self.params if params is None else params))
            return self._begin(job, self._work)

    def _begin(self, job: Job, work) -> Job:
        """Make ``job`` the running one and start ``work(job)`` on its worker thread."""
        self._job = job
        self.set_error(None)
        self.set_notice("")  # a notice belongs to the call it describes
        self.started_at = time.time()
        self.status = "running"
        self._changed("status")
        job.thread = threading.Thread(target=work, args=(job,), daemon=True,
                                      name=f"promptpaint-call-{job.id}")
        job.thread.start()
        return job

    def run(self, action, prompt: str | None = None, params: dict | None = None) -> Result:
        """Start a call and wait for it; its error is raised here."""
        job = self.start(action, prompt, params)
        job.join()
        if job.error is not None:
            raise job.error
        return job.result

    def cancel(self) -> None:
        with self._lock:
            job, self._job = self._job, None  # the next call may start at once; this one still lands
            if job is None or not job.is_alive():
                return
            job.cancel.set()
            self.status, self.started_at = "idle", 0.0
            self.retry = {}
            self._changed("retry")
            self._changed("status")
            self.set_notice(CANCEL_NOTICE)

    def _prepare(self, action, prompt, params) -> Job:
        if action not in ("generate", "edit"):
            raise InvalidRequest(f"Unknown action {str(action)[:40]!r}.")
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidRequest("Type a prompt first: say what to draw or change.", param="prompt")
        client = self.client()
        job = Job(next(self._job_ids), action, prompt, images.drop_empty(params), client, self.mask)
        job.markup = self.markup
        if action == "generate":
            return job
        if not self.image_id:
            raise InvalidRequest("There is no image to edit yet: generate or upload one first.")
        source = self.store.find(self.image_id)
        if source is None:
            # Without its file an edit would quietly become a paid generate: refuse instead.
            raise InvalidRequest(f"The image being edited ({self.image_id[:12]}…) is missing from the "
                                 f"store at {self.store.root}: upload it again, or pick another image.",
                                 param="image")
        cur = self.turn(self.current.get("turn"))
        index = self.current.get("index", 0)
        job.parent = cur.id if cur else None
        if cur is not None and cur.chat is not None and cur.chat.turns and cur.chat.client is client \
                and index == 0:
            job.chat = cur.chat.branch(-1)     # editing an older turn branches from it
        else:
            job.chat = client.chat()
            job.image = source
        return job

    def _work(self, job: Job) -> None:
        token = on_retry.set(lambda info: self._retrying(job, info))  # this thread's calls only
        stream = {}
        total = min(PREVIEWS, job.client.model.previews) if self.previews and self.on_preview else 0
        if total:
            stream = {"on_partial": lambda im, i: self._preview(job, im, i, total), "partial_images": total}
        try:
            if job.action == "generate":
                job.chat = job.client.chat()
                job.result = job.chat.send(job.prompt, cancel=job.cancel, **stream, **job.params)
            else:
                job.result = job.chat.send(job.prompt, image=job.image, mask=job.mask, cancel=job.cancel,
                                           markup=job.markup, **stream, **job.params)
        except BaseException as exc:  # reported in the UI and re-raised to a Python caller
            job.error = exc
        finally:
            on_retry.reset(token)
            try:
                self._finish(job)
            finally:
                job.done.set()

    def _preview(self, job: Job, image: Image.Image, index: int, total: int) -> None:
        """Hand a preview of the running call to the front end; it is shown for seconds, never stored."""
        if self._job is not job or job.cancelled or self.on_preview is None:
            return  # a cancelled or replaced call's drafts are not shown
        self.on_preview(job.id, index, total, *preview_bytes(image))

    def _retrying(self, job: Job, info: dict) -> None:
        """Transport is about to wait and retry: say so instead of a silent "Working…"."""
        if self._job is not job:
            return  # a cancelled call retrying in the background is no longer on screen
        delay = float(info.get("delay") or 0)
        shown = f"{delay:.0f} s" if delay >= 1 else f"{delay:.1f} s"
        self.retry = {"title": info.get("title") or "Retrying", "message": scrub(str(info.get("message") or "")),
                      "delay": delay, "attempt": info.get("attempt"), "attempts": info.get("attempts"),
                      "at": time.time(),
                      "text": f"{info.get('title') or 'Retrying'} — retrying in {shown} "
                              f"(attempt {info.get('attempt')} of {info.get('attempts')})"}
        self._changed("retry")

    def _finish(self, job: Job) -> None:
        result, exc, cancelled = job.result, job.error, job.cancelled
        paid = self._count(result, exc)
        if result is not None:
            self._add_turn(job.action, job.prompt, result.params, result.ids, result.paths, result.cost,
                           job.parent, job.chat, client=job.client, text=result.text,
                           show=not cancelled, cancelled=cancelled)
        elif isinstance(exc, Refused):
            # A refusal is part of the story (and may be billed): a card without an image.
            self._add_turn(job.action, job.prompt, job.params, [], [], paid, job.parent, None,
                           client=job.client, text=exc.text or exc.message, show=False,
                           cancelled=cancelled, refused=True)
        try:
            wire = job.client.wire(job.action, job.prompt, job.params,
                                   n_images=0 if job.action == "generate" else 1, mask=job.mask is not None)
            self.code = {"curl": codegen.curl(wire), "python": codegen.python(wire)}
            client_code = self._client_code(job)
            if client_code:
                self.code["promptpaint"] = client_code
            self._changed("code")
        except PromptpaintError:
            pass
        self._end(job, exc)

    def _end(self, job: Job, exc: BaseException | None) -> None:
        """``job`` is over: the Studio goes idle (with ``exc`` on the error card), unless it was
        cancelled and a newer call is running, whose status a late finish must not touch."""
        with self._lock:
            if self._job is job:
                self._job = None
                if exc is not None:
                    self.set_error(exc)
                self.status, self.started_at = "idle", 0.0
                self.retry = {}
                self._changed("retry")
                self._changed("status")
        self.refresh_costs()

    def _count(self, result: Result | None, exc: BaseException | None) -> Decimal | None:
        """Count a finished call in the widget's figures; returns what a failed one may have cost."""
        paid = getattr(exc, "cost", None) if exc is not None else None
        # A call that landed, was refused or may have been billed is "the last call" (its cost may
        # be unknown: None); one that failed before reaching the provider is not.
        if result is not None or isinstance(exc, Refused) or paid or getattr(exc, "maybe_billed", False):
            self.calls += 1
            self.last_cost = result.cost if result is not None else paid
            if self.last_cost is None:
                self.unknown_calls += 1
            else:
                self.total += self.last_cost
        return paid

    def _client_code(self, job: Job) -> str | None:
        """``pp.Client`` code for ``job`` that runs as pasted: an edit reads the source image
        from the store, and the mask it used is written there too. None when it cannot be made
        (no source file, or the mask could not be stored): the call's outcome matters more."""
        source = mask = None
        if job.action == "edit":
            parent = self.turn(job.parent)
            source = job.image or (parent.paths[0] if parent and parent.paths else None)
            if source is None:
                return None
            if job.mask is not None:
                try:
                    mask = self.store.put(encode_png(job.mask))[1]
                except OSError:
                    log.warning("could not store the mask for Show code", exc_info=True)
                    return None
        return codegen.client(job.client.provider_name, job.client.model.id, job.action, job.prompt,
                              job.params, image=source, mask=mask)

    def _add_turn(self, kind, prompt, params, ids, paths, cost, parent, chat, *, client=None,
                  text=None, show=True, cancelled=False, refused=False) -> StudioTurn:
        with self._lock:
            turn = StudioTurn(id=self.history[-1].id + 1 if self.history else 1, kind=kind, prompt=prompt,
                              provider=client.provider_name if client else kind,
                              model=client.model.id if client else "", params=dict(params), ids=list(ids),
                              paths=list(paths), cost=cost, parent=parent, text=text,
                              offline=bool(client and client.offline), cancelled=cancelled,
                              refused=refused, chat=chat)
            self.history.append(turn)
        self._changed("turns")
        if show:
            self.show(turn.id, 0)
        return turn

    # -- Compare: several models / qualities / repeats side by side ----------------------------
    def compare_cells(self, models, qualities=None, repeats=1) -> list:
        """The cells a comparison would make (``compare.plan``); raises InvalidRequest."""
        configured = {p["name"] for p in self.provider_list() if p["configured"]}
        offered = {m["id"]: m["provider"] for m in self.model_list() if m["provider"] in configured}
        return compare.plan(models, qualities, repeats, offered=offered, params=self.params,
                            default_params=self.default_params)

    def compare_estimate(self, models, qualities=None, repeats=1) -> dict:
        """``{"cells": [...], "calls": n, "worst_case": "1.27" or None}`` for the current prompt."""
        cells = self.compare_cells(models, qualities, repeats)
        worst = compare.worst_case(cells, self.prompt, lambda c: self.client(c.provider, c.model))
        return {"cells": [c.as_state() for c in cells], "calls": len(cells), "worst_case": _money(worst)}

    def start_compare(self, models, qualities=None, repeats=1, prompt: str | None = None) -> Job:
        """Run a comparison as one job on the worker: cell after cell, each an ordinary call
        booked against this Studio's budget, each image a turn (kind "compare") in the history.
        Cancel skips the cells not yet started."""
        with self._lock:
            if self.closed:
                raise InvalidRequest(CLOSED_MESSAGES[self.closed])
            if self._job is not None and self._job.is_alive():
                raise InvalidRequest("A call is already running: wait for it, or press Cancel.")
            prompt = self.prompt if prompt is None else prompt
            if not isinstance(prompt, str) or not prompt.strip():
                raise InvalidRequest("Type a prompt first: say what to draw.", param="prompt")
            cells = self.compare_cells(models, qualities, repeats)
            worst = compare.worst_case(cells, prompt, lambda c: self.client(c.provider, c.model))
            grid = {"running": True, "prompt": prompt, "calls": len(cells), "worst_case": _money(worst),
                    "cells": [{**c.as_state(), "status": "pending", "turn": None, "image": None,
                               "cost": None, "error": None, "message": None} for c in cells]}
            job = Job(next(self._job_ids), "compare", prompt, {}, self.client(), None, cells=cells, grid=grid)
            self.compare = grid
            self._changed("compare")
            return self._begin(job, self._work_compare)

    def _work_compare(self, job: Job) -> None:
        token = on_retry.set(lambda info: self._retrying(job, info))
        try:
            # job.grid, not self.compare: after Cancel a newer comparison may already be on screen.
            for cell, shown in zip(job.cells, job.grid["cells"]):
                if job.cancelled:
                    shown.update(status="skipped", error="Cancelled", message="Cancelled before it started.")
                    continue
                shown["status"] = "running"
                self._changed("compare")
                self._compare_cell(job, cell, shown)
                self._changed("compare")
        except BaseException as exc:  # a bug must not leave the Studio "running" for ever
            log.exception("promptpaint: the comparison failed")
            job.error = exc
        finally:
            on_retry.reset(token)
            try:
                job.grid["running"] = False
                self._changed("compare")
                self._end(job, job.error)
            finally:
                job.done.set()

    def _compare_cell(self, job: Job, cell, shown: dict) -> None:
        client = self.client(cell.provider, cell.model)
        chat = client.chat()
        result = exc = None
        try:
            result = chat.send(job.prompt, cancel=job.cancel, **cell.params)
        except Exception as e:  # one cell's failure, whatever it is, never stops the others
            if not isinstance(e, PromptpaintError):
                log.exception("promptpaint: comparison cell %d failed", cell.index)
            exc = e
        paid = self._count(result, exc)
        if result is not None:
            turn = self._add_turn("compare", job.prompt, result.params, result.ids, result.paths, result.cost,
                                  None, chat, client=client, text=result.text, show=False,
                                  cancelled=job.cancelled)
            shown.update(status="ok", turn=turn.id, image=result.ids[0] if result.ids else None,
                         cost=_money(result.cost))
            return
        # A cell the budget cannot cover is skipped (nothing was sent); any other failure stays
        # on its cell, with what it may have cost, and the next cell runs.
        shown.update(status="skipped" if isinstance(exc, BudgetExceeded) else
                     "refused" if isinstance(exc, Refused) else "error",
                     error=error_title(exc), message=error_state(exc)["message"], cost=_money(paid))
        if isinstance(exc, Refused):
            turn = self._add_turn("compare", job.prompt, cell.params, [], [], paid, None, None, client=client,
                                  text=exc.text or exc.message, show=False, cancelled=job.cancelled,
                                  refused=True)
            shown["turn"] = turn.id

    # -- status, errors, costs -----------------------------------------------------------------
    def set_error(self, exc: BaseException | None) -> None:
        self.error = error_state(exc)
        self._changed("error")

    def set_notice(self, text: str) -> None:
        self.notice = text
        self._changed("notice")

    def refresh_costs(self, *, totals: bool = True) -> None:
        """Recompute the cost panel; ``totals=False`` keeps the ledger figures (no database read)."""
        estimate = typical = None
        note = ""
        try:
            client = self.client()
            params = images.drop_empty(self.params)
            n_images = 1 if self.image_id else 0
            estimate = client.estimate(self.prompt or "", images=n_images, **params)
            typical = client.estimate(self.prompt or "", images=n_images,
                                      **_typical_params(client.model, params))
            note = "free (offline stand-in)" if client.offline else (
                "" if estimate is not None else "price unknown")
        except PromptpaintError as exc:
            note = exc.message
        except (TypeError, ValueError):
            note = "A setting has a value of the wrong kind."
        if totals or self._all_time is None:
            self._all_time = self.ledger.summary()
            self._budget_left = self._budget_left_now()
            self._typical = self._typical_cost()
        every = self._all_time
        open_calls = every.unknown_calls + every.interrupted_calls
        self.costs = {"last": _money(self.last_cost), "widget": _money(self.total),
                      "widget_unknown": self.unknown_calls,
                      "all_time": _money(every.known), "all_time_unknown": open_calls,
                      "all_time_note": str(every) if open_calls else "",
                      "budget_left": _money(self._budget_left),
                      "estimate": _money(estimate),
                      "estimate_typical": _money(self._typical if self._typical is not None else typical),
                      "estimate_note": note, "calls": self.calls}
        self._changed("costs")

    def _typical_cost(self) -> Decimal | None:
        """The median of what recent calls with this model and these settings really cost (from
        the ledger), or None before there are any: measured, never guessed."""
        keys = ("size", "quality", "n", "aspect_ratio", "image_size")
        wanted = {k: v for k, v in images.drop_empty(self.params).items() if k in keys}
        recent = [r["cost"] for r in self.ledger.entries(500)  # newest first
                  if r.get("model") == self.model and r.get("status") == "ok" and r.get("cost") is not None
                  and {k: v for k, v in (r.get("params") or {}).items() if k in keys} == wanted]
        costs = sorted(recent[:TYPICAL_OF])
        return costs[len(costs) // 2] if costs else None

    def _budget_left_now(self) -> Decimal | None:
        """What the caps still allow, read from the ledger: the figure a call is checked against
        (unknown-cost calls and live reservations count), not this widget's own arithmetic."""
        left = None
        if self.budget is not None:
            left = max(Decimal(0), self.budget - self.ledger.spent(budget=self.budget_id))
        daily = config.daily_budget()
        if daily is not None:
            # The daily cap from one's own config counts one's own calls, also in a class ledger.
            today = max(Decimal(0), daily - self.ledger.spent(day=utc_now().date(), user=current_user()))
            left = today if left is None else min(left, today)
        mine = self.ledger.allowance()  # caps a teacher keeps in a class ledger (pg)
        if mine is not None:
            left = mine if left is None else min(left, mine)
        return left

    def _changed(self, name: str) -> None:
        if name in ("turns", "shown") and self.history:
            try:
                past.save_session(self.snapshot())  # for resume=True; a new empty Studio keeps the last one
            except OSError:
                log.warning("promptpaint: could not save the session for resume=True", exc_info=True)
        self.on_change(name)


def preview_bytes(image: Image.Image) -> tuple[bytes, str]:
    """A draft as the smaller of PNG and JPEG (quality 80): early drafts are flat and compress
    best losslessly, later ones are photographic and JPEG wins; a draft needs no exact pixels."""
    png, jpg = io.BytesIO(), io.BytesIO()
    image.save(png, format="PNG")
    image.convert("RGB").save(jpg, format="JPEG", quality=80)
    return min((png.getvalue(), "image/png"), (jpg.getvalue(), "image/jpeg"), key=lambda d: len(d[0]))


__all__ = ["Session", "StudioTurn", "Job", "error_state", "error_title"]
