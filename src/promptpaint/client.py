"""``pp.Client``: generate, edit and chat with one provider, every call priced and booked."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import threading
import time
import urllib.parse
import uuid
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from PIL import Image

from . import config, images, markup, masks, pricing, providers, redact, registry
from .errors import AuthError, BudgetExceeded, InvalidRequest, PromptpaintError, Refused
from .ledger import Attempt, Cap, Dollars, Ledger, LedgerError, dollars, ledger as default_ledger
from .clock import utc_now
from .providers import Answer, Call, FileRef, Provider
from .registry import Price, UnknownPriceWarning
from .store import ImageStore, encode_png, sha256
from .transport import RetryPolicy, scrub


from .errors import LedgerWarning, OfflineNotice  # noqa: E402,F401  (defined in errors.py; old import path)


_offline_notice_shown = False


@dataclass
class Result:
    """One call's outcome. Images are on disk (``paths``) before this object exists."""

    prompt: str
    provider: str
    model: str
    kind: str
    params: dict
    ids: list[str]
    paths: list[Path]
    text: str | None
    usage: pricing.Usage
    cost: Decimal | None
    request_id: str | None = None
    finish_reason: str | None = None
    revised_prompt: str | None = None
    cached: bool = False
    duration: float = 0.0
    ledger_id: int | None = None
    offline: bool = False
    created: str = field(default_factory=lambda: utc_now().isoformat(timespec="seconds"))
    reserved: Decimal | None = None  # what counts against budgets while ``cost`` is unknown
    _images: list | None = field(default=None, repr=False)

    @property
    def images(self) -> list[Image.Image]:
        if self._images is None:
            self._images = [_open(p) for p in self.paths]
        return self._images

    @property
    def image(self) -> Image.Image:
        return self.images[0]

    def save(self, path, index: int = 0) -> Path:
        """Write image ``index`` to ``path`` (.png, .jpg, .webp) with how it was made inside it:
        prompt, provider, model, parameters, seed, cost, ledger row, time. ``pp.provenance(path)``
        reads it back. An image with a C2PA manifest is written unchanged, its story beside it."""
        from . import imagemeta

        return imagemeta.save(self, path, index)

    def __repr__(self) -> str:
        cost = dollars(self.cost)
        if self.cost is None and self.reserved:
            cost = f"cost unknown (up to {dollars(self.reserved)} counted against budgets)"
        tag = " (cached)" if self.cached else " (offline stand-in)" if self.offline else ""
        return (f"<Result {self.provider}/{self.model} {len(self.ids)} image(s), {cost}{tag}: "
                f"{self.prompt[:40]!r}>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The image(s) as small thumbnails with a one-line caption, for notebooks and their HTML."""
        from .display import result_bundle

        return result_bundle(self)

    def _repr_png_(self):
        """The first image as a small PNG, or None when it is better sent as a JPEG (a photo)."""
        from .display import first_thumbnail

        return first_thumbnail(self, "image/png")

    def _repr_jpeg_(self):
        from .display import first_thumbnail

        return first_thumbnail(self, "image/jpeg")


def _open_bytes(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data), formats=images.FORMATS)
    im.load()
    return im


def _open(path: Path) -> Image.Image:
    im = Image.open(path, formats=images.FORMATS)
    im.load()
    return im


def _input_bytes(value, provider: Provider):
    """An input image as encoded bytes (or a FileRef for a URI the provider fetches itself)."""
    if isinstance(value, FileRef):
        return value
    if isinstance(value, str) and value.startswith(("gs://", "https://", "http://")):
        if not provider.takes_uris:
            takers = " and ".join(p.label for p in providers.all_providers() if p.takes_uris)
            raise InvalidRequest(f"Only {takers} takes image URIs; pass the image itself.", param="image")
        mime = "image/jpeg" if value.lower().endswith((".jpg", ".jpeg")) else "image/png"
        return FileRef(value, mime)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise InvalidRequest(f"No image file at {path}.", param="image")
        data = path.read_bytes()
    else:
        return encode_png(images.rgb_or_rgba(masks.to_image(value)))
    im = images.open_image(data, load=False)  # PNG/JPEG/WebP/GIF within the size limits, or an error
    if im.format == "GIF" or im.mode not in ("RGB", "RGBA"):
        # Neither provider takes GIF, and palette or CMYK pixels surprise them: send plain PNG.
        im.load()
        return encode_png(images.rgb_or_rgba(im))
    return data


def _key_of(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


def _image_size(data) -> tuple[int, int] | None:
    """Pixel size from the header only (no decode); None for a URI."""
    if not isinstance(data, bytes):
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None


class _SingleFlight:
    """Identical cached calls in flight at once make one request; the others wait for its answer."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}

    def enter(self, key: str) -> threading.Event | None:
        """None: the caller makes the request (and must ``leave``). Else an event to wait on."""
        with self._lock:
            running = self._running.get(key)
            if running is None:
                self._running[key] = threading.Event()
            return running

    def leave(self, key: str) -> None:
        with self._lock:
            self._running.pop(key).set()


_in_flight = _SingleFlight()


class Client:
    """A provider, a model and the rules for spending on them.

    Every call goes the same way: the parameters are checked against the model, the worst-case
    cost is reserved in the ledger (and refused if it would break a budget), the request is sent,
    the images are written to the store, and the real cost is booked from the usage the provider
    reports.

    Basic usage::

      >>> import promptpaint as pp
      >>> client = pp.Client("gemini", model="gemini-3.1-flash-image", budget=2.00)
      >>> r = client.generate("a lighthouse at dusk", aspect_ratio="16:9")
      >>> r.image, r.cost, r.paths
      >>> client.estimate("a lighthouse at dusk")      # the most it could cost, before calling

    :param provider: ``"gemini"``, ``"openai"`` or ``"offline"`` (a free local stand-in that needs
        no key or network). Default: ``PROMPTPAINT_PROVIDER``, else the provider whose key is set
        (Gemini first), else offline.
    :param model: the model id, e.g. ``"gpt-image-2"`` or ``"gemini-3.1-flash-image"``. Default:
        the provider's current default. ``promptpaint models`` lists them with prices; a retired
        model raises :class:`ModelRetired` naming its successor.
    :param api_key: the provider's key. Default: ``OPENAI_API_KEY``, or ``GOOGLE_API_KEY`` /
        ``GEMINI_API_KEY``. It is never written to the ledger, a log, an error or a snippet.
    :param base_url: the API's address, for a gateway or a local stand-in, e.g.
        ``"https://api.openai.com/v1"``. Default: ``OPENAI_BASE_URL`` / ``GOOGLE_GEMINI_BASE_URL``,
        else the provider's own. Credentials in it (``user:password@``) are never shown.
    :param budget: the most this Client may spend, in USD, over its lifetime. A call whose worst
        case would go over it raises :class:`BudgetExceeded` before anything is sent. A daily cap
        (``PROMPTPAINT_DAILY_BUDGET`` or ``daily_budget`` in ``config.json``) applies as well.
    :param price: prices for a model promptpaint has none for, in USD per 1M tokens, e.g.
        ``{"input_text": 5, "output_image": 30}``; without it such a model's calls are booked
        at an unknown cost, and refused under a budget unless ``ceiling=`` is given too.
    :param cache: reuse the images of an identical earlier call (same model, prompt, parameters
        and inputs) at $0 instead of paying again. Default: False.
    :param timeout: seconds to wait for an answer (image models can take a minute or more).
        Default: 600.
    :param max_retries: how many times to resend a call that certainly did not reach the provider
        or that the provider said to retry (408/409/429/5xx), waiting as it asks (at most 2
        minutes). A call that may have been billed is never resent. Default: 2.
    :param retry_on_timeout: resend a call that timed out as well. It may then be billed twice.
        Default: False.
    :param backoff: the first wait between retries, in seconds, when the server names none; it
        doubles each time, up to 8 s. Default: 0.5.
    :param ledger: where calls are booked. Default: :func:`promptpaint.ledger`, the SQLite file in
        ``PROMPTPAINT_HOME``.
    :param store: where images are written. Default: ``images/`` in ``PROMPTPAINT_HOME``.
    :param budget_id: a name for the budget, so several Clients share one cap (a Studio gives
        each Client it makes the same id). Default: a new id for this Client.
    :param ceiling: the most one call may cost, in USD, for a setting whose worst case is not
        known (``quality="xhigh"``, a model without a price): under a budget such calls are
        refused unless this is given, and this is what they reserve. Default: None.

    Errors are :class:`PromptpaintError` subclasses whose message says what to do next.
    """

    def __init__(self, provider: str | None = None, *, model: str | None = None,
                 api_key: str | None = None, base_url: str | None = None,
                 budget: float | Decimal | None = None, price: dict | None = None,
                 cache: bool = False, timeout: float = 600.0, max_retries: int = 2,
                 retry_on_timeout: bool = False, backoff: float = 0.5,
                 ledger: Ledger | None = None, store: ImageStore | None = None,
                 budget_id: str | None = None, ceiling: float | Decimal | None = None):
        if api_key:
            # From here on the key prints as '[key]', even in a traceback that shows locals.
            redact.register(api_key)
            api_key = redact.Secret(api_key)
        if base_url:
            base_url = redact.SecretURL(base_url)
        provider = (provider or self._pick_provider(api_key)).lower()
        if provider not in providers.NAMES:
            names = ", ".join(repr(n) for n in providers.NAMES)
            raise InvalidRequest(f"Unknown provider {provider!r}: use one of {names}.", param="provider")
        self.provider_name = provider
        self.model = registry.get(model or registry.default_model(provider), provider)
        registry.check_lifecycle(self.model)
        self.price: Price | None = Price.custom(price) if price else None
        self.budget = config.dollars(budget, "budget=") if budget is not None else None
        config.daily_budget()  # a bad PROMPTPAINT_DAILY_BUDGET is an error now, not mid-call
        # Clients given the same budget_id share one cap (a Studio passes one to each it makes).
        self._budget_id = budget_id or (f"client-{uuid.uuid4().hex[:12]}" if self.budget is not None else None)
        # What to reserve for a call no table can bound (xhigh, an unknown model): the user's word.
        self.ceiling = config.dollars(ceiling, "ceiling=") if ceiling is not None else None
        self.cache = cache
        self.ledger = ledger or default_ledger()
        self.store = store or ImageStore(config.home() / "images")
        self._provider = self._make_provider(provider, api_key, base_url, timeout,
                                             RetryPolicy(max_retries, backoff, 8.0, retry_on_timeout))
        if not self.model.known and self.price is None:
            warnings.warn(f"{self.model.id} is not in promptpaint's registry: its cost will be booked "
                          "as unknown. Pass price={'input_text': …, 'output_image': …} (USD per 1M "
                          "tokens) to count it.", UnknownPriceWarning, stacklevel=2)

    # -- setup ---------------------------------------------------------------------------------
    @staticmethod
    def _pick_provider(api_key) -> str:
        global _offline_notice_shown
        chosen = os.environ.get("PROMPTPAINT_PROVIDER", "").strip().lower()
        if chosen:
            return chosen
        for cls in providers.all_providers():  # the registry's order is the order keys are looked for
            if cls.key_env and config.api_key(cls.name):
                return cls.name
        if api_key:
            raise InvalidRequest("With api_key=, also name the provider: pp.Client('openai', api_key=…).",
                                 param="provider")
        if not _offline_notice_shown:
            _offline_notice_shown = True
            looked = [v for p in providers.all_providers() for v in p.key_env]
            warnings.warn(f"No API key found ({', '.join(looked[:-1])} or {looked[-1]}): using the offline stand-in "
                          "(free, no network; its pictures are placeholders). Set a key to use a "
                          "real model.", OfflineNotice, stacklevel=3)
        return next(p.name for p in providers.all_providers() if p.offline)

    def _make_provider(self, name, api_key, base_url, timeout, retry) -> Provider:
        cls = providers.provider_class(name)
        if cls.offline:
            self._account = (name, None, None)
            return cls.connect()
        key, key_from = (api_key, "api_key=") if api_key else config.find_key(name)
        if not key:
            raise AuthError(f"No {name} API key: set {key_from}, or pass api_key=.",
                            hint="Without a key, pp.Client('offline') runs the whole workflow at $0.",
                            provider=name)
        redact.register(key)  # before any check, so even the error about a bad key cannot show it
        key = redact.Secret(key)
        problem = config.key_problem(key)
        if problem:
            raise AuthError(f"The {name} API key from {key_from} {problem}.", provider=name,
                            hint=f"Copy the key again, as plain text without quotes or spaces, into {key_from}.")
        url_from = "base_url=" if base_url else config.BASE_URL_ENV[name]
        redact.register_url(base_url or config.base_url(name))
        base = redact.SecretURL(config.check_base_url(name, base_url or config.base_url(name), url_from))
        # The cache must never answer one account or gateway with another's image.
        self._account = (name, _without_userinfo(base), hashlib.sha256(str(key).encode()).hexdigest())
        return cls.connect(key, base, retry, timeout)

    def __repr__(self) -> str:
        budget = f", budget=${self.budget}" if self.budget is not None else ""
        return f"Client({self.provider_name!r}, model={self.model.id!r}{budget})"

    @property
    def offline(self) -> bool:
        return self._provider.offline

    # -- public calls --------------------------------------------------------------------------
    def generate(self, prompt: str, *, on_partial=None, partial_images: int | None = None,
                 **params) -> Result:
        """Make images from text. ``params`` are the model's own (``promptpaint models`` lists them).

        ``on_partial=fn`` streams the call: ``fn(image, index)`` gets each preview as a PIL image
        while the model works (``partial_images``, default 2, up to the model's limit; OpenAI
        bills 100 output image tokens for each). A stream that breaks gives no result, never a
        preview, and is booked as possibly billed.
        """
        return self._run("generate", prompt, [], None, params, on_partial=on_partial,
                         partial_images=partial_images)

    def edit(self, prompt: str, image=None, *, mask=None, images=None, preserve_unmasked: bool | None = None,
             feather: int = 4, markup=None, on_partial=None, partial_images: int | None = None,
             **params) -> Result:
        """Change ``image`` as ``prompt`` says; with ``mask``, only where the mask is painted.

        ``mask`` is a PIL image, array or PNG bytes, non-zero where to change. With a mask,
        ``preserve_unmasked`` (default True) pastes the original pixels back outside it.
        ``images`` adds reference images after the first.

        ``markup`` is a transparent image of strokes that show *what* to draw (an arrow, a sketched
        hat): models that take it (``client.takes_markup``) get it as their markup layer; for the
        others the strokes are drawn onto the image, with an instruction not to copy them. It
        cannot be combined with ``mask``. ``on_partial``/``partial_images`` as in ``generate``.
        """
        inputs = ([image] if image is not None else []) + list(images or [])
        if not inputs:
            raise InvalidRequest("edit() needs an image: client.edit(prompt, image=…).", param="image")
        return self._run("edit", prompt, inputs, mask, params, preserve_unmasked=preserve_unmasked,
                         feather=feather, markup=markup, on_partial=on_partial,
                         partial_images=partial_images)

    @property
    def takes_markup(self) -> bool:
        """True when this model takes markup as a layer of its own; otherwise it is drawn onto the image."""
        return self.model.takes_markup

    def chat(self) -> "Chat":
        """A multi-turn editing conversation: ``chat.send("now make it night")``."""
        return Chat(self)

    def batch(self, prompts, *, images=None, name: str | None = None, **params):
        """Send ``prompts`` as one job to the provider's Batch API (about half price, done within 24 h).

        Returns a ``BatchJob``: ``job.wait()``, then ``job.results()`` (one Result or error per
        prompt, in order). ``images=`` (one image, or a list, per prompt) makes each line an
        edit. The job's worst case is reserved against every cap before anything is uploaded;
        ``pp.batches()`` finds the job again from any later session.
        """
        from .batch import submit

        return submit(self, prompts, images=images, name=name, params=params)

    def estimate(self, prompt: str = "", *, images: int = 0, kind: str = "generate",
                 **params) -> Decimal | None:
        """The most a call can cost, before making it (None when its price or bound is unknown)."""
        checked = registry.validate_params(self.model, params, kind=kind)
        return pricing.estimate(self.model, self._price_today(), prompt, checked, images)

    # -- the one path every call takes ---------------------------------------------------------
    def _price_today(self) -> Price | None:
        return self.price or self.model.price_on(utc_now().date())

    def _prepare(self, kind, prompt, inputs, mask, params, history, preserve_unmasked, markup_layer=None,
                 previews=0):
        """Check everything and encode the inputs: every error here comes before any spending."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidRequest("The prompt is empty: say what to draw or change.", param="prompt")
        registry.check_lifecycle(self.model, warn=False)  # warned once, when the Client was made
        checked = registry.validate_params(self.model, params, kind="generate" if kind == "generate" else "edit")
        if len(inputs) > self.model.max_input_images:
            raise InvalidRequest(f"{self.model.id} takes at most {self.model.max_input_images} input images.",
                                 param="images")
        encoded = [_input_bytes(v, self._provider) for v in inputs]
        source = mask_l = None
        if mask is not None:
            if not encoded or isinstance(encoded[0], FileRef):
                raise InvalidRequest("A mask needs the image itself as the first input.", param="mask")
            source = masks.to_image(encoded[0])
            mask_l = masks.normalise(mask, source.size)
            if masks.is_empty(mask_l):
                raise InvalidRequest("The mask is empty: paint the area to change, or edit without a mask.",
                                     param="mask")
        preserve = mask_l is not None and preserve_unmasked is not False
        strokes = None
        if markup_layer is not None:
            if mask is not None:
                raise InvalidRequest("Use either a mask (where to change) or markup (what to draw), "
                                     "not both in one edit.", param="markup")
            if not encoded or isinstance(encoded[0], FileRef):
                raise InvalidRequest("Markup needs the image itself as the first input.", param="markup")
            strokes = markup.layer(markup_layer, masks.to_image(encoded[0]).size)
            if not self.model.takes_markup:
                # No markup input: draw the strokes onto the picture and say what they mean.
                encoded[0] = markup.composite(encoded[0], strokes)
                prompt, strokes = markup.with_instruction(prompt), None
        call = Call(kind=kind, prompt=prompt, params=checked, images=encoded, mask=mask_l,
                    history=history or [], markup=strokes, previews=previews)
        return call, source, preserve

    def _previews(self, on_partial, partial_images) -> int:
        """How many previews to stream: none without a callback to show them."""
        if partial_images is None:
            return min(2, self.model.previews) if on_partial is not None else 0
        if on_partial is None and partial_images:
            raise InvalidRequest("partial_images needs on_partial=fn to receive the previews "
                                 "(fn(image, index) gets each one).", param="partial_images")
        if isinstance(partial_images, bool) or not isinstance(partial_images, int) or partial_images < 0:
            raise InvalidRequest(f"partial_images must be a whole number from 0 to "
                                 f"{max(self.model.previews, 0)}.", param="partial_images")
        if partial_images > self.model.previews:
            limit = (f"at most {self.model.previews}" if self.model.previews else "none: it does not stream")
            raise InvalidRequest(f"{self.model.id} sends {limit} previews; partial_images={partial_images} "
                                 "is too many.", param="partial_images")
        return partial_images

    def _caps(self) -> list[Cap]:
        caps = [Cap(self._budget_id, self.budget)] if self.budget is not None else []
        daily = config.daily_budget()
        if daily is not None:
            caps.append(Cap("day", daily))
        return caps

    def _reservation(self, call: Call, price: Price | None, caps: list[Cap]) -> Decimal | None:
        """The most this call can cost. Under a cap, a call nothing bounds is refused (or
        reserves the user's ``ceiling=``): a budget is only as good as its reservations."""
        if self._provider.offline:
            return Decimal(0)
        parts = [p for t in call.history for p in t.get("parts", [])]
        n_in = (len(call.images) + (1 if call.mask is not None else 0) + (1 if call.markup is not None else 0)
                + sum(1 for p in parts if "inlineData" in p or "fileData" in p))
        extra_text = "".join(str(p.get("text", "")) for p in parts)
        if call.mask is not None:
            extra_text += masks.GEMINI_MASK_INSTRUCTION
        why = None if price is not None else f"the price of {self.model.id} is unknown"
        if why is None:
            try:
                usage = pricing.worst_usage(
                    self.model, call.prompt, call.params, n_in, history_text=extra_text,
                    first_image_size=_image_size(call.images[0]) if call.images else None)
                if call.previews and self._provider.preview_tokens:
                    # Previews are billed on top of the image (OpenAI: 100 output image tokens each).
                    extra = self._provider.preview_tokens * call.previews * int(call.params.get("n") or 1)
                    usage = dataclasses.replace(usage, output_image_tokens=usage.output_image_tokens + extra)
                return pricing.most(usage, price)
            except pricing.Unbounded as exc:
                why = str(exc)
        if self.ceiling is not None:
            return self.ceiling
        if caps:
            more = ", or price={…} (USD per 1M tokens)" if price is None else ""
            raise BudgetExceeded(
                f"{why[0].upper()}{why[1:]}, so this call's cost has no known upper bound and the "
                f"budget cannot be kept. Pass ceiling=… (the most one call may cost, in USD){more} "
                "to the Client, or choose a setting with a known price.")
        if price is None:
            warnings.warn(f"No price on file for {self.model.id}: this call's cost is booked as unknown.",
                          UnknownPriceWarning, stacklevel=4)
        return None

    def _run(self, kind, prompt, inputs, mask, params, *, history=None, preserve_unmasked=None,
             feather=4, cancel: threading.Event | None = None, book_kind=None, markup=None,
             on_partial=None, partial_images=None, on_answer=None) -> Result:
        previews = self._previews(on_partial, partial_images)
        call, source, preserve = self._prepare(kind, prompt, inputs, mask, params, history,
                                               preserve_unmasked, markup, previews)
        price = self._price_today()
        caps = self._caps()
        reserve = self._reservation(call, price, caps)
        cache_key = None
        if self.cache and not history:
            inputs_key = [sha256(e) if isinstance(e, bytes) else e.uri for e in call.images]
            cache_key = _key_of(*self._account, self.model.id, kind, call.prompt, call.params, inputs_key,
                                sha256(encode_png(call.mask)) if call.mask is not None else None,
                                sha256(encode_png(call.markup)) if call.markup is not None else None,
                                preserve, feather)
        attempt = Attempt(provider=self.provider_name, model=self.model.id, kind=book_kind or kind,
                          prompt=prompt, params=call.params,
                          price_version=price.version if price else None,
                          budget=self._budget_id, cache_key=cache_key)
        on_preview = None
        if on_partial is not None and previews:
            def on_preview(data: bytes, index: int) -> None:
                if cancel is None or not cancel.is_set():  # a cancelled call lands, unshown
                    on_partial(_open_bytes(data), index)
        run = lambda: self._call(call, attempt, price, caps, reserve, source, preserve, feather,  # noqa: E731
                                 cancel, on_preview, on_answer)
        if cache_key is None:
            return run()
        while True:
            hit = self._from_cache(cache_key, attempt)
            if hit is not None:
                return hit
            running = _in_flight.enter(cache_key)
            if running is None:
                break
            running.wait()  # the same call is being made: its answer lands in the cache
        try:
            hit = self._from_cache(cache_key, attempt)
            return hit if hit is not None else run()
        finally:
            _in_flight.leave(cache_key)

    def _call(self, call, attempt, price, caps, reserve, source, preserve, feather, cancel,
              on_preview=None, on_answer=None) -> Result:
        row = self.ledger.reserve(attempt, reserve, caps)
        started = time.monotonic()
        try:
            answer = self._provider.send(self.model, call, cancel=cancel, on_preview=on_preview)
        except Refused as exc:
            exc.cost, exc.usage = Decimal(0), pricing.Usage()
            self.ledger.settle(row, status="refused", cost=Decimal(0), request_id=exc.request_id,
                               duration=time.monotonic() - started, error=exc.message)
            raise
        except BaseException as exc:
            known = isinstance(exc, PromptpaintError)
            what = f"{type(exc).__name__}: {exc.message}" if known else scrub(f"{type(exc).__name__}: {exc}")
            # Released to $0 only when nothing reached the provider; otherwise the cost is unknown
            # and the reservation keeps counting against every cap (contract: maybe_billed).
            if known and not getattr(exc, "maybe_billed", False):
                self.ledger.release(row, error=what, duration=time.monotonic() - started)
            else:
                if known:
                    exc.cost = None
                self.ledger.settle(row, status="error", cost=None, duration=time.monotonic() - started,
                                   request_id=getattr(exc, "request_id", None),
                                   error=f"may have been billed: {what}")
            raise
        result = self._book(row, answer, call, price, attempt, source, call.mask, preserve, feather,
                            time.monotonic() - started, reserve)
        if on_answer is not None:
            on_answer(answer)
        return result

    def _settle_answered(self, row, **kw) -> None:
        """Book an answered call. If the ledger fails now, its reservation stays and keeps
        counting (the safe side), and the images, already on disk, are still returned."""
        try:
            self.ledger.settle(row, **kw)
        except LedgerError as exc:
            warnings.warn(f"{exc} This call stays booked at its reservation.", LedgerWarning, stacklevel=5)

    def _book(self, row, answer: Answer, call: Call, price, attempt, source, mask_l, preserve,
              feather, duration, reserve=None) -> Result:
        cost = pricing.cost(answer.usage, price)
        cost = Dollars(cost) if cost is not None else None
        if self._provider.offline:
            cost = Decimal(0)
        elif answer.usage_problem:
            cost = None  # an answer whose usage we cannot read must not read as a free call
            held = f" its reservation of {dollars(reserve)} keeps counting against budgets" if reserve else ""
            warnings.warn(f"{self.provider_name}: {answer.usage_problem}. This call's cost is booked as "
                          f"unknown;{held or ' no budget applied to it'}.", UnknownPriceWarning, stacklevel=4)
        ids, paths = [], []
        try:
            for data in answer.images:
                # The provider's own bytes go to disk first, whatever happens next.
                digest, path = self.store.put(data)
                if mask_l is not None and preserve:
                    edited = Image.open(path)
                    digest, path = self.store.put_image(masks.composite(source, edited, mask_l, feather))
                ids.append(digest)
                paths.append(path)
        except BaseException as exc:
            self._settle_answered(row, status="error", cost=cost, usage=answer.usage.as_dict(),
                                  request_id=answer.request_id, images=ids, duration=duration,
                                  error=f"answer received but not stored: {type(exc).__name__}: {exc}")
            raise
        status = "refused" if answer.refusal else "ok"
        self._settle_answered(row, status=status, cost=cost, usage=answer.usage.as_dict(),
                              request_id=answer.request_id, images=ids, duration=duration,
                              error=answer.refusal or answer.usage_problem)
        if answer.refusal:
            said = f" The model said: {answer.text!r}" if answer.text else ""
            exc = Refused(f"{self.provider_name} returned no image (reason: {answer.refusal}).{said}",
                          reason=answer.refusal, text=answer.text, provider=self.provider_name,
                          request_id=answer.request_id)
            exc.cost, exc.usage = cost, answer.usage
            raise exc
        result = Result(prompt=attempt.prompt, provider=self.provider_name, model=self.model.id,
                        kind=attempt.kind, params=call.params, ids=ids, paths=paths, text=answer.text,
                        usage=answer.usage, cost=cost, request_id=answer.request_id,
                        finish_reason=answer.finish_reason, revised_prompt=answer.revised_prompt,
                        duration=duration, ledger_id=row, offline=self._provider.offline,
                        reserved=reserve if cost is None else None)
        if attempt.cache_key:
            self.ledger.cache_put(attempt.cache_key, {"ids": ids, "text": answer.text,
                                                      "usage": answer.usage.as_dict()})
        return result

    def _from_cache(self, key: str, attempt: Attempt) -> Result | None:
        hit = self.ledger.cache_get(key)
        if not hit:
            return None
        paths = [self.store.find(i) for i in hit["ids"]]
        if any(p is None for p in paths):
            return None
        row = self.ledger.reserve(attempt, Decimal(0), [])
        self.ledger.settle(row, status="cached", cost=Decimal(0), usage=hit["usage"], images=hit["ids"],
                           duration=0.0)
        return Result(prompt=attempt.prompt, provider=attempt.provider, model=attempt.model,
                      kind=attempt.kind, params=attempt.params, ids=hit["ids"], paths=paths,
                      text=hit["text"], usage=pricing.Usage(**hit["usage"]), cost=Decimal(0),
                      cached=True, ledger_id=row, offline=self._provider.offline)

    def wire(self, kind: str, prompt: str, params: dict, n_images: int = 0, mask: bool = False,
             history: list | None = None):
        """The request a call would send, with the key as an environment variable (for "show code")."""
        checked = registry.validate_params(self.model, params, kind="generate" if kind == "generate" else "edit")
        dummy = encode_png(Image.new("RGB", (1, 1)))
        call = Call(kind=kind, prompt=prompt, params=checked, images=[dummy] * n_images,
                    mask=Image.new("L", (1, 1), 255) if mask else None, history=history or [])
        return self._provider.wire(self.model, call)


def _compact(content: dict | None, store: ImageStore) -> dict | None:
    """A provider-shaped turn with each inline image swapped for its id in the store.

    A long conversation then holds ids, not megabytes of base64; ``_inflate`` puts the same
    bytes back for the replay, so the model sees exactly what it sent (signatures included).
    """
    if not content:
        return content
    parts = []
    for part in content.get("parts", []):
        inline = part.get("inlineData")
        if inline and part.get("thought") and not part.get("thoughtSignature"):
            # An interim draft (a streamed preview): not the model's answer, carries no signature
            # to return, and would be replayed as input tokens. Previews are never stored.
            continue
        if inline and "data" in inline:
            digest, _ = store.put(base64.b64decode(inline["data"]))
            part = {**part, "inlineData": {"mimeType": inline.get("mimeType"), "storeId": digest}}
        parts.append(part)
    return {**content, "parts": parts}


def _inflate(content: dict, store: ImageStore) -> dict:
    parts = []
    for part in content.get("parts", []):
        inline = part.get("inlineData")
        if inline and "storeId" in inline:
            data = base64.b64encode(store.read(inline["storeId"])).decode("ascii")
            part = {**part, "inlineData": {"mimeType": inline["mimeType"], "data": data}}
        parts.append(part)
    return {**content, "parts": parts}


@dataclass
class Turn:
    prompt: str
    result: Result
    user: dict | None = None     # provider-shaped turns (Gemini contents) for replay
    model: dict | None = None


class Chat:
    """Multi-turn editing. Each ``send`` edits the latest image; ``branch(i)`` goes back to turn i.

    Gemini replays the whole conversation, the model's own image parts and thought signatures
    included. OpenAI and the offline stand-in have no conversation: each turn edits the last image.
    """

    def __init__(self, client: Client, turns: list[Turn] | None = None):
        self.client = client
        self.turns: list[Turn] = list(turns or [])

    @property
    def image(self) -> Image.Image | None:
        return self.turns[-1].result.image if self.turns else None

    def send(self, prompt: str, *, image=None, mask=None, preserve_unmasked: bool | None = None,
             feather: int = 4, cancel: threading.Event | None = None, markup=None, on_partial=None,
             partial_images: int | None = None, **params) -> Result:
        """Edit the latest image (or make the first) as ``prompt`` says; ``mask``, ``markup``,
        ``on_partial`` and ``partial_images`` as in ``Client.edit``."""
        c = self.client
        last = self.turns[-1].result.paths[0] if self.turns else None
        source = image if image is not None else last
        if c._provider.replays_conversation:
            history = [_inflate(part, c.store) for t in self.turns for part in (t.user, t.model) if part]
            # The conversation already holds the latest image; send it again only to mask it.
            inputs = [source] if (image is not None or (mask is not None and source is not None)) else []
            kind = "chat"
        else:
            history = None
            inputs = [source] if source is not None else []
            kind = "edit" if inputs else "generate"
        if mask is not None and source is None:
            raise InvalidRequest("There is no image to mask yet: send a first prompt.", param="mask")
        if markup is not None and source is None:
            raise InvalidRequest("There is no image to draw on yet: send a first prompt.", param="markup")
        if kind == "chat" and (mask is not None or markup is not None) and not inputs:
            inputs = [source]
        book_kind = "chat" if self.turns else ("edit" if inputs else "generate")
        answered = []  # the provider-shaped turns travel on the Answer, for the replay
        result = c._run(kind, prompt, inputs, mask, params, history=history,
                        preserve_unmasked=preserve_unmasked, feather=feather, cancel=cancel,
                        book_kind=book_kind, markup=markup, on_partial=on_partial,
                        partial_images=partial_images, on_answer=answered.append)
        user, model = (answered[0].user_turn, answered[0].turn) if answered else (None, None)
        self.turns.append(Turn(prompt, result, _compact(user, c.store), _compact(model, c.store)))
        return result

    def branch(self, turn: int) -> "Chat":
        """A new conversation that continues from turn ``turn`` (0-based; negative counts from the end)."""
        if not self.turns:
            raise InvalidRequest("Nothing to branch from yet.")
        idx = range(len(self.turns))[turn]
        return Chat(self.client, self.turns[: idx + 1])

    def __len__(self) -> int:
        return len(self.turns)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The turns as a strip of thumbnails, each with its prompt and cost."""
        from .display import chat_bundle

        return chat_bundle(self)
