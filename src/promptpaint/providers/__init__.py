"""Provider clients. They speak wire formats and know nothing of the widget.

One home per provider: each provider is one module whose class carries everything the rest of the
package needs to know about it (name and label, key and base-URL environment variables, default
base URL, how its errors read and when to retry, how it masks, whether it replays a conversation,
how it streams and what previews cost). ``REGISTRY`` lists them, in the order keys are looked for;
a new provider is one module plus one row here. Modules load on first use, so ``import
promptpaint`` stays light.
"""

from __future__ import annotations

import importlib

from .base import Answer, Call, FileRef, Provider, Wire

#: name -> (module, class), in the order a key is looked for when no provider is named.
REGISTRY = {
    "gemini": ("gemini.provider", "GeminiProvider"),
    "openai": ("openai.provider", "OpenAIProvider"),
    "offline": ("offline", "OfflineProvider"),
}
NAMES = tuple(REGISTRY)


def provider_class(name: str) -> type[Provider]:
    """The class of provider ``name``; KeyError for a name not in the registry."""
    module, cls = REGISTRY[name]
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def all_providers() -> list[type[Provider]]:
    return [provider_class(n) for n in NAMES]


__all__ = ["Answer", "Call", "FileRef", "Provider", "Wire", "REGISTRY", "NAMES", "provider_class",
           "all_providers"]
