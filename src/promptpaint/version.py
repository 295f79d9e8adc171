"""The installed version, read once: ``promptpaint.__version__`` without importing the package
(a module that needs it inside promptpaint would otherwise import promptpaint itself)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def version() -> str:
    # pyproject.toml is the one place the version is written; the installed metadata carries it.
    # Read on first use: importlib.metadata alone would add ~35 ms to every `import promptpaint`.
    from importlib import metadata

    try:
        return metadata.version("promptpaint")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"
