"""The widget's Compare panel, without the widget: which cells a choice of models, qualities and
repeats makes, checked as strictly as anything else from a front end, their worst case, and the
steps that run them on the Studio's one runner.

Each cell is one ordinary call through the Studio's own Client for that model, so the Studio's
one budget covers them all, and each image is a turn (kind "compare") in the history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from .. import images, registry
from ..errors import BudgetExceeded, InvalidRequest, PromptpaintError, Refused
from .costs import decimal_text
from .errorcard import error_state, error_title
from .jobs import Job

log = logging.getLogger(__name__)

MAX_CELLS = 12     # a grid that still fits the panel, and a bill nobody runs up by one click
MAX_REPEATS = 4


@dataclass
class Cell:
    """One call of a comparison: a model, maybe a quality, and which repeat it is (1-based)."""

    index: int          # 1-based, as the grid names it ("Cell 3: …")
    provider: str
    model: str
    quality: str | None
    repeat: int
    params: dict        # what is sent: the Studio's settings that model takes, n = 1, the quality

    @property
    def label(self) -> str:
        return " · ".join([self.model] + ([self.quality] if self.quality else []) + [f"#{self.repeat}"])

    def as_state(self) -> dict:
        return {"index": self.index, "label": self.label, "provider": self.provider, "model": self.model,
                "quality": self.quality, "repeat": self.repeat}


def _strings(value, what: str, param: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or any(not isinstance(v, str) or len(v) > 100 for v in value):
        raise InvalidRequest(f"{what} must be a list of names.", param=param)
    if len(set(value)) != len(value):
        raise InvalidRequest(f"{what}: each may be picked once; use Repeats for more images of one.",
                             param=param)
    return list(value)


def plan(models, qualities, repeats, *, offered: dict, params: dict, default_params) -> list[Cell]:
    """The cells for this choice, in grid order (model, then quality, then repeat).

    ``offered`` maps each model id the user may pick (a configured provider's, not retired) to its
    provider; ``params`` are the Studio's settings, kept where a model takes them;
    ``default_params(model, keep)`` fills in the rest. Raises InvalidRequest saying what to change.
    """
    models = _strings(models, "Models", "models")
    qualities = _strings(qualities, "Qualities", "qualities")
    if not models:
        raise InvalidRequest("Pick at least one model to compare.", param="models")
    if type(repeats) is not int or not 1 <= repeats <= MAX_REPEATS:
        raise InvalidRequest(f"Repeats must be a whole number from 1 to {MAX_REPEATS}, not {str(repeats)[:20]!r}.",
                             param="repeats")
    unknown = [m for m in models if m not in offered]
    if unknown:
        raise InvalidRequest(f"Unknown model {unknown[0][:80]!r}: pick from the list (only models of a provider "
                             "with a key are offered).", param="models")
    entries = [registry.get(m, offered[m]) for m in models]
    takers = [e for e in entries if "quality" in e.params]
    if qualities and not takers:
        raise InvalidRequest("None of the models picked takes a quality setting: clear the qualities, or pick "
                             "a model that has one.", param="qualities")
    for e in takers:
        choices = e.params["quality"].get("choices") or []
        wrong = [q for q in qualities if q not in choices]
        if wrong:
            raise InvalidRequest(f"{e.id} does not take quality {wrong[0][:40]!r}: it takes "
                                 f"{', '.join(choices)}.", param="qualities")
    count = sum((len(qualities) if qualities and "quality" in e.params else 1) * repeats for e in entries)
    if count > MAX_CELLS:
        raise InvalidRequest(f"That makes {count} calls; a comparison has at most {MAX_CELLS}. Pick fewer models, "
                             "qualities or repeats.", param="repeats")
    cells: list[Cell] = []
    for e in entries:
        base = images.drop_empty(default_params(e, params))
        if "n" in e.params:
            base["n"] = 1  # one image per cell: the grid compares like with like
        for quality in (qualities if qualities and "quality" in e.params else [None]):
            for r in range(1, repeats + 1):
                sent = {**base, "quality": quality} if quality else dict(base)
                cells.append(Cell(len(cells) + 1, e.provider, e.id, quality, r, sent))
    return cells


def worst_case(cells: list[Cell], prompt: str, client_for) -> Decimal | None:
    """What a budget would reserve for all of them: None when one cell's price is unknown."""
    total = Decimal(0)
    for cell in cells:
        worst = client_for(cell).estimate(prompt or "", **cell.params)
        if worst is None:
            return None
        total += worst
    return total


def cells_for(s: "Session", models, qualities=None, repeats=1) -> list[Cell]:
    """The cells a comparison in this Studio would make: models of providers with a key only."""
    configured = {p["name"] for p in s.provider_list() if p["configured"]}
    offered = {m["id"]: m["provider"] for m in s.model_list() if m["provider"] in configured}
    return plan(models, qualities, repeats, offered=offered, params=s.params, default_params=s.default_params)


def estimate(s: "Session", models, qualities=None, repeats=1) -> dict:
    """``{"cells": [...], "calls": n, "worst_case": "1.27" or None}`` for the current prompt."""
    cells = cells_for(s, models, qualities, repeats)
    worst = worst_case(cells, s.prompt, lambda c: s.client(c.provider, c.model))
    return {"cells": [c.as_state() for c in cells], "calls": len(cells), "worst_case": decimal_text(worst)}


def start(s: "Session", models, qualities, repeats, prompt: str) -> Job:
    """Run a comparison as one job: cell after cell; Cancel skips the cells not yet started."""
    with s.runner.lock:
        s.runner.check_free()
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidRequest("Type a prompt first: say what to draw.", param="prompt")
        cells = cells_for(s, models, qualities, repeats)
        worst = worst_case(cells, prompt, lambda c: s.client(c.provider, c.model))
        grid = {"running": True, "prompt": prompt, "calls": len(cells), "worst_case": decimal_text(worst),
                "cells": [{**c.as_state(), "status": "pending", "turn": None, "image": None,
                           "cost": None, "error": None, "message": None} for c in cells]}
        job = Job(s.runner.next_id(), "compare", prompt, {}, s.client(), None, cells=cells, grid=grid)
        s.compare = grid
        s._changed("compare")
        # job.grid, not s.compare: after Cancel a newer comparison may already be on screen.
        steps = [_cell_step(s, cell, shown) for cell, shown in zip(cells, grid["cells"])]
        return s.runner.start(job, steps, lambda j: _finish(s, j))


def _finish(s: "Session", job: Job) -> None:
    if job.error is not None:
        log.error("promptpaint: the comparison failed", exc_info=job.error)
    job.grid["running"] = False
    s._changed("compare")
    s.runner.end(job, job.error)


def _cell_step(s: "Session", cell: Cell, shown: dict):
    def step(job: Job) -> None:
        if job.cancelled:
            shown.update(status="skipped", error="Cancelled", message="Cancelled before it started.")
            return
        shown["status"] = "running"
        s._changed("compare")
        _run_cell(s, job, cell, shown)
        s._changed("compare")
    return step


def _run_cell(s: "Session", job: Job, cell: Cell, shown: dict) -> None:
    client = s.client(cell.provider, cell.model)
    chat = client.chat()
    result = exc = None
    try:
        result = chat.send(job.prompt, cancel=job.cancel, **cell.params)
    except Exception as e:  # one cell's failure, whatever it is, never stops the others
        if not isinstance(e, PromptpaintError):
            log.exception("promptpaint: comparison cell %d failed", cell.index)
        exc = e
    paid = s.costs_count(result, exc)
    if result is not None:
        turn = s.add_turn("compare", job.prompt, result.params, result.ids, result.paths, result.cost,
                          None, chat, client=client, text=result.text, show=False, cancelled=job.cancelled,
                          ledger_id=result.ledger_id)  # its story comes from this row, not the image's hash
        shown.update(status="ok", turn=turn.id, image=result.ids[0] if result.ids else None,
                     cost=decimal_text(result.cost))
        return
    # A cell the budget cannot cover is skipped (nothing was sent); any other failure stays
    # on its cell, with what it may have cost, and the next cell runs.
    shown.update(status="skipped" if isinstance(exc, BudgetExceeded) else
                 "refused" if isinstance(exc, Refused) else "error",
                 error=error_title(exc), message=error_state(exc)["message"], cost=decimal_text(paid))
    if isinstance(exc, Refused):
        turn = s.add_turn("compare", job.prompt, cell.params, [], [], paid, None, None, client=client,
                          text=exc.text or exc.message, show=False, cancelled=job.cancelled, refused=True)
        shown["turn"] = turn.id


__all__ = ["Cell", "plan", "worst_case", "cells_for", "estimate", "start", "MAX_CELLS", "MAX_REPEATS"]
