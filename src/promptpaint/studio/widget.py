"""``pp.Studio``: the notebook widget. It maps traits and custom messages onto a ``Session``.

Synced state stays small (ids, settings, text): images travel as binary custom messages on
demand and live in the engine's store, so a saved notebook holds no image bytes and no key.
The protocol is written down in docs/widget-protocol.md; the work is done in ``session``.
Messages from the front end go through one table (``MESSAGES``); every request that carries an
id gets exactly one answer through ``_answer``, an error included.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal
from pathlib import Path

import anywidget
import traitlets as t
from PIL import Image

from ..client import Client, Result
from ..errors import InvalidRequest, PromptpaintError
from . import reruns, saving
from .files import StudioFiles
from .errorcard import error_message
from .history import StudioTurn
from .jobs import BUSY, Job
from .protocol import _ACK, _FRONT_END, _READ, _TRAITS, MESSAGES, Reply
from .protocol import _Dependent
from .session import Session

STATIC = Path(__file__).parent.parent / "static"
log = logging.getLogger(__name__)

class Studio(StudioFiles, anywidget.AnyWidget):
    """A notebook widget to generate images, paint a mask and edit inside it, with every call
    priced, booked in the ledger and kept in a history you can branch from.

    Display it as the last expression of a cell (``studio``) or with ``display(studio)``::

        >>> import promptpaint as pp
        >>> studio = pp.Studio("openai", budget=2.00)
        >>> studio                                  # the widget
        >>> studio.generate("a lighthouse at dusk")  # the same path as pressing Generate
        >>> studio.mask = mask_array                 # non-zero = change; the view shows it
        >>> studio.edit("make it night")             # edits the image shown, inside the mask
        >>> studio.image, studio.history, studio.cost

    :param provider: ``"openai"``, ``"gemini"`` or ``"offline"`` (a $0 stand-in that draws
        placeholders on this machine). Default: ``PROMPTPAINT_PROVIDER``, else the provider
        whose key is set (``GEMINI_API_KEY``/``GOOGLE_API_KEY`` first, then
        ``OPENAI_API_KEY``), else offline. The provider can be changed in the widget.
    :param model: the model id, e.g. ``"gpt-image-2"`` or ``"gemini-3.1-flash-image"``
        (``promptpaint models`` lists them). Default: the provider's default model.
    :param budget: the most this Studio may spend, in USD, across every provider and model
        it is switched to (one budget, shared). A call whose worst case would exceed what is
        left is refused before it is sent; "Budget left" is read from the ledger. Default:
        no per-Studio limit (``daily_budget`` in the config still applies). Running the cell again
        starts a fresh budget and says so (``resume=True`` continues the earlier run's); so does a
        ``budget_id="name"`` the ledger already counts spending under (booked as ``name#2``...).
    :param resume: ``True`` reopens this notebook's last Studio session (turns, branches and the
        image shown, kept under ``PROMPTPAINT_HOME`` per notebook path) instead of starting
        empty; ``provider=``/``model=`` given here win over the saved ones. Earlier images
        are also in the widget's Past images, resumed or not.
    :param api_key: the key for ``provider``; default from the environment. It stays in the
        kernel: the front end, the notebook and "Show code" never see it.
    :param base_url: another endpoint for ``provider`` (a gateway or proxy), default from
        ``OPENAI_BASE_URL`` / ``GOOGLE_GEMINI_BASE_URL``.
    :param price: a price for a model promptpaint does not know, in USD per 1M tokens, e.g.
        ``{"input_text": 5, "output_image": 40}``; without it such calls are booked at an
        unknown cost (and refused under a budget).
    :param bill_like: offline only: book each call at this model's prices, as practice.
    :param ceiling: the most one call may cost, in USD, for a call whose worst case is unknown:
        under a budget it is reserved instead of refusing the call.
    :param cache: ``True`` answers a repeat of an identical call from the store at $0.
    :param timeout: seconds to wait for an answer (default 600).
    :param max_retries: retries after a rate limit or a server error (default 2); the view
        shows "Rate limited — retrying in 3 s (attempt 2 of 3)" while it waits.
    :param retry_on_timeout: also retry after a timeout (default ``False``: it may be billed twice).
    :param backoff: the first wait between retries, in seconds (default 0.5), doubled each time.
    :param ledger: a :class:`promptpaint.Ledger` to book calls in (default ``pp.ledger()``,
        SQLite under ``PROMPTPAINT_HOME``).
    :param store: an :class:`~promptpaint.store.ImageStore` for the images (default
        ``PROMPTPAINT_HOME/images``).

    The **Compare** button runs the prompt on several models and/or qualities, up to 4 repeats
    each (12 calls at most), after showing their worst case; the grid shows each image with its
    cost, and clicking one makes it the image to edit. Every cell is an ordinary call under
    this Studio's budget, and its image is a turn in ``history`` (kind ``"compare"``).

    Running its cell again replaces a Studio: the old view says so and refuses to run.
    ``studio.close()`` does the same. The kernel ↔ browser protocol is in
    ``docs/widget-protocol.md``; :class:`promptpaint.studio.Session` holds the state.
    """

    _esm = STATIC / "widget.js"  # CSS is bundled inside it, scoped under .promptpaint

    # The traits docs/widget-protocol.md marks ↔. Everything else is the kernel's to say: a write
    # from the browser to it is refused and the kernel's value sent back.
    FRONT_END_TRAITS = frozenset(_FRONT_END)

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
    retry = t.Dict().tag(sync=True)
    closed = t.Unicode("").tag(sync=True)
    compare = t.Dict().tag(sync=True)
    previews = t.Bool(True).tag(sync=True)
    references = t.List().tag(sync=True)

    def __init__(self, provider: str | None = None, *, model: str | None = None,
                 budget: float | None = None, resume: bool = False, **client_options):
        self._ready = False
        # Per thread: the worker applying a call's result must not silence the checks of a
        # front-end change the kernel's main thread handles at the same moment.
        self._quiet = threading.local()
        self._session = Session(provider, model=model, budget=budget, resume=resume,
                                on_change=self._on_session, **client_options)
        s = self._session
        super().__init__(provider=s.provider, model=s.model, params=dict(s.params), prompt=s.prompt,
                         providers=s.provider_list(), models=s.model_list())
        self._ready = True
        for name in _TRAITS:
            self._on_session(name)
        self.on_msg(self._on_msg)
        self.observe(self._on_front, names=list(_FRONT_END))
        s.on_preview = self._send_preview
        reruns.register(self)

    def close(self) -> None:
        """Close the widget: its views say so, and it accepts no more runs."""
        session = getattr(self, "_session", None)  # None when __init__ failed (no key…)
        if session is not None and not session.closed:
            session.retire("closed")
        super().close()

    # -- the Python API -------------------------------------------------------------------------
    def generate(self, prompt: str | None = None, *, wait: bool = True, **params) -> Result | None:
        """Generate from ``prompt`` (or the prompt box) — the same path as pressing Generate."""
        return self._python_call("generate", prompt, params, wait)

    def edit(self, prompt: str | None = None, *, wait: bool = True, **params) -> Result | None:
        """Edit the current image, inside the painted mask if there is one — as pressing Edit."""
        return self._python_call("edit", prompt, params, wait)

    @property
    def session(self) -> Session:
        """The widget-free state behind this widget."""
        return self._session

    @property
    def client(self) -> Client:
        return self._session.client()

    @property
    def image(self) -> Image.Image | None:
        return self._session.store.open(self.image_id) if self.image_id else None

    @property
    def mask(self) -> Image.Image | None:
        """The painted mask as an "L" image (255 = change) at the image's size, or None."""
        m = self._session.mask
        return m.copy() if m is not None else None

    @mask.setter
    def mask(self, value) -> None:
        if value is None:
            self.clear_mask()
        else:
            self._session.set_mask(value)
            self.send({"kind": "mask", "image_id": self._session.image_id},
                      buffers=[self._session.mask_png()] if self._session.mask is not None else [])

    def clear_mask(self) -> None:
        self._session.clear_mask()
        self.send({"kind": "clear_mask"})

    @property
    def history(self) -> list[StudioTurn]:
        return list(self._session.history)

    @property
    def cost(self) -> Decimal:
        """What this widget's calls have cost (``pp.ledger().total()`` for all time)."""
        return self._session.total

    def load(self, image, name: str = "image") -> None:
        """Use ``image`` (PIL image, path or bytes) as the picture to edit, as an upload would."""
        self._session.load(image, name)

    @property
    def _worker(self) -> Job | None:
        return self._session.job

    def _python_call(self, action, prompt, params, wait) -> Result | None:
        s = self._session
        if prompt is not None:
            self.prompt = prompt
        if params:
            merged = {**self.params, **params}
            s.choose_params(merged)
            self.params = merged
        try:
            job = s.start(action, self.prompt, dict(self.params))
        except PromptpaintError as exc:
            s.set_error(exc)
            raise
        if not wait:
            return None
        job.join()
        if job.error is not None:
            raise job.error
        return job.result

    # -- Session → traits ----------------------------------------------------------------------
    @property
    def _applying(self) -> bool:
        return getattr(self._quiet, "on", False)

    @_applying.setter
    def _applying(self, value: bool) -> None:
        self._quiet.on = value

    def _on_session(self, name: str) -> None:
        if not self._ready:
            return
        applying, self._applying = self._applying, True  # the kernel's own values: not re-checked
        try:
            with self.hold_sync():
                for trait in _TRAITS[name]:
                    setattr(self, trait, _READ[trait](self._session))
        finally:
            self._applying = applying

    def _send_preview(self, job: int, index: int, total: int, data: bytes, mime: str) -> None:
        """A streamed preview, as a binary message like an image; never stored, never in state."""
        self.send({"kind": "preview", "job": job, "index": index, "total": total,
                   "label": f"preview {index + 1} of {total}", "mime": mime}, buffers=[data])

    # -- traits the front end may write --------------------------------------------------------
    def set_state(self, sync_data):
        """A state update from the front end (ipywidgets calls this for comm messages only)."""
        taken = {k: sync_data[k] for k in _FRONT_END if k in sync_data}  # in dependency order
        refused = [k for k in sync_data if k not in taken and k in self.keys]
        self._quiet.refused = None  # the first refused choice of this update: its error stands
        try:
            super().set_state(taken)
        except Exception as exc:  # a value of the wrong type: traitlets rolled it back
            refused += list(taken)
            self._session.set_error(InvalidRequest(
                f"The front end sent a value of the wrong type ({type(exc).__name__}); it was ignored."))
        finally:
            self._quiet.refused = None
        if refused:
            self.send_state(refused)

    def _on_front(self, change) -> None:
        if self._applying:
            return
        name, s = change["name"], self._session
        first = getattr(self._quiet, "refused", None)
        try:
            if first == "provider" and name in ("model", "params"):
                # They were chosen for the refused provider: undo them too, keeping its message
                # ("No openai API key: set OPENAI_API_KEY…"), not "offline-sketch does not take …".
                raise _Dependent()
            _FRONT_END[name](s, change["new"])
        except (PromptpaintError, _Dependent) as exc:
            applying, self._applying = self._applying, True  # undo the refused value quietly
            try:
                setattr(self, name, change["old"])
            finally:
                self._applying = applying
            if not isinstance(exc, _Dependent):
                self._quiet.refused = first or name
                s.set_error(exc)
            return
        if name in ("provider", "model"):
            s.set_error(None)

    # -- messages from the front end: one table, one way to answer -------------------------------
    def _on_msg(self, _widget, content, buffers: list) -> None:
        content = content if isinstance(content, dict) else {}
        kind = content.get("kind")
        try:
            if kind not in MESSAGES:
                raise InvalidRequest(f"Unknown message from the front end: {str(kind)[:40]!r}.")
            method, reply = MESSAGES[kind]
            self._answer(content, reply, lambda: getattr(self, method)(content, [_buffer(b) for b in buffers]))
        except Exception as exc:  # whatever it was, the error card says so and the kernel carries on
            if not isinstance(exc, PromptpaintError):
                log.exception("promptpaint: the %r message failed", kind)
            self._session.set_error(exc)

    def _answer(self, content: dict, reply: Reply, handle) -> None:
        """Run ``handle`` and answer the request: what it returned, or ``error`` in words (then
        re-raised for the error card, unless the reply says the asking panel shows it alone).
        An ``ack`` is sent only when the front end asked for one with a request id."""
        request = content.get("request")
        valid = isinstance(request, int) or (isinstance(request, str) and len(request) <= 64)
        head = {"kind": reply.kind, **({"of": str(content.get("kind"))} if reply is _ACK else {}),
                **reply.echo(content), **({"request": request} if valid else {})}
        try:
            fields, out = handle() or ({}, [])
        except Exception as exc:
            if reply is not _ACK or valid:
                self.send({**head, **reply.failed, "error": error_message(exc)}, buffers=[])
            if reply.card or not isinstance(exc, PromptpaintError):
                raise
            return
        if reply is not _ACK or valid:
            self.send({**head, **fields}, buffers=out)

    def _ready_to_run(self, content) -> bool:
        """False (and a notice) while a call runs; else takes the message's prompt: the text on
        screen when Run was pressed. The trait's own update may still be on its way (marimo posts
        it and the message separately, and they can arrive out of order)."""
        if self._session.runner.busy():
            self._session.set_notice(BUSY)
            return False
        if isinstance(content.get("prompt"), str):
            self.prompt = content["prompt"]
        return True

    def _msg_run(self, content, _buffers) -> None:
        if self._ready_to_run(content):
            self._session.start(content.get("action"), self.prompt, dict(self.params))

    def _msg_compare(self, content, _buffers) -> None:
        if self._ready_to_run(content):
            self._session.start_compare(content.get("models"), content.get("qualities"),
                                        content.get("repeats", 1), self.prompt)

    def _msg_cancel(self, _content, _buffers) -> None:
        self._session.cancel()

    def _msg_mask(self, _content, buffers) -> None:
        self._session.set_mask_png(buffers[0] if buffers else b"")

    def _msg_markup(self, _content, buffers) -> None:
        self._session.set_markup_png(buffers[0] if buffers else b"")

    def _msg_upload(self, content, buffers) -> None:
        if not buffers:
            raise InvalidRequest("The upload arrived empty.")
        self._session.upload(buffers[0], str(content.get("name") or "upload"))

    def _msg_open_past(self, content, _buffers) -> None:
        self._session.open_past(content.get("id"))

    def _msg_fetch(self, content, _buffers):
        """The bytes of one image (or its thumbnail); the Download button's copy carries how it
        was made written inside it."""
        thumb = bool(content.get("thumb"))
        if content.get("download") is True and not thumb:
            data, mime, note = saving.with_story(self._session, content.get("id", ""))
            return {"mime": mime, **({"note": note} if note else {})}, [data]
        data, mime = self._session.image_bytes(content.get("id", ""), thumb)
        return {"mime": mime}, [data]

    def _msg_fetch_mask(self, _content, _buffers):
        """The kernel's mask for the current image (no buffer: none is held)."""
        data = self._session.mask_png()
        return {"image_id": self._session.image_id}, [data] if data else []

    def _msg_past(self, content, _buffers):
        query = content.get("query", "")
        items = self._session.past(query if isinstance(query, str) else "", content.get("limit", 60))
        return {"items": [{k: v for k, v in i.items() if k != "params"} for i in items]}, []

    def _msg_hide_past(self, content, buffers):
        self._session.hide_past(content.get("id"))
        return self._msg_past(content, buffers)

    def _msg_compare_estimate(self, content, _buffers):
        found = self._session.compare_estimate(content.get("models"), content.get("qualities"),
                                               content.get("repeats", 1))
        return found, []


def _buffer(buf) -> bytes:
    """A custom message's buffer (a memoryview from the comm, bytes in tests) as bytes."""
    return buf.tobytes() if isinstance(buf, memoryview) else bytes(buf)


__all__ = ["Studio", "StudioTurn", "MESSAGES"]
