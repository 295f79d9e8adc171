"""The widget's Compare panel, without the widget: which cells a choice of models, qualities and
repeats makes, checked as strictly as anything else from a front end, and their worst case.

``Session.compare_estimate`` / ``Session.start_compare`` use it; each cell is then one ordinary
call through the Studio's own Client for that model, so the Studio's one budget covers them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import images, registry
from .errors import InvalidRequest

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


__all__ = ["Cell", "plan", "worst_case", "MAX_CELLS", "MAX_REPEATS"]
