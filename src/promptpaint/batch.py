"""Batch jobs: many prompts through a provider's Batch API at about half price, collected later —
after a kernel restart, or tomorrow.

Money, in order: the job's worst case (batch prices) is reserved against every cap before
anything is uploaded, and held until the job is collected; each returned line is booked on its
own ledger row at its batch cost from its own usage (failed lines as the provider bills them:
$0); then the job's reservation is released, so lines that never ran (cancelled, expired)
cost nothing. Collecting twice books nothing twice.

The job and its lines are recorded in the ledger itself (tables ``batch_jobs`` and ``batch_lines``,
migration 5, on SQLite or PostgreSQL), which is how ``pp.batches()`` finds them from a new process.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
import warnings
from decimal import Decimal

from . import config, errors, pricing
from .errors import AuthError, BudgetExceeded, Cancelled, InvalidRequest, PromptpaintError, Refused, Timeout
from .ledger import Attempt, Ledger, ledger as default_ledger
from .clock import utc_now
from .plan import Request
from .progress import bar as progress_bar
from .providers import batchwire
from .registry import Price, UnknownPriceWarning
from .result import Result
from .store import ImageStore
from .ledger.batches import HELD_BY_JOB, JOB_COLUMNS, LINE_COLUMNS, STALE_CLAIM, Records  # noqa: F401  (old paths)

from .batch_record import _price_row, _public_url, _unrecorded, batch_price  # noqa: F401  (batch_price: public here)

KEY = "pp-{}"

def _wire(provider: str, api_key: str, base_url: str):
    from .providers import provider_class

    return provider_class(provider).batch_api(api_key, base_url)


def submit(client, prompts, *, images=None, name: str | None = None, params: dict) -> "BatchJob":
    """``Client.batch``: reserve the worst case, then upload and start one job."""
    if isinstance(prompts, str):
        prompts = [prompts]
    prompts = list(prompts)
    if not prompts:
        raise InvalidRequest("A batch needs at least one prompt.", param="prompts")
    if client.offline:
        raise InvalidRequest("The offline stand-in has no Batch API: use pp.Sweep or generate().",
                             param="provider")
    kind = "generate"
    per_line: list[list] = [[] for _ in prompts]
    if images is not None:
        kind = "edit"
        images = list(images)
        if len(images) != len(prompts):
            raise InvalidRequest(f"images= needs one entry per prompt: {len(prompts)} prompts, "
                                 f"{len(images)} images.", param="images")
        per_line = [[] if i is None else list(i) if isinstance(i, (list, tuple)) else [i] for i in images]
    provider = client.connection
    wire = provider.batches()  # InvalidRequest for a provider without a Batch API
    price = client.price or batch_price(client.model, utc_now().date())
    # Each line checked and bounded at batch prices; under a cap, a line nothing bounds refuses the job here.
    plans = [client.plan(Request(kind, p, inputs, params=params), price=price) for p, inputs in zip(prompts, per_line)]
    calls = [p.call for p in plans]
    for i, call in enumerate(calls):
        wire.line(client.model, KEY.format(i), call)  # refuses what this Batch API cannot take, before spending
    worst = [p.worst for p in plans]
    total = None if any(w is None for w in worst) else sum(worst, Decimal(0))
    checked = calls[0].params
    caps = plans[0].caps
    records = Records(client.ledger)
    attempt = Attempt(provider=client.provider_name, model=client.model.id, kind="batch",
                      prompt=f"batch of {len(prompts)}: {prompts[0][:80]}", params=checked,
                      price_version=price.version if price else None, budget=client.budget_id)
    row = client.ledger.reserve(attempt, total, caps)  # BudgetExceeded here: nothing uploaded
    name = name or f"promptpaint-{uuid.uuid4().hex[:10]}"
    try:
        remote = wire.submit(client.model, [(KEY.format(i), c) for i, c in enumerate(calls)], name)
    except BaseException as exc:
        msg = exc.message if isinstance(exc, PromptpaintError) else str(exc)
        if isinstance(exc, PromptpaintError) and not getattr(exc, "maybe_billed", False):
            client.ledger.release(row, error=f"batch not started: {type(exc).__name__}: {msg}")
        else:  # the job may exist at the provider and run: its worst case keeps counting
            client.ledger.settle(row, status="error", cost=None,
                                 error=f"batch {name!r} may have started, answer lost: {type(exc).__name__}: {msg}")
            if isinstance(exc, PromptpaintError):  # the name it bears at the provider, to find it there
                exc.hint = (exc.hint + " " if exc.hint else "") + (
                    f"If the job was created, it is named {name!r} at {client.provider_name}: "
                    "cancel it there, or it runs and is billed.")
        raise
    record = {"id": remote.id, "provider": client.provider_name, "model": client.model.id,
                 "base_url": _public_url(provider.base_url), "name": name, "created": utc_now().isoformat(),
                 "state": remote.state, "kind": kind, "params": json.dumps(checked, sort_keys=True, default=str),
                 "prompts": json.dumps(prompts), "inputs": json.dumps([len(c.images) for c in calls]),
                 "price": _price_row(price), "worst": json.dumps([None if w is None else str(w) for w in worst]),
                 "price_version": price.version if price else None,
                 "budget": client.budget_id, "user": attempt.user, "reserve_row": row, "collected": 0}
    try:
        records.add(record)
    except BaseException as exc:
        raise _unrecorded(client, wire, remote, row, exc) from None
    job = BatchJob(record, client.ledger, client.store, wire=wire, records=records)
    job.remote = remote
    return job


class BatchJob:
    """One provider batch job. ``status()``, ``wait()``, ``results()``, ``cancel()``.

    ``results()`` has one entry per prompt, in order: a ``Result``, or the promptpaint error for
    that line (a ``Cancelled`` for a line the job never ran).
    """

    def __init__(self, record: dict, ledger: Ledger, store: ImageStore, *, wire=None, api_key: str | None = None,
                 records: Records | None = None):
        self._record = record
        self.id: str = record["id"]
        self.provider: str = record["provider"]
        self.model: str = record["model"]
        self.name: str | None = record["name"]
        self.created = dt.datetime.fromisoformat(record["created"])
        self.prompts: list[str] = json.loads(record["prompts"])
        self.params: dict = json.loads(record["params"])
        self.ledger, self.store = ledger, store
        self.remote: batchwire.Remote | None = None
        self._wire, self._api_key = wire, api_key
        self._recs: Records | None = records

    def __repr__(self) -> str:
        collected = ", collected" if self._record["collected"] else ""
        return (f"<BatchJob {self.id} {self.provider}/{self.model} {len(self.prompts)} prompt(s), "
                f"{self.state}{collected}>")

    @property
    def state(self) -> str:
        """The last state seen (``status()`` asks the provider)."""
        return self.remote.state if self.remote else self._record["state"]

    @property
    def wire(self):
        if self._wire is None:
            key = self._api_key or config.api_key(self.provider)
            if not key:
                env = " or ".join(config.KEY_ENV[self.provider])
                raise AuthError(f"No {self.provider} API key to reach batch {self.id}: set {env}, or pass "
                                "api_key= to pp.batches().", provider=self.provider)
            # On a shared (PostgreSQL) ledger the base URL is the caller's own configuration, never
            # the table's: a classmate who rewrote that row must not receive this key on the next
            # poll. A personal SQLite file is the caller's own record.
            from .ledger import SQLiteLedger

            base = self._record["base_url"] if isinstance(self.ledger, SQLiteLedger) else config.base_url(self.provider)
            self._wire = _wire(self.provider, key, base)
        return self._wire

    def _records(self) -> Records:
        if self._recs is None:
            self._recs = Records(self.ledger)
        return self._recs

    # -- asking the provider --------------------------------------------------------------------
    def status(self) -> str:
        """The job's state now: pending, running, completed, failed, cancelling, cancelled or expired."""
        self.remote = self.wire.poll(self.id)
        if self.remote.state != self._record["state"]:
            self._records().update(self.id, state=self.remote.state)
            self._record["state"] = self.remote.state
        return self.remote.state

    def wait(self, timeout: float | None = None, *, poll: float | None = None, progress: bool = True) -> "BatchJob":
        """Poll until the job ends (progress shown); raise Timeout after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = poll or 2.0
        bar = None
        try:
            while self.status() not in batchwire.TERMINAL:
                r = self.remote
                if progress:
                    bar = bar or progress_bar(r.total or len(self.prompts), "Batch")
                    bar.update(r.completed + r.failed, r.failed, total=r.total or len(self.prompts))
                if deadline is not None and time.monotonic() + delay > deadline:
                    raise Timeout(f"Batch {self.id} is still {self.state} after {timeout:.0f} s.",
                                  provider=self.provider,
                                  hint="It keeps running at the provider: wait() again later, or find it "
                                       "with pp.batches() from any session.")
                time.sleep(delay)
                if poll is None:
                    delay = min(delay * 1.5, 30.0)
            if bar is not None:
                r = self.remote
                bar.update(r.completed + r.failed, r.failed, total=r.total or len(self.prompts))
        finally:
            if bar is not None:
                bar.close()
        return self

    def cancel(self) -> str:
        """Ask the provider to stop; lines that already ran are still collected and booked."""
        if self._record["collected"]:
            return self.state
        self.remote = self.wire.cancel(self.id)
        self._records().update(self.id, state=self.remote.state)
        self._record["state"] = self.remote.state
        return self.remote.state

    # -- collecting -----------------------------------------------------------------------------
    def results(self) -> list:
        """One entry per prompt, in order: a Result, or the error for that line. Collects the
        job (storing images, booking each line) the first time it is called after the job ended."""
        if not self._record["collected"]:
            if self.remote is None or not self.remote.done:
                self.status()
            if not self.remote.done:
                raise InvalidRequest(f"Batch {self.id} is still {self.state}: call job.wait() first.",
                                     param="batch")
            self._collect(self.remote)
        lines = self._records().lines(self.id)
        return [self._entry(i, lines.get(i)) for i in range(len(self.prompts))]

    def _price(self) -> Price | None:
        row = self._record["price"]
        return Price.from_row(json.loads(row)) if row else None

    def _collect(self, remote: batchwire.Remote) -> None:
        records = self._records()
        keys = {KEY.format(i): i for i in range(len(self.prompts))}
        inputs = json.loads(self._record["inputs"])
        done = {i for i, line in records.lines(self.id).items() if line["status"] != "booking"}
        claim = uuid.uuid4().hex  # this collection's name on the lines it books
        price = self._price()
        stray = 0  # answers no prompt can be matched to (no key, an unknown key, a line unreadable)
        for key, outcome in self.wire.outcomes(remote, {KEY.format(i): n for i, n in enumerate(inputs)}):
            idx = key if isinstance(key, int) else keys.get(key) if isinstance(key, str) else None
            if idx is None or not 0 <= idx < len(self.prompts):
                stray += 1
                continue
            if idx in done:
                continue
            line = records.take_over(self.id, idx, claim)
            if line is None:
                continue  # another session is booking it
            self._book_line(records, idx, line["ledger_row"], outcome, price)
            done.add(idx)
        for idx in range(len(self.prompts)):
            if idx in done:
                continue
            if stray:
                # The provider answered something for a prompt we cannot name: any unanswered line
                # may be it, so each is an error of unknown cost (its worst case keeps counting).
                line = records.take_over(self.id, idx, claim)
                if line is not None:
                    self._book_line(records, idx, line["ledger_row"], batchwire.line_error(
                        self.provider, f"{stray} answer(s) of this batch could not be matched to their prompt"),
                        price)
                continue
            # unless another session is booking it right now
            records.claim_line(self.id, idx, status="not run", error_type="Cancelled",
                               error=f"This prompt was not run: the batch ended {remote.state}"
                                     + (f" ({remote.error})" if remote.error else "") + ".")
        unknown = [i for i, line in records.lines(self.id).items()
                   if line["status"] in ("ok", "refused", "error") and line["cost"] is None]
        if unknown:
            warnings.warn(f"{len(unknown)} line(s) of batch {self.id} came back without usage (or an answer) "
                          "promptpaint can read: booked at an unknown cost, their worst case stays reserved "
                          "against your caps.",
                          UnknownPriceWarning, stacklevel=3)
        if any(line["status"] == "booking" for line in records.lines(self.id).values()):
            return  # another session is still booking lines: it releases the job when it is done
        lines = records.lines(self.id)
        self._settle_lines(lines)
        ran = sum(line["status"] != "not run" for line in lines.values())
        if any(line["claim"] == HELD_BY_JOB for line in lines.values()):
            # A line of unknown cost could not hold its own worst case (see _line_row): the job's does.
            self.ledger.settle(self._record["reserve_row"], status="batch", cost=None,
                               error=f"{ran} of {len(self.prompts)} lines ran; the job's worst case stays "
                                     "reserved for lines of unknown cost")
        else:  # every line that ran is on its own row now: the job's worst case stops counting
            self.ledger.settle(self._record["reserve_row"], status="batch", cost=Decimal(0),
                               error=f"{ran} of {len(self.prompts)} lines ran, each booked on its own row")
        records.update(self.id, collected=1, state=remote.state)
        self._record.update(collected=1, state=remote.state)

    def _book_line(self, records: Records, idx: int, row: int | None, outcome, price: Price | None) -> None:
        """Record one line this collection has claimed (``row``: the ledger row a dead one left),
        on a ledger row of its own; ``_settle_lines`` books it once no line is being collected."""
        failed = isinstance(outcome, PromptpaintError)
        if failed:
            # A line the provider failed is not billed by either Batch API; a line it answered that
            # we could not read (maybe_billed) was, at a cost we cannot know.
            cost = None if outcome.maybe_billed else Decimal(0)
        else:
            cost = pricing.cost(outcome.usage, price) if outcome.usage_problem is None else None
        held_by_job = False
        if row is None:
            row, held_by_job = self._line_row(idx, unknown=cost is None)
            records.update_line(self.id, idx, ledger_row=row)
        marker = {"claim": HELD_BY_JOB} if held_by_job else {}
        if failed:
            records.put_line(self.id, idx, status="error", ledger_row=row, error_type=type(outcome).__name__,
                             error=outcome.message, request_id=outcome.request_id,
                             cost=None if cost is None else str(cost), **marker)
            return
        ids = [self.store.put(data)[0] for data in outcome.images]  # on disk before it is booked as ok
        records.put_line(self.id, idx, status="refused" if outcome.refusal else "ok", ledger_row=row,
                         images=json.dumps(ids), usage=json.dumps(outcome.usage.as_dict()),
                         cost=None if cost is None else str(cost), text=outcome.text, request_id=outcome.request_id,
                         error_type="Refused" if outcome.refusal else None,
                         error=outcome.refusal or outcome.usage_problem, **marker)

    def _settle_lines(self, lines: dict[int, dict]) -> None:
        """Book every recorded line on its ledger row. Only once no line is being collected: while
        the job's row holds every line's worst case, a line's cost on top would count it twice,
        and a cap kept in the ledger could then refuse the next line's row. Settling a row twice
        changes nothing, so two collections finishing at once, or one finishing what a dead one
        recorded, book each line once."""
        worst = json.loads(self._record["worst"])  # a line's cost above its worst case is flagged, not counted
        for idx, line in lines.items():
            if line["ledger_row"] is None or line["status"] in ("booking", "not run"):
                continue
            cost = None if line["cost"] is None else Decimal(line["cost"])
            if line["status"] == "error":
                self.ledger.settle(line["ledger_row"], status="error", cost=cost, request_id=line["request_id"],
                                   error=f"{line['error_type']}: {line['error']}", bound=worst[idx])
            else:
                self.ledger.settle(line["ledger_row"], status=line["status"], cost=cost,
                                   usage=json.loads(line["usage"]), request_id=line["request_id"],
                                   images=json.loads(line["images"]), error=line["error"], bound=worst[idx])

    def _line_row(self, idx: int, *, unknown: bool) -> tuple[int, bool]:
        """A ledger row for line ``idx``, and whether the job's row must go on holding its worst case.

        The job's row holds every line's worst case until the job is settled, so a line of known
        cost reserves $0: reserving its worst case as well would count it twice, and a cap kept in
        the ledger (a class's) could refuse the booking of a line already paid for (its cost is
        booked by ``_settle_lines``, after every line has its row). A line of unknown cost keeps
        counting at its own worst case, as any call of unknown cost; if a cap refuses that (no
        room beside the job's own hold, or lowered since the job was submitted), it reserves $0
        and the job's row keeps its whole worst case instead: more than the line's, never less.
        """
        attempt = Attempt(provider=self.provider, model=self.model, kind=self._record["kind"],
                          prompt=self.prompts[idx], params=self.params,
                          price_version=self._record["price_version"], budget=self._record["budget"],
                          user=self._record["user"])  # the submitter's caps, whoever collects
        worst = json.loads(self._record["worst"])[idx]
        if unknown:
            try:
                return self.ledger.reserve(attempt, None if worst is None else Decimal(worst), []), False
            except BudgetExceeded:
                return self.ledger.reserve(attempt, Decimal(0), []), True
        return self.ledger.reserve(attempt, Decimal(0), []), False

    def _entry(self, idx: int, line: dict | None):
        if line is None or line["status"] == "booking":
            return Cancelled(f"Line {idx} of batch {self.id} has not been collected.", provider=self.provider)
        cost = Decimal(line["cost"]) if line["cost"] is not None else None
        usage = pricing.Usage(**json.loads(line["usage"])) if line["usage"] else pricing.Usage()
        if line["status"] == "ok":
            ids = json.loads(line["images"])
            return Result(prompt=self.prompts[idx], provider=self.provider, model=self.model,
                          kind=self._record["kind"], params=self.params, ids=ids,
                          paths=[self.store.find(i) for i in ids], text=line["text"], usage=usage, cost=cost,
                          request_id=line["request_id"], ledger_id=line["ledger_row"])
        if line["status"] == "refused":
            said = f" The model said: {line['text']!r}" if line["text"] else ""
            exc = Refused(f"{self.provider} returned no image (reason: {line['error']}).{said}",
                          reason=line["error"], text=line["text"], provider=self.provider,
                          request_id=line["request_id"])
            exc.cost, exc.usage = cost, usage
            return exc
        cls = getattr(errors, line["error_type"] or "", None)
        if not (isinstance(cls, type) and issubclass(cls, PromptpaintError)):
            cls = errors.ProviderError
        return cls(line["error"] or "This line failed.", provider=self.provider, request_id=line["request_id"])


def batches(*, ledger: Ledger | None = None, store: ImageStore | None = None,
            api_key: str | None = None, user: str | None = None) -> list[BatchJob]:
    """Your batch jobs recorded in the ledger, newest first: find and collect a job from any session.

    On a class's shared ledger each job is its submitter's: ``user`` names another user's jobs
    (default: yours, as the ledger names you: PROMPTPAINT_USER, JUPYTERHUB_USER or the OS user),
    ``user="*"`` lists everyone's.

    >>> job = pp.batches()[0]            # doctest: +SKIP
    >>> job.status(); job.results()      # doctest: +SKIP
    """
    from .clock import current_user

    ledger = ledger or default_ledger()
    store = store or ImageStore(config.home() / "images")
    records = Records(ledger)
    who = None if user == "*" else (user or current_user())
    return [BatchJob(r, ledger, store, api_key=api_key, records=records) for r in records.jobs(user=who)]
