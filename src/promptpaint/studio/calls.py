"""A Generate or Edit from the Studio: checked and prepared before anything is spent, sent on
the runner's worker (with streamed previews when the model has them), and landed as a turn.

An edit of the newest image of a conversation continues it; an edit of anything else starts
from the image file, so editing an older turn branches.
"""

from __future__ import annotations

import io
import logging

from PIL import Image

from .. import images
from ..store import encode_png
from ..errors import InvalidRequest, PromptpaintError, Refused
from .code import snippets
from . import references
from .jobs import Job

log = logging.getLogger(__name__)

PREVIEWS = 2         # previews asked for per call when the model streams them


def prepare(s: "Session", action, prompt, params) -> Job:
    """The job for this call, or InvalidRequest saying what to do first."""
    if action not in ("generate", "edit"):
        raise InvalidRequest(f"Unknown action {str(action)[:40]!r}.")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("Type a prompt first: say what to draw or change.", param="prompt")
    client = s.client()
    job = Job(s.runner.next_id(), action, prompt, images.drop_empty(params), client, s.mask, s.markup)
    job.references, job.reference_ids = references.paths(s), [r["id"] for r in s.references]
    if action == "generate":
        return job
    if not s.image_id:
        raise InvalidRequest("There is no image to edit yet: generate or upload one first.")
    source = s.store.find(s.image_id)
    if source is None:
        # Without its file an edit would quietly become a paid generate: refuse instead.
        raise InvalidRequest(f"The image being edited ({s.image_id[:12]}…) is missing from the "
                             f"store at {s.store.root}: upload it again, or pick another image.",
                             param="image")
    cur = s.turn(s.current.get("turn"))
    index = s.current.get("index", 0)
    job.parent, job.source_id = (cur.id if cur else None), s.image_id
    if cur is not None and cur.chat is not None and cur.chat.turns and cur.chat.client is client \
            and index == 0:
        job.chat = cur.chat.branch(-1)     # editing an older turn branches from it
    else:
        job.chat = client.chat()
        job.image = source
    return job


def sender(s: "Session"):
    """The step that sends a prepared job (``job.result`` is what came back)."""
    def send(job: Job) -> None:
        stream = {}
        total = min(PREVIEWS, job.client.model.previews) if s.previews and s.on_preview else 0
        if total:
            stream = {"on_partial": lambda im, i: s._preview(job, im, i, total), "partial_images": total}
        # Booked as what the user did (generate or edit), not as the conversation's next "chat" turn.
        more = {"images": job.references, "book_as": job.action}
        if job.action == "generate":
            job.chat = job.client.chat()
            job.result = job.chat.send(job.prompt, cancel=job.cancel, **stream, **more, **job.params)
        else:
            job.result = job.chat.send(job.prompt, image=job.image, mask=job.mask, cancel=job.cancel,
                                       markup=job.markup, **stream, **more, **job.params)
    return send


def finisher(s: "Session"):
    """What happens when a call is over, however it ended: its turn, its code, idle again."""
    def finish(job: Job) -> None:
        result, exc, cancelled = job.result, job.error, job.cancelled
        paid = s.costs_count(result, exc)
        if result is not None:
            s.add_turn(job.action, job.prompt, result.params, result.ids, result.paths, result.cost,
                       job.parent, job.chat, client=job.client, text=result.text,
                       show=not cancelled, cancelled=cancelled, **provenance(s, job, result))
        elif isinstance(exc, Refused):
            # A refusal is part of the story (and may be billed): a card without an image.
            s.add_turn(job.action, job.prompt, job.params, [], [], paid, job.parent, None,
                       client=job.client, text=exc.text or exc.message, show=False,
                       cancelled=cancelled, refused=True)
        try:
            s.code = snippets(s, job)
            s._changed("code")
        except PromptpaintError:
            pass
        s.runner.end(job, exc)
    return finish


def provenance(s: "Session", job: Job, result) -> dict:
    """What the turn records beyond the ledger row: the row, the source, mask/markup, references."""
    layers = {}
    for name, layer in (("mask", job.mask), ("markup", job.markup)):
        if layer is not None and job.action == "edit":
            try:
                layers[name] = s.store.put(encode_png(layer))[0]
            except OSError:
                log.warning("could not store the %s for the image's provenance", name, exc_info=True)
    return {"ledger_id": result.ledger_id, "source": job.source_id if job.action == "edit" else None,
            "references": list(job.reference_ids), **layers}


def preview_bytes(image: Image.Image) -> tuple[bytes, str]:
    """A draft as the smaller of PNG and JPEG (quality 80): early drafts are flat and compress
    best losslessly, later ones are photographic and JPEG wins; a draft needs no exact pixels."""
    png, jpg = io.BytesIO(), io.BytesIO()
    image.save(png, format="PNG")
    image.convert("RGB").save(jpg, format="JPEG", quality=80)
    return min((png.getvalue(), "image/png"), (jpg.getvalue(), "image/jpeg"), key=lambda d: len(d[0]))


__all__ = ["prepare", "sender", "finisher", "preview_bytes", "PREVIEWS"]
