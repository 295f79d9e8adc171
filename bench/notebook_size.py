"""Saved-notebook size after 20 images made in a Studio on the offline provider.

Builds a notebook with nbformat (display a Studio, then ``studio.generate(f"image {i}")`` 20
times), executes it with nbclient with widget state stored (as "Save Widget State" in
JupyterLab), writes it, and prints its size, the size of ``metadata.widgets``, and the total
size of the 20 PNGs in the store for comparison. It also checks that no image travelled into the
file: no stored PNG's base64 (whole, or its first 64 characters) and no PNG base64 signature
``iVBORw0KGgo`` may appear in it.

The kernel is the "python3" kernelspec; it inherits this process's environment, with
PROMPTPAINT_HOME set to a temporary folder and PROMPTPAINT_PROVIDER=offline.

    python bench/notebook_size.py
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HOME = tempfile.mkdtemp(prefix="pp-bench-home-")
atexit.register(shutil.rmtree, HOME, True)
os.environ["PROMPTPAINT_HOME"] = HOME
os.environ["PROMPTPAINT_PROVIDER"] = "offline"
for var in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "PROMPTPAINT_DAILY_BUDGET"):
    os.environ.pop(var, None)

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

IMAGES = int(os.environ.get("BENCH_ROUNDS", "20"))
PNG_SIGNATURE_B64 = "iVBORw0KGgo"


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sys, promptpaint as pp\n"
                                  "print(sys.executable, pp.__file__)\n"
                                  "studio = pp.Studio(provider='offline')\n"
                                  "studio"),
        nbformat.v4.new_code_cell(f"for i in range({IMAGES}):\n"
                                  "    studio.generate(f'image {i}')\n"
                                  "len(studio.history), studio.image_id"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def main() -> None:
    nb = build()
    work = Path(tempfile.mkdtemp(prefix="pp-bench-nb-"))
    atexit.register(shutil.rmtree, work, True)
    t0 = time.perf_counter()
    client = NotebookClient(nb, kernel_name="python3", store_widget_state=True, timeout=120,
                            resources={"metadata": {"path": str(work)}})
    client.execute()
    elapsed = time.perf_counter() - t0
    path = work / "studio.ipynb"
    nbformat.write(nb, path)
    text = path.read_text(encoding="utf-8")
    size = path.stat().st_size

    widgets = nb.metadata.get("widgets", {})
    widgets_bytes = len(json.dumps(widgets, indent=1, ensure_ascii=False).encode())
    states = widgets.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    studio_states = [s["state"] for s in states.values() if s.get("state", {}).get("_esm") is not None]
    esm_bytes = sum(len(s["_esm"].encode()) for s in studio_states)

    pngs = sorted(Path(HOME, "images").rglob("*.png"))
    png_total = sum(p.stat().st_size for p in pngs)
    leaked_whole = leaked_prefix = 0
    for p in pngs:
        b64 = base64.b64encode(p.read_bytes()).decode()
        leaked_whole += b64 in text
        leaked_prefix += b64[:64] in text
    signatures = text.count(PNG_SIGNATURE_B64)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    out_mimes = sorted({m for o in outputs for m in o.get("data", {})})
    first_out = "".join(o.get("text", "") for o in nb.cells[0].get("outputs", []) if o.get("name") == "stdout")

    print(f"notebook_size: a notebook that makes {IMAGES} images in a Studio (offline provider), "
          f"executed with nbclient, widget state stored")
    print(f"  kernel: {first_out.strip() or '?'}  (execution {elapsed:.1f} s)")
    print(f"  {'saved notebook':<44} {size:>10} B")
    print(f"  {'  metadata.widgets':<44} {widgets_bytes:>10} B  ({len(states)} widget model(s))")
    print(f"  {'    of which _esm (the JS bundle)':<44} {esm_bytes:>10} B")
    print(f"  {'    of which everything else':<44} {widgets_bytes - esm_bytes:>10} B")
    if studio_states:
        top = sorted(((len(json.dumps(v, ensure_ascii=False).encode()), k) for k, v in studio_states[0].items()),
                     reverse=True)[:4]
        print(f"  {'    largest Studio traits':<44} " + ", ".join(f"{k} {n} B" for n, k in top))
    print(f"  {'  cell outputs and the rest':<44} {size - widgets_bytes:>10} B  (mime types: {', '.join(out_mimes)})")
    print(f"  {f'{len(pngs)} PNGs in the store (for comparison)':<44} {png_total:>10} B")
    print(f"  notebook / PNG total: {size / png_total:.2f}" if png_total else "  no PNGs in the store?")
    print(f"  image base64 in the file: whole PNGs {leaked_whole}/{len(pngs)}, first 64 chars "
          f"{leaked_prefix}/{len(pngs)}, PNG signature '{PNG_SIGNATURE_B64}' x{signatures}  -> "
          + ("none (good)" if not (leaked_whole or leaked_prefix or signatures) else "FOUND  <-- should be none"))


if __name__ == "__main__":
    sys.exit(main())
