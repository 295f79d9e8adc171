"""Show code: the last call as curl, as plain Python, and as ``pp.Client`` code that runs as pasted
(an edit reads its source image from the store, and the mask it used is written there too)."""

from __future__ import annotations

import logging

from .. import codegen
from ..store import encode_png
from .jobs import Job

log = logging.getLogger(__name__)


def snippets(s: "Session", job: Job) -> dict:
    """The ``code`` trait for ``job``; raises PromptpaintError when no wire form can be made."""
    wire = job.client.wire(job.action, job.prompt, job.params,
                           n_images=0 if job.action == "generate" else 1, mask=job.mask is not None)
    code = {"curl": codegen.curl(wire), "python": codegen.python(wire)}
    client_code = _client_code(s, job)
    if client_code:
        code["promptpaint"] = client_code
    return code


def _client_code(s: "Session", job: Job) -> str | None:
    """None when it cannot be made (no source file, or the mask could not be stored): the call's
    outcome matters more than its snippet."""
    source = mask = None
    if job.action == "edit":
        parent = s.turn(job.parent)
        source = job.image or (parent.paths[0] if parent and parent.paths else None)
        if source is None:
            return None
        if job.mask is not None:
            try:
                mask = s.store.put(encode_png(job.mask))[1]
            except OSError:
                log.warning("could not store the mask for Show code", exc_info=True)
                return None
    return codegen.client(job.client.provider_name, job.client.model.id, job.action, job.prompt,
                          job.params, image=source, mask=mask)


__all__ = ["snippets"]
