"""Shared by the bench scripts: a throwaway PROMPTPAINT_HOME, the test fake on sys.path, and no
environment settings that would point a benchmark at anything but 127.0.0.1."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def isolate() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    os.environ["PROMPTPAINT_HOME"] = tempfile.mkdtemp(prefix="pp-bench-home-")
    atexit.register(shutil.rmtree, os.environ["PROMPTPAINT_HOME"], True)
    for var in ("PROMPTPAINT_PROVIDER", "PROMPTPAINT_DAILY_BUDGET", "OPENAI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"):
        os.environ.pop(var, None)
