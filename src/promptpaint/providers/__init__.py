"""Provider clients. They speak wire formats and know nothing of the widget."""

from .base import Answer, Call, FileRef, Provider, Wire

__all__ = ["Answer", "Call", "FileRef", "Provider", "Wire"]
