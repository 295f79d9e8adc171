"""The providers the gateway forwards to, each through its own request reader (the ``inbound``
module in its package under ``providers/``): the gateway itself knows no provider by name."""

from __future__ import annotations

import functools
import importlib

from ..providers import all_providers
from .env import prefix


@functools.lru_cache(maxsize=1)
def readers() -> dict:
    """provider name -> (its gateway path prefix, its reader module), for every networked provider."""
    out = {}
    for cls in all_providers():
        if cls.offline or not cls.default_base_url:
            continue
        package = cls.__module__.rpartition(".")[0]
        try:
            module = importlib.import_module(f"{package}.inbound")
        except ImportError:  # a provider the gateway cannot read requests for is not served
            continue
        out[cls.name] = (prefix(cls.name, cls.default_base_url), module)
    return out


def reader_for_path(path: str):
    """The reader whose prefix ``path`` falls under (None: no provider's)."""
    for _name, (pre, module) in readers().items():
        if f"{pre}/" in path:
            return module
    return None
