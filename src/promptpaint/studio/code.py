"""Show code: the last call as curl, as plain Python, and as ``pp.Client`` code, each of which
runs as pasted on this machine. The request is the one the call made (its base URL, its image,
mask, markup and references), with the key as the environment variable the provider reads; the
image files the raw snippets send are written to a folder under ``PROMPTPAINT_HOME/studio/code/``
that each snippet names."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from .. import codegen, config, inputs
from ..store import encode_png
from .jobs import Job

log = logging.getLogger(__name__)


def snippets(s: "Session", job: Job) -> dict:
    """The ``code`` trait for ``job``; raises PromptpaintError when no wire form can be made."""
    wire = _wire(s, job)
    folder = _write_inputs(wire)
    where = [f"# The image files this request sends were written to {folder}"] if folder else []
    key_env, base_url = _setup(s, job)
    said = [f"# Set {key_env} to your key first (this Studio was given it with api_key=)."] if key_env else []
    code = {"curl": "\n".join([*said, *where, codegen.curl(wire, str(folder) if folder else None)]),
            "python": "\n".join([*said, *where, codegen.python(wire, str(folder) if folder else None)])}
    client_code = _client_code(s, job, key_env, base_url)
    if client_code:
        code["promptpaint"] = client_code
    return code


def _wire(s: "Session", job: Job):
    """The request as it went: the real source, mask, markup and references (a conversation's
    earlier turns aside: the snippet edits the image shown afresh)."""
    client = job.client
    images = ([_source(s, job)] if job.action == "edit" else []) + list(job.references)
    if None in images:  # the file is gone: show the shape of the request
        return client.wire(job.action, job.prompt, job.params, n_images=len(images), mask=job.mask is not None)
    call, _, _ = inputs.prepare(client.model, client.connection, job.action, job.prompt, images,
                                job.mask, job.params, None, None, job.markup if job.action == "edit" else None)
    return client.connection.wire(client.model, call)


def _source(s: "Session", job: Job) -> Path | None:
    parent = s.turn(job.parent)
    return job.image or (parent.paths[0] if parent and parent.paths else None)


def _write_inputs(wire) -> Path | None:
    """Each image file of the request, under a folder named by their content (so an old snippet's
    files stay as they were); None when the request carries none."""
    files = codegen.input_files(wire)
    if not files:
        return None
    digest = hashlib.sha256(b"".join(name.encode() + data for name, data in sorted(files.items()))).hexdigest()
    folder = config.home() / "studio" / "code" / digest[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    except OSError:
        log.warning("could not write the input files for Show code", exc_info=True)
        return None
    return folder.resolve()


def _setup(s: "Session", job: Job) -> tuple[str | None, str | None]:
    """The key's variable when the Studio was given ``api_key=`` (else the Client finds it by
    itself), and the base URL when it is not the provider's default."""
    provider = job.client.connection
    # The variable the raw snippets read too ($GEMINI_API_KEY…), so one export serves all three.
    var = (provider.key_placeholder or "").lstrip("$") or (provider.key_env[0] if provider.key_env else "")
    key_env = var if s.given_key(job.client.provider_name) and var else None
    base = str(getattr(provider, "base_url", "") or "")
    default = (getattr(provider, "default_base_url", "") or "").rstrip("/")
    return key_env, (base if base and base.rstrip("/") != default else None)


def _client_code(s: "Session", job: Job, key_env, base_url) -> str | None:
    """None when it cannot be made (no source file, or the mask could not be stored): the call's
    outcome matters more than its snippet."""
    source = mask = markup = None
    if job.action == "edit":
        source = _source(s, job)
        if source is None:
            return None
        for layer, name in ((job.mask, "mask"), (job.markup, "markup")):
            if layer is None:
                continue
            try:
                path = s.store.put(encode_png(layer))[1]
            except OSError:
                log.warning("could not store the %s for Show code", name, exc_info=True)
                return None
            mask, markup = (path, markup) if name == "mask" else (mask, path)
    return codegen.client(job.client.provider_name, job.client.model.id, job.action, job.prompt,
                          job.params, image=source, mask=mask, images=job.references, markup=markup,
                          base_url=base_url, key_env=key_env)


__all__ = ["snippets"]
