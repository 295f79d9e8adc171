"""Running a notebook cell again replaces the Studios its last run made: the old views say so and
refuse to run, so a student never spends from a widget they no longer see.

JupyterLab and Notebook 7 put the cell's id in the execute request's metadata; the request's own
msg_id tells one run of the cell from the next.
"""

from __future__ import annotations

import weakref

# cell id -> (the execute request's msg_id, [weak refs to the Studios that run made])
_by_cell: dict[str, tuple[str, list[weakref.ref]]] = {}


def cell_run() -> tuple[str, str] | None:
    """(cell id, id of this run) for the notebook cell being run, or None outside one."""
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = (kernel.get_parent() if hasattr(kernel, "get_parent") else None) or {}
        metadata = parent.get("metadata") or {}
        cell = metadata.get("cellId") or metadata.get("cell_id")
        run = (parent.get("header") or {}).get("msg_id")
        return (cell, run) if isinstance(cell, str) and cell and isinstance(run, str) else None
    except Exception:  # outside a kernel, or an older one: nothing to replace
        return None


def register(studio) -> None:
    """Retire the Studios an earlier run of this cell made (not those of this run: a cell may
    make two side by side)."""
    where = cell_run()
    if where is None:
        return
    cell, run = where
    last_run, refs = _by_cell.get(cell, (run, []))
    if last_run != run:
        for ref in refs:
            older = ref()
            if older is not None and older is not studio:
                older.session.retire("replaced")  # its view says so; a click there spends nothing
        refs = []
    _by_cell[cell] = (run, refs + [weakref.ref(studio)])


__all__ = ["cell_run", "register"]
