"""``pp.Sweep``: the same prompts on several models and settings, as one labelled grid.

Every cell is one ordinary call (reserved, sent, booked like any other), so a sweep keeps every
budget rule: a cell the budget cannot cover is skipped before anything is sent, and a failed
cell stays in the grid without stopping the others.
"""

from __future__ import annotations

import io
import itertools
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from . import money, registry
from .errors import BudgetExceeded, InvalidRequest, PromptpaintError, Refused
from .plan import Budget, Request
from .progress import bar as progress_bar


@dataclass
class Cell:
    """One call of the sweep: a prompt on a model with one combination of the varied settings."""

    prompt: str
    model: str
    params: dict
    repeat: int
    vary: dict = field(default_factory=dict)   # the varied settings alone, for labels and rows
    result: object = None                      # a Result once it ran
    error: Exception | None = None             # the promptpaint error, if it failed or was skipped
    cost: Decimal | None = None                # what it cost; None while unknown or not run

    @property
    def status(self) -> str:
        if self.result is not None:
            return "ok"
        if isinstance(self.error, BudgetExceeded):
            return "skipped"
        if isinstance(self.error, Refused):
            return "refused"
        return "error" if self.error is not None else "pending"

    @property
    def image(self):
        return self.result.image if self.result is not None else None


@dataclass(frozen=True)
class Estimate:
    """What a sweep would cost at most, before it runs."""

    cells: int
    worst_case: Decimal | None            # None when a model's price is unknown
    by_model: dict

    def __repr__(self) -> str:
        cost = "an unknown amount" if self.worst_case is None else f"${self.worst_case:.4f}"
        return f"<Estimate {self.cells} cells, at most {cost}>"


def _client_for(model):
    """A Client for a model id (keys and base URLs from the environment), or the Client given."""
    from .client import Client

    if isinstance(model, Client):
        return model
    if not isinstance(model, str):
        raise InvalidRequest(f"models= takes model ids or pp.Client objects, not {type(model).__name__}.",
                             param="models")
    entry = registry.get(model)
    return Client(entry.provider, model=model)


class Sweep:
    """Every prompt × model × combination of ``vary`` × repeat, run as a grid.

    >>> sweep = pp.Sweep(["a fox", "a heron"], ["gpt-image-2", "gemini-3.1-flash-image"],
    ...                  vary={"quality": ["low", "high"]})   # doctest: +SKIP
    >>> sweep.estimate(); sweep.run(budget=1.00); sweep.grid()  # doctest: +SKIP

    ``models`` are model ids (the keys come from the environment) or ``pp.Client`` objects;
    ``params`` apply to every cell. A parameter a model does not take is an error naming the
    model, raised here, before anything runs.
    """

    def __init__(self, prompts, models, vary: dict | None = None, repeats: int = 1, **params):
        if isinstance(prompts, str):
            prompts = [prompts]
        if isinstance(models, str) or not hasattr(models, "__iter__"):
            models = [models]
        self.prompts = [p for p in prompts]
        if not self.prompts or any(not isinstance(p, str) or not p.strip() for p in self.prompts):
            raise InvalidRequest("Sweep needs at least one non-empty prompt.", param="prompts")
        if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
            raise InvalidRequest(f"repeats must be a whole number of at least 1, not {repeats!r}.",
                                 param="repeats")
        self.vary = {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in (vary or {}).items()}
        if any(not values for values in self.vary.values()):
            raise InvalidRequest("Each vary= entry needs at least one value.", param="vary")
        self.repeats = repeats
        self.params = params
        self.clients = [_client_for(m) for m in models]
        if not self.clients:
            raise InvalidRequest("Sweep needs at least one model.", param="models")
        ids = [c.model.id for c in self.clients]
        twice = sorted({m for m in ids if ids.count(m) > 1})
        if twice:
            raise InvalidRequest(f"{', '.join(twice)} is given twice in models=: each model is one column "
                                 "of the grid; use repeats= for more images from it.", param="models")
        combos = [dict(zip(self.vary, values)) for values in itertools.product(*self.vary.values())]
        self.cells: list[Cell] = []
        self._client_of: list = []
        for client in self.clients:
            for combo in combos:
                try:
                    checked = registry.validate_params(client.model, {**params, **combo})
                except InvalidRequest as exc:
                    msg = exc.message if client.model.id in exc.message else f"{client.model.id}: {exc.message}"
                    raise InvalidRequest(msg, param=exc.param) from None
                for prompt in self.prompts:
                    for r in range(repeats):
                        self.cells.append(Cell(prompt, client.model.id, checked, r, dict(combo)))
                        self._client_of.append(client)
        self.budget_id: str | None = None
        self.budget: Decimal | None = None  # the sweep's one cap, over all its runs

    # -- before spending ------------------------------------------------------------------------
    def estimate(self) -> Estimate:
        """The number of cells and the worst-case cost of running them all."""
        total, by_model = Decimal(0), {}
        for cell, client in zip(self.cells, self._client_of):
            worst = client.estimate(cell.prompt, **cell.params)
            if worst is None or total is None:
                total = None
            else:
                total += worst
            prev = by_model.get(cell.model, Decimal(0))
            by_model[cell.model] = None if worst is None or prev is None else prev + worst
        return Estimate(len(self.cells), total, by_model)

    # -- running --------------------------------------------------------------------------------
    def run(self, concurrency: int = 4, budget: float | Decimal | None = None, *,
            progress: bool = True) -> "Sweep":
        """Run every cell not yet run (or skipped for budget before), ``concurrency`` at a time,
        under ``budget`` (USD) if given.

        ``budget`` is one cap for all the sweep's calls, over every ``run()`` of this Sweep (the
        daily cap still applies): ``run(budget=0.50)`` three times spends at most $0.50 in all, and
        ``run(budget=1.00)`` after it raises that one cap to $1.00 for the whole sweep (the skipped
        cells fill in). ``run()`` without a budget keeps the cap an earlier run set. A cell the
        budget (or any other cap) cannot cover is skipped with BudgetExceeded as its error;
        nothing of it is sent. Errors stay on their cells; the others carry on.
        """
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise InvalidRequest(f"concurrency must be a whole number of at least 1, not {concurrency!r}.",
                                 param="concurrency")
        if budget is not None:
            limit = money.parse(budget, "budget")
            if any(c.budget is not None for c in self.clients):
                raise InvalidRequest("These Clients have budgets of their own: pass the budget either to "
                                     "the Clients or to run(), not both.", param="budget")
            # One id for the Sweep's life: the ledger sums every run's calls against it, so a
            # second run() spends what the first left, never a fresh allowance.
            self.budget_id = self.budget_id or f"sweep-{uuid.uuid4().hex[:12]}"
            self.budget = limit
        # The ledger counts a call against the one budget id on its row: every cell books against
        # the sweep's (None: the Clients' own budgets); the daily cap still applies.
        shared = Budget(self.budget_id, self.budget) if self.budget_id else None
        # Cells not run yet, and those a budget skipped: run() again with more budget fills them in.
        todo = [(cell, client) for cell, client in zip(self.cells, self._client_of)
                if cell.status in ("pending", "skipped")]
        for cell, _ in todo:
            cell.error = None
        bar = progress_bar(len(todo), "Sweep") if progress else None
        lock = threading.Lock()
        tally = {"done": 0, "failed": 0, "cost": Decimal(0)}

        def one(job):
            cell, client = job
            try:
                cell.result = client.plan(Request("generate", cell.prompt, params=cell.params),
                                          budget=shared).run()
                cell.cost = cell.result.cost
            except PromptpaintError as exc:
                cell.error = exc
                cell.cost = getattr(exc, "cost", None)  # a refusal may have been billed
            except Exception as exc:  # a bug in one cell must not lose the others' results
                cell.error = exc
            if bar is not None:
                with lock:
                    tally["done"] += 1
                    tally["failed"] += cell.error is not None
                    tally["cost"] += cell.cost or 0
                    bar.update(tally["done"], tally["failed"], tally["cost"])

        try:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pp-sweep") as pool:
                list(pool.map(one, todo))
        finally:
            if bar is not None:
                bar.close()
        return self

    # -- looking at it --------------------------------------------------------------------------
    @property
    def spent(self) -> Decimal:
        """The known cost of the cells run so far."""
        return sum((c.cost for c in self.cells if c.cost is not None), Decimal(0))

    def rows(self) -> list[dict]:
        """One plain dict per cell: prompt, model, repeat, each varied setting, status, cost, image path."""
        out = []
        for c in self.cells:
            row = {"prompt": c.prompt, "model": c.model, "repeat": c.repeat, **c.vary,
                   "params": dict(c.params), "status": c.status, "cost": c.cost,
                   "error": None if c.error is None else str(c.error),
                   "image": str(c.result.paths[0]) if c.result is not None and c.result.paths else None}
            out.append(row)
        return out

    def to_pandas(self):
        """``rows()`` as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Sweep.to_pandas() needs pandas: pip install pandas "
                              "(Sweep.rows() gives the same data as a list of dicts).") from None
        return pandas.DataFrame(self.rows())

    def grid(self, cell_size: int = 256):
        """A labelled PIL image: a column per model and varied setting, a row per prompt and repeat,
        each cell's cost (or why it has no image) under it."""
        from . import sweepgrid

        return sweepgrid.draw(self, cell_size)

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.grid().save(buf, format="PNG")
        return buf.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/png": self._repr_png_(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        done = sum(1 for c in self.cells if c.status != "pending")
        return (f"<Sweep {len(self.prompts)} prompt(s) × {len(self.clients)} model(s), {len(self.cells)} cells, "
                f"{done} run, ${self.spent:.4f} spent>")
