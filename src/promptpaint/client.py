"""``pp.Client``: generate, edit and chat with one provider, every call priced and booked.

The call itself goes through ``plan.CallPlan`` (prepare → reserve → send → store → book); this
module holds the Client's setup (provider, key, base URL, model, budget) and its public calls.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
import uuid
import warnings
from decimal import Decimal

from PIL import Image

from . import config, providers, redact, registry
from .chat import Chat, Exchange, Turn
from .errors import AuthError, BudgetExceeded, InvalidRequest
from .ledger import Cap, Ledger, ledger as default_ledger
from .clock import utc_now
from .plan import Budget, CallPlan, LedgerWarning, Quote, Request, quote
from .providers import Call, Provider
from .registry import Price, UnknownPriceWarning
from .result import Result
from .store import ImageStore, encode_png
from .transport import RetryPolicy


from .errors import OfflineNotice  # noqa: E402,F401  (defined in errors.py; old import path)


_offline_notice_shown = False


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


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
    :param bill_like: with the offline stand-in, book each call at this model's prices (its
        worst case for the same settings), marked as practice in the ledger, so a teacher can try
        caps before a cent is spent. Default: ``PROMPTPAINT_BILL_LIKE``, else $0.
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
                 budget_id: str | None = None, ceiling: float | Decimal | None = None,
                 bill_like: str | None = None):
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
        self.budget_id = budget_id or (f"client-{uuid.uuid4().hex[:12]}" if self.budget is not None else None)
        # What to reserve for a call no table can bound (xhigh, an unknown model): the user's word.
        self.ceiling = config.dollars(ceiling, "ceiling=") if ceiling is not None else None
        self.cache = cache
        self.bill_like = self._practice(provider, bill_like)
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
    def _practice(provider: str, bill_like: str | None):
        """The model whose prices the offline stand-in books at (``bill_like=``, else
        ``PROMPTPAINT_BILL_LIKE``), for rehearsing caps before a cent is spent; None: $0."""
        like = bill_like or os.environ.get("PROMPTPAINT_BILL_LIKE", "").strip() or None
        if like is None:
            return None
        if not providers.provider_class(provider).offline:
            if bill_like:
                raise InvalidRequest("bill_like= is for the offline stand-in: pp.Client('offline', "
                                     f"bill_like={bill_like!r}).", param="bill_like")
            return None
        model = registry.get(like, None) if like in {m.id for m in registry.all_models()} else None
        if model is None or model.price_on(utc_now().date()) is None:
            raise InvalidRequest(f"bill_like={like!r}: name a model promptpaint has a price for today "
                                 "(`promptpaint models` lists them).", param="bill_like")
        return model

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
            example = next(p.name for p in providers.all_providers() if p.key_env)
            raise InvalidRequest(f"With api_key=, also name the provider: pp.Client({example!r}, api_key=…).",
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
            self.account = (name, None, None)
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
        self.account = (name, _without_userinfo(base), hashlib.sha256(str(key).encode()).hexdigest())
        return cls.connect(key, base, retry, timeout)

    def __repr__(self) -> str:
        budget = f", budget=${self.budget}" if self.budget is not None else ""
        return f"Client({self.provider_name!r}, model={self.model.id!r}{budget})"

    @property
    def offline(self) -> bool:
        return self._provider.offline

    @property
    def connection(self) -> Provider:
        """The provider connection this Client sends through (its wire format, key and base URL)."""
        return self._provider

    @property
    def _budget_id(self) -> str | None:  # the old name, for one release
        return self.budget_id

    # -- public calls --------------------------------------------------------------------------
    def generate(self, prompt: str, *, images=None, on_partial=None, partial_images: int | None = None,
                 **params) -> Result:
        """Make images from text. ``params`` are the model's own (``promptpaint models`` lists them).

        ``images=[…]`` adds reference images (a subject, a style…: paths, bytes, PIL images or
        arrays), up to the model's limit (``client.model.max_input_images``: Gemini 14, OpenAI
        16); each is counted in the reservation at its worst-case input tokens. OpenAI takes
        references only on its edits endpoint, so such a call goes there (booked as a generate).

        ``on_partial=fn`` streams the call: ``fn(image, index)`` gets each preview as a PIL image
        while the model works (``partial_images``, default 2, up to the model's limit; OpenAI
        bills 100 output image tokens for each). A stream that breaks gives no result, never a
        preview, and is booked as possibly billed.
        """
        return self.plan(Request("generate", prompt, list(images or []), None, params, on_partial=on_partial,
                                 partial_images=partial_images)).run()

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
        return self.plan(Request("edit", prompt, inputs, mask, params, preserve_unmasked=preserve_unmasked,
                                 feather=feather, markup=markup, on_partial=on_partial,
                                 partial_images=partial_images)).run()

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

    def estimate(self, prompt: str = "", *, images=0, kind: str = "generate", image=None, mask=None,
                 markup=None, partial_images: int | None = None, **params) -> Decimal | None:
        """The most a call can cost, before making it: exactly what it would reserve (None when
        its price or bound is unknown and nothing caps it). ``images`` is the input images, or
        how many (their size unknown: an edit at ``size="auto"`` is then quoted at the largest
        standard size); ``image``, ``mask``, ``markup`` and ``partial_images`` as in ``edit``.
        ``quote`` also says whether a cap would refuse the call now."""
        return self.quote(prompt, images=images, kind=kind, image=image, mask=mask, markup=markup,
                          partial_images=partial_images, check_caps=False, **params).most

    def quote(self, prompt: str = "", *, images=0, kind: str = "generate", image=None, mask=None,
              markup=None, partial_images: int | None = None, check_caps: bool = True, **params) -> Quote:
        """What this call would reserve now (``most``), what the caps still allow (``left``) and
        why a cap would refuse it (``refusal``), booking nothing: the figure every estimate shows."""
        listed = [Image.new("RGB", (1, 1))] * images if isinstance(images, int) else list(images or [])
        inputs = ([image] if image is not None else []) + listed
        if inputs and kind == "generate":
            kind = "edit"
        on_partial = (lambda im, i: None) if partial_images else None
        request = Request(kind, prompt, inputs, mask, params, markup=markup, on_partial=on_partial,
                          partial_images=partial_images)
        if not check_caps:
            if not str(prompt or "").strip():
                request.prompt = "."  # as plan.quote does: no call carries less
            try:
                return Quote(CallPlan(self, request).worst)
            except BudgetExceeded:
                return Quote(None)
        return quote(self, request)

    # -- the pipeline's seam -------------------------------------------------------------------
    def plan(self, request: Request, **how) -> CallPlan:
        """The call ``request`` describes, checked, encoded and bounded, nothing spent yet:
        ``plan.worst``, then ``plan.run()`` (or ``reserve``/``send``/``store``/``book`` one by
        one). ``budget=Budget(id, limit)`` books against another cap than this Client's;
        ``price=`` prices at another rate (a batch's, None for unknown). See ``promptpaint.plan``."""
        return CallPlan(self, request, **how)

    def price_today(self) -> Price | None:
        """The price this Client books at today (``price=`` if given, else the model's)."""
        return self.price or self.model.price_on(utc_now().date())

    def caps(self, budget: Budget | None = None) -> list[Cap]:
        """The caps a call is reserved against: this Client's budget (or ``budget``) and the day's."""
        budget = budget or Budget(self.budget_id, self.budget)
        caps = [Cap(budget.id, budget.limit)] if budget.limit is not None else []
        daily = config.daily_budget()
        if daily is not None:
            caps.append(Cap("day", daily))
        return caps

    def _price_today(self) -> Price | None:  # the old name, for one release
        return self.price_today()

    def wire(self, kind: str, prompt: str, params: dict, n_images: int = 0, mask: bool = False,
             history: list | None = None):
        """The request a call would send, with the key as an environment variable (for "show code")."""
        checked = registry.validate_params(self.model, params, kind="generate" if kind == "generate" else "edit")
        checked = self._provider.bound_params(self.model, checked)  # the limit a real call carries
        dummy = encode_png(Image.new("RGB", (1, 1)))
        call = Call(kind=kind, prompt=prompt, params=checked, images=[dummy] * n_images,
                    mask=Image.new("L", (1, 1), 255) if mask else None, history=history or [])
        return self._provider.wire(self.model, call)


__all__ = ["Client", "Chat", "Exchange", "Turn", "Result", "OfflineNotice", "LedgerWarning", "Request",
           "Budget", "CallPlan"]
