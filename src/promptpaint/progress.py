"""A progress display for long runs: an ipywidgets bar in a notebook (imported only there), a
one-line text bar on stderr elsewhere. Used by sweeps and by waiting on batch jobs."""

from __future__ import annotations

import io
import sys
from decimal import Decimal

from . import money


def in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def bar(total: int, label: str):
    return WidgetBar(total, label) if in_notebook() else TextBar(total, label)


class TextBar:
    """``Sweep [#####-----] 5/10  $0.1234  1 failed``, redrawn in place on one line."""

    WIDTH = 30

    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label = total, label
        self.done = self.failed = 0
        self.cost: Decimal | None = None
        self.stream = stream or sys.stderr
        self.draw()

    def update(self, done: int, failed: int = 0, cost: Decimal | None = None, total: int | None = None) -> None:
        self.done, self.failed, self.cost = done, failed, cost
        if total is not None:
            self.total = total
        self.draw()

    def text(self) -> str:
        cost = f"  {money.format(self.cost)}" if self.cost is not None else ""
        failed = f"  {self.failed} not run or failed" if self.failed else ""
        return f"{self.done}/{self.total}{cost}{failed}"

    def draw(self) -> None:
        filled = self.WIDTH * min(self.done, self.total) // max(1, self.total)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.text()}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class WidgetBar(TextBar):
    def __init__(self, total: int, label: str):
        import ipywidgets
        from IPython.display import display

        self.widget = ipywidgets.IntProgress(min=0, max=max(1, total), value=0, description=label)
        self.caption = ipywidgets.Label()
        display(ipywidgets.HBox([self.widget, self.caption]))
        super().__init__(total, label, stream=io.StringIO())

    def draw(self) -> None:
        self.widget.max = max(1, self.total)
        self.widget.value = min(self.done, self.total)
        self.caption.value = self.text()

    def close(self) -> None:
        self.widget.bar_style = "warning" if self.failed else "success"
