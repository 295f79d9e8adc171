"""What the widget can reopen from disk: Past images (the ledger + the store) and the last session.

Everything lives under ``PROMPTPAINT_HOME/studio/`` as small JSON files written atomically.
Hiding an image only lists its id in ``past.json``: the ledger row (the money) is never touched.
The Session's side (listing, opening an image as a turn, saving and resuming) is at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
from decimal import Decimal
from pathlib import Path

from .. import config
from ..ledger import Ledger
from ..clock import current_user, utc_now
from ..errors import InvalidRequest, PromptpaintError
from ..store import ImageStore, check_id
from .history import StudioTurn

LEDGER_ROWS = 2000   # how far back the drawer looks; older calls stay in the ledger and `promptpaint cost`
MAX_UPLOADS = 500    # uploads are not in the ledger, so the drawer keeps its own short list
_lock = threading.Lock()


def folder() -> Path:
    path = config.home() / "studio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read(name: str) -> dict:
    try:
        data = json.loads((folder() / name).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # missing or damaged: start afresh rather than break the widget


def _write(name: str, data: dict) -> None:
    path = folder() / name
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _update(change) -> None:
    with _lock:
        data = _read("past.json")
        change(data)
        _write("past.json", data)


HIDDEN = "hidden.txt"  # one hidden image id a line, appended: a hide costs the same with 4,000 before it


def hide(image_id: str) -> None:
    """Leave ``image_id`` out of the drawer from now on (its ledger row stays)."""
    with _lock, open(folder() / HIDDEN, "a", encoding="utf-8") as f:
        f.write(check_id(image_id) + "\n")


def hidden(data: dict | None = None) -> set[str]:
    """Every hidden id: the appended list, and the ``hidden`` list older versions kept in past.json."""
    data = _read("past.json") if data is None else data
    try:
        text = (folder() / HIDDEN).read_text(encoding="utf-8")
    except OSError:
        text = ""
    return set(text.split()) | {i for i in data.get("hidden", []) if isinstance(i, str)}


def record_upload(image_id: str, name: str) -> None:
    def add(d):
        d["uploads"] = ([{"id": image_id, "name": name, "at": utc_now().isoformat()}]
                        + [u for u in d.get("uploads", []) if u.get("id") != image_id])[:MAX_UPLOADS]
    _update(add)


def items(ledger: Ledger, store: ImageStore, query: str = "", limit: int = 60) -> list[dict]:
    """Past images, newest first: every stored image a call made (or an upload), not hidden."""
    data = _read("past.json")
    hidden_ids = hidden(data)
    found = []
    for row in ledger.entries(LEDGER_ROWS, user=current_user()):  # a class ledger holds classmates' too
        if row.get("status") not in ("ok", "cached"):
            continue
        ids = row.get("images") or []
        cost = row.get("cost")
        for image_id in ids:
            found.append({"id": image_id, "prompt": row.get("prompt") or "", "model": row.get("model"),
                          "provider": row.get("provider"), "kind": row.get("kind"), "at": row.get("ts"),
                          "cost": None if cost is None else format(cost, "f"), "images": len(ids),
                          "params": row.get("params") or {}})
    for up in data.get("uploads", []):
        found.append({"id": up.get("id"), "prompt": f"(uploaded {up.get('name')})", "model": None,
                      "provider": None, "kind": "upload", "at": up.get("at"), "cost": "0", "images": 1,
                      "params": {}})
    found.sort(key=lambda item: item["at"] or "", reverse=True)
    words = query.lower().split()
    out, seen = [], set()
    for item in found:
        image_id = item["id"]
        if image_id in seen or image_id in hidden_ids or not isinstance(image_id, str):
            continue
        text = " ".join(str(item[k] or "") for k in ("prompt", "model", "provider")).lower()
        if any(w not in text for w in words):
            continue
        seen.add(image_id)
        try:
            if store.find(image_id) is None:
                continue  # the drawer offers only what can be opened
        except Exception:
            continue
        out.append(item)
        if len(out) >= limit:
            break
    return out


def notebook_path() -> str | None:
    """The notebook this kernel runs, as the kernel knows it; None outside a notebook.

    VS Code sets ``__vsc_ipynb_file__`` in the user namespace; Jupyter Server starts the kernel
    with ``JPY_SESSION_NAME`` (the notebook's path), which ipykernel also puts in ``__session__``.
    """
    user_ns = {}
    ipython = sys.modules.get("IPython")  # only when a kernel loaded it: never imported here
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        user_ns = getattr(shell, "user_ns", None) or {}
    except Exception:
        pass
    for value in (user_ns.get("__vsc_ipynb_file__"), user_ns.get("__session__"),
                  os.environ.get("JPY_SESSION_NAME")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def session_name(notebook: str | None) -> str:
    """The file a notebook's last session is kept in: one per notebook, so ``resume=True`` in
    one notebook never reopens another's; outside a notebook, the one shared file."""
    if not notebook:
        return "last-session.json"
    return "session-" + hashlib.sha256(notebook.encode("utf-8", "replace")).hexdigest()[:24] + ".json"


def save_session(state: dict, notebook: str | None = None) -> None:
    with _lock:
        _write(session_name(notebook), {**state, "notebook": notebook, "saved_at": utc_now().isoformat()})


def load_session(notebook: str | None = None) -> dict:
    state = _read(session_name(notebook))
    # A hash collision or a copied file must not hand over another notebook's session.
    return state if state.get("notebook") in (None, notebook) else {}


# -- the Session's side ------------------------------------------------------------------------
def listing(s: "Session", query: str = "", limit: int = 60) -> list[dict]:
    """Images from earlier calls and uploads (ledger + store), newest first, filtered by text."""
    if not isinstance(query, str):
        raise InvalidRequest("The filter must be text.", param="query")
    limit = limit if type(limit) is int and 0 < limit <= 500 else 60
    return items(s.ledger, s.store, query[:200], limit)


def open_in(s: "Session", image_id) -> "StudioTurn":
    """Bring a stored image into this session as a new turn, shown and ready to edit."""
    check_id(image_id)
    path = s.store.find(image_id)
    if path is None:
        raise InvalidRequest("That image is not in the store any more.", param="id")
    info = next((i for i in items(s.ledger, s.store, limit=10_000) if i["id"] == image_id), {})
    return s.add_turn("open", info.get("prompt") or "(from Past images)", info.get("params") or {},
                      [image_id], [path], Decimal(0), None, None)


def snapshot(s: "Session") -> dict:
    """What ``resume=True`` reopens: the turns, the image shown, the settings."""
    return {"turns": s.history.as_state(), "current": dict(s.current), "provider": s.provider,
            "model": s.model, "params": dict(s.params), "prompt": s.prompt,
            "references": [dict(r) for r in s.references]}


def _in_id_order(turns) -> list:
    """Saved turns by id, each id once: a new turn takes the last id + 1, so out-of-order or
    repeated ids in a saved session would otherwise hand out an id that is already taken."""
    by_id = {}
    for t in turns if isinstance(turns, list) else []:
        try:
            by_id.setdefault(int(t["id"]), t)
        except (KeyError, TypeError, ValueError):
            continue
    return [by_id[i] for i in sorted(by_id)]


def resume(s: "Session", state: dict, explicit: frozenset = frozenset()) -> None:
    """Reopen ``state``; the choices named in ``explicit`` (``provider``, ``model``) were passed
    to ``pp.Studio`` and win over the saved ones."""
    s.history.restore(_in_id_order(state.get("turns")), s.store)
    try:
        if "provider" not in explicit and state.get("provider") != s.provider:
            s.choose_provider(state.get("provider"))
        if "model" not in explicit and state.get("model") != s.model:
            s.choose_model(state.get("model"))
        if state.get("model") == s.model:  # settings belong to their model
            s.choose_params(state.get("params") or {})
    except PromptpaintError:
        pass  # the provider has no key today, or the model retired: keep this Studio's choice
    if isinstance(state.get("prompt"), str):
        s.prompt = state["prompt"]
    for ref in state.get("references") or []:
        try:  # the chips come back while their files are in the store
            s.add_reference(image_id=ref.get("id"), name=str(ref.get("name") or "image")[:120])
        except (PromptpaintError, AttributeError):
            continue
    cur = state.get("current") or {}
    try:
        s.show(cur.get("turn"), cur.get("index", 0))
    except (PromptpaintError, AttributeError):
        pass
