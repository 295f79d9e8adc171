"""The installed version, read once on first use (pyproject.toml is the one place it is written).

A module of its own so that code inside the package asks it here, never ``from promptpaint import
__version__``: that import would make each such module and the package import each other.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def version() -> str:
    # Read on first use: importlib.metadata alone would add ~35 ms to every `import promptpaint`.
    from importlib import metadata

    try:
        return metadata.version("promptpaint")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":  # `from .version import __version__`
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
