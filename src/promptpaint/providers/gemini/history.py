"""A Gemini conversation kept small: the model's turns hold image ids, not base64.

A chat replays every earlier turn, the model's own image parts and thought signatures included.
``compact`` swaps each inline image for its id in the image store; ``inflate`` puts the same
bytes back for the replay, so the model sees exactly what it sent.
"""

from __future__ import annotations

import base64


def compact(content: dict | None, store) -> dict | None:
    """A provider-shaped turn with each inline image swapped for its id in ``store``."""
    if not content:
        return content
    parts = []
    for part in content.get("parts", []):
        inline = part.get("inlineData")
        if inline and part.get("thought") and not part.get("thoughtSignature"):
            # An interim draft (a streamed preview): not the model's answer, carries no signature
            # to return, and would be replayed as input tokens. Previews are never stored.
            continue
        if inline and "data" in inline:
            digest, _ = store.put(base64.b64decode(inline["data"]))
            part = {**part, "inlineData": {"mimeType": inline.get("mimeType"), "storeId": digest}}
        parts.append(part)
    return {**content, "parts": parts}


def inflate(content: dict, store) -> dict:
    """The turn as it was sent: each stored image id back to its base64 bytes."""
    parts = []
    for part in content.get("parts", []):
        inline = part.get("inlineData")
        if inline and "storeId" in inline:
            data = base64.b64encode(store.read(inline["storeId"])).decode("ascii")
            part = {**part, "inlineData": {"mimeType": inline["mimeType"], "data": data}}
        parts.append(part)
    return {**content, "parts": parts}


def parts(history: list) -> list[dict]:
    """Every part of every earlier turn."""
    return [p for turn in history for p in turn.get("parts", [])]


def inline_images(body: dict):
    """The ``inlineData`` objects of a request body, in order (for "show code" to swap for files)."""
    for turn in body.get("contents", []):
        for part in turn.get("parts", []):
            inline = part.get("inlineData")
            if inline and "data" in inline:
                yield inline
