"""What a Studio does, without the widget: the facade the widget maps onto traits and messages.

``Session`` holds the choices (provider, model, settings, prompt), the image shown and the
flags the front end mirrors, and says what changed through one callback (``on_change(name)``).
The work lives beside it: ``history`` (turns), ``layers`` (mask and markup), ``jobs`` (the one
runner), ``calls`` (Generate/Edit), ``compare``, ``costs``, ``uploads``, ``past`` and ``code``.
Nothing here imports a widget library, so it is tested and reused without a front end.
"""

from __future__ import annotations

import logging
import uuid
import warnings
from collections import OrderedDict
from decimal import Decimal
from typing import Callable

from PIL import Image

from .. import config, images, providers, registry
from ..client import Client, OfflineNotice, Result
from ..errors import InvalidRequest, PromptpaintError
from ..store import ImageStore
from . import calls, compare, past, references, uploads
from .costs import Costs
from .errorcard import error_state
from .history import History, StudioTurn
from .jobs import Job, Runner
from .layers import Layers

log = logging.getLogger(__name__)
CLOSED_MESSAGES = {
    "replaced": "This Studio was replaced by a newer one (its cell was run again): use the new one.",
    "closed": "This Studio was closed: create a new one with pp.Studio().",
}


def offline_notice() -> str:
    """What an offline Studio says first, naming the key variables the providers read."""
    keys = " or ".join(p.key_env[0] for p in providers.all_providers() if not p.offline and p.key_env)
    return ("Offline stand-in: pictures are placeholders drawn on this machine, at $0. "
            f"Set {keys} and pick that provider for a real model.")


class Session:
    """The widget-free core of ``pp.Studio``: see the module docstring."""

    thumb_cache_size = uploads.THUMB_CACHE

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
        self._thumbs: OrderedDict[str, bytes] = OrderedDict()
        self.runner = Runner(self)
        self.history = History()
        self.layers = Layers()
        with warnings.catch_warnings():
            # The widget says it itself (``notice``): no warning box with a file path under the cell.
            warnings.simplefilter("ignore", OfflineNotice)
            client = Client(provider, model=model, api_key=api_key, store=store, ledger=ledger,
                            **self._client_options)
        self._api_keys = {client.provider_name: api_key} if api_key else {}
        self._clients[(client.provider_name, client.model.id)] = client
        self.store: ImageStore = client.store
        self.ledger = client.ledger
        self.budget = Decimal(str(budget)) if budget is not None else None
        self.costs_book = Costs(self.ledger, self.budget, self.budget_id)
        self.provider, self.model = client.provider_name, client.model.id
        self.params = self.default_params(client.model)
        self.prompt = ""
        self.current: dict = {}
        self.image_id = ""
        self.error: dict = {}
        self.notice = offline_notice() if client.offline else ""
        self.code: dict = {}
        self.references: list[dict] = []  # {"id", "name"}: sent with the next Generate or Edit
        self.closed = ""
        self.compare: dict = {}  # the Compare panel's grid (`compare` in docs/widget-protocol.md)
        self.costs: dict = {}
        # Streamed previews: on by default where the model streams them. ``on_preview`` (set by
        # the widget) gets (job id, index, total, bytes, mime) for each; nothing is stored.
        self.previews = True
        self.on_preview: Callable[[int, int, int, bytes, str], None] | None = None
        # Resume and the saved session are this notebook's own (keyed by its path).
        self.notebook = past.notebook_path()
        if resume:
            explicit = frozenset(k for k, v in (("provider", provider), ("model", model)) if v is not None)
            past.resume(self, past.load_session(self.notebook), explicit)
        self.refresh_costs()

    # -- state the widget mirrors, kept by the parts that own it ---------------------------------
    status = property(lambda self: self.runner.status)
    started_at = property(lambda self: self.runner.started_at)
    retry = property(lambda self: self.runner.retry)
    job = property(lambda self: self.runner.job, doc="The running call or comparison, or None.")
    image_size = property(lambda self: self.layers.size)
    mask = property(lambda self: self.layers.mask)
    markup = property(lambda self: self.layers.markup)
    total = property(lambda self: self.costs_book.total, doc="What this Studio's calls cost.")
    last_cost = property(lambda self: self.costs_book.last)
    calls = property(lambda self: self.costs_book.calls)
    unknown_calls = property(lambda self: self.costs_book.unknown_calls)

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

    def given_key(self, provider: str) -> bool:
        """True when ``provider``'s key came as ``api_key=`` (Show code then names its variable)."""
        return bool(self._api_keys.get(provider))

    def client(self, provider: str | None = None, model: str | None = None) -> Client:
        provider, model = provider or self.provider, model or self.model
        key = (provider, model)
        if key not in self._clients:
            self._clients[key] = Client(provider, model=model, api_key=self._api_keys.get(provider),
                                        store=self.store, ledger=self.ledger, **self._client_options)
        return self._clients[key]

    # -- choices (each raises InvalidRequest and changes nothing when the value is refused) --------
    def choose_provider(self, name) -> None:
        if not isinstance(name, str) or name not in providers.REGISTRY:
            names = ", ".join(repr(n) for n in providers.NAMES)
            raise InvalidRequest(f"Unknown provider {str(name)[:40]!r}: use one of {names}.", param="provider")
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
        except InvalidRequest:  # also a ValueError: the registry's own words say what to change
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

    # -- the image shown and its history ---------------------------------------------------------
    def show(self, turn_id, index=0) -> None:
        """Show (and edit next) image ``index`` of turn ``turn_id``."""
        turn = self.turn(turn_id)
        if turn is None or type(index) is not int or not (0 <= index < len(turn.ids)):
            raise InvalidRequest("That history entry does not exist.")
        self.current = {"turn": turn.id, "index": index}
        image_id = turn.ids[index]
        if image_id != self.image_id:
            try:
                with Image.open(self.store.find(image_id), formats=images.FORMATS) as im:  # the header only
                    size = list(im.size)
            except Exception:
                size = []
            self.layers.new_image(size)  # strokes belong to the image they were drawn on
            self._changed("mask")
            self.image_id = image_id
        self.refresh_costs()
        self._changed("shown")

    def turn(self, turn_id) -> StudioTurn | None:
        return self.history.find(turn_id)

    def add_turn(self, kind, prompt, params, ids, paths, cost, parent=None, chat=None, *, show=True,
                 **details) -> StudioTurn:
        turn = self.history.add(kind, prompt, params, ids, paths, cost, parent, chat, **details)
        self._changed("turns")
        if show:
            self.show(turn.id, 0)
        return turn

    def snapshot(self) -> dict:
        return past.snapshot(self)

    # -- the mask and markup -------------------------------------------------------------------
    def set_mask(self, value) -> None:
        self.layers.set_mask(value)
        self._changed("mask")

    def set_mask_png(self, data: bytes) -> None:
        self.layers.set_mask_png(data)
        self._changed("mask")

    def clear_mask(self) -> None:
        self.layers.set_mask(None)
        self._changed("mask")

    def set_markup_png(self, data: bytes) -> None:
        self.layers.set_markup_png(data)

    def mask_png(self) -> bytes | None:
        return self.layers.mask_png()

    # -- pictures in and out, Past images --------------------------------------------------------
    def upload(self, data: bytes, name: str = "image") -> StudioTurn:
        return uploads.upload(self, data, name)

    def load(self, image, name: str = "image") -> StudioTurn:
        return uploads.load(self, image, name)

    def image_bytes(self, image_id, thumb: bool = False) -> tuple[bytes, str]:
        return uploads.image_bytes(self, self._thumbs, image_id, thumb)

    def past(self, query: str = "", limit: int = 60) -> list[dict]:
        return past.listing(self, query, limit)

    def hide_past(self, image_id) -> None:
        """Hide an image from Past images. The ledger row (what it cost) is kept."""
        past.check_id(image_id)
        past.hide(image_id)

    def open_past(self, image_id) -> StudioTurn:
        return past.open_in(self, image_id)

    def add_reference(self, data: bytes | None = None, name: str = "image", image_id=None) -> dict:
        return references.add(self, data, name, image_id)

    def remove_reference(self, image_id) -> None:
        references.remove(self, image_id)

    # -- calls -----------------------------------------------------------------------------------
    def start(self, action, prompt: str | None = None, params: dict | None = None) -> Job:
        """Start a call on the worker; raises InvalidRequest before anything is spent."""
        with self.runner.lock:
            self.runner.check_free()
            job = calls.prepare(self, action, self.prompt if prompt is None else prompt,
                                dict(self.params if params is None else params))
            return self.runner.start(job, [calls.sender(self)], calls.finisher(self))

    def run(self, action, prompt: str | None = None, params: dict | None = None) -> Result:
        """Start a call and wait for it; its error is raised here."""
        job = self.start(action, prompt, params)
        job.join()
        if job.error is not None:
            raise job.error
        return job.result

    def cancel(self) -> None:
        self.runner.cancel()

    def compare_estimate(self, models, qualities=None, repeats=1) -> dict:
        return compare.estimate(self, models, qualities, repeats)

    def start_compare(self, models, qualities=None, repeats=1, prompt: str | None = None) -> Job:
        return compare.start(self, models, qualities, repeats, self.prompt if prompt is None else prompt)

    def _preview(self, job: Job, image: Image.Image, index: int, total: int) -> None:
        """Hand a preview of the running call to the front end; it is shown for seconds, never stored."""
        if self.runner.job is not job or job.cancelled or self.on_preview is None:
            return  # a cancelled or replaced call's drafts are not shown
        self.on_preview(job.id, index, total, *calls.preview_bytes(image))

    # -- status, errors, costs -----------------------------------------------------------------
    def retire(self, why: str) -> None:
        """``why`` is "replaced" or "closed": from now on every run is refused, saying so."""
        self.cancel()
        self.closed = why
        self.set_notice(CLOSED_MESSAGES[why])
        self._changed("closed")

    def closed_message(self) -> str:
        return CLOSED_MESSAGES.get(self.closed, "")

    def set_error(self, exc: BaseException | None) -> None:
        self.error = error_state(exc)
        self._changed("error")

    def set_notice(self, text: str) -> None:
        self.notice = text
        self._changed("notice")

    def costs_count(self, result: Result | None, exc: BaseException | None) -> Decimal | None:
        return self.costs_book.count(result, exc)

    def refresh_costs(self, *, totals: bool = True) -> None:
        """Recompute the cost panel; ``totals=False`` keeps the ledger figures (no database read)."""
        try:
            client, problem = self.client(), None
        except PromptpaintError as exc:
            client, problem = None, exc
        inputs = int(bool(self.image_id)) + len(self.references)
        self.costs = self.costs_book.panel(client, self.model, self.params, self.prompt, inputs,
                                           totals=totals, error=problem)
        self._changed("costs")

    def _changed(self, name: str) -> None:
        if name in ("turns", "shown", "references") and self.history:
            try:
                past.save_session(self.snapshot(), self.notebook)  # for resume=True; a new empty Studio keeps the last one
            except OSError:
                log.warning("promptpaint: could not save the session for resume=True", exc_info=True)
        self.on_change(name)


__all__ = ["Session", "StudioTurn", "Job", "offline_notice"]
