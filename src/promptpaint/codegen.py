""""Show code": the curl and Python for a request, with keys as environment variables, never values.

A snippet is pasted into a shell or a notebook, so user text (the prompt, any parameter) is only
ever data there: shell-quoted in the curl snippet (the JSON body goes on stdin, text form fields
via ``--form-string`` so a leading ``@`` or ``<`` is not read as a file), and Python literals
(``repr``) in the Python snippet. URL credentials are shown as ``[credentials]``.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import pprint
import secrets
import shlex

from .providers import all_providers, provider_class
from .providers.base import Wire
from .redact import redact_url

KEY_VARS = tuple(p.key_placeholder for p in all_providers() if p.key_placeholder)


class _File:
    """Stands for an image file in a body: ``repr`` is the Python that reads it."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"b64({self.name!r})"


def _shapes(w: Wire):
    """The provider that made ``w``: it knows where its body holds images and its answer the image."""
    return provider_class(w.provider)


def _with_files(w: Wire, folder: str | None = None) -> tuple[dict, list[str]]:
    """The body with inline image data replaced by _File markers; the file names in order (in
    ``folder`` when given)."""
    body = copy.deepcopy(w.json or {})
    names = []
    for inline in _shapes(w).inline_images(body):
        names.append(_in(folder, f"image-{len(names)}.png"))
        inline["data"] = _File(names[-1])
    return body, names


def _in(folder: str | None, name: str) -> str:
    return os.path.join(folder, name) if folder else name


def input_files(w: Wire) -> dict[str, bytes]:
    """The image files a request carries, by the names its snippets read them from: an inline
    image's decoded bytes (``image-0.png``…), or a multipart file's (``image-0.png``, ``mask.png``)."""
    out = dict(w.payloads or {})
    if not w.provider or w.method == "LOCAL":  # the offline stand-in sends nothing
        return out
    for i, inline in enumerate(_shapes(w).inline_images(copy.deepcopy(w.json or {}))):
        try:
            out[f"image-{i}.png"] = base64.b64decode(inline["data"])
        except (TypeError, ValueError):
            continue  # a placeholder, not bytes: nothing to write
    return out


def _header(k: str, v: str) -> str:
    """``-H`` for one header. A ``$…_API_KEY`` reference goes in double quotes for the shell to
    expand; the rest of such a header is our own fixed text, checked to hold nothing special."""
    plain = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_:/.;=")
    for var in KEY_VARS:
        if var in f"{k}: {v}" and set(f"{k}: {v}".replace(var, "")) <= plain:
            return f'  -H "{k}: {v}"'
    return f"  -H {shlex.quote(f'{k}: {v}')}"


def _json_on_stdin(w: Wire, folder: str | None = None) -> str:
    """A shell command that prints ``w``'s body as JSON, base64-encoding each image file in place."""
    body, names = _with_files(w, folder)
    token = secrets.token_hex(8)  # user text cannot contain a marker it cannot guess
    text = json.dumps(body, indent=2, default=lambda f: f"{token}:{f.name}")
    steps = []
    for name in names:
        before, text = text.split(f'"{token}:{name}"', 1)
        steps += [f"printf '%s' {shlex.quote(before + chr(34))}", f"base64 -w0 {shlex.quote(name)}"]
        text = '"' + text
    steps.append(f"printf '%s' {shlex.quote(text)}")
    return steps[0] if len(steps) == 1 else "{ " + "; ".join(steps) + "; }"


def curl(w: Wire, folder: str | None = None) -> str:
    """``folder``: where the request's image files were written (else read from the working directory)."""
    if w.method == "LOCAL":
        return "# The offline stand-in runs locally; there is no HTTP request to show."
    url = redact_url(w.url)
    lines = [f"curl -sS -X {w.method} {shlex.quote(url)}"]
    lines += [_header(k, v) for k, v in w.headers.items() if not (w.files and k == "Content-Type")]
    if w.form is not None:
        lines += [f"  -F {shlex.quote(f'{field}=@{_in(folder, name)}')}" for field, name in w.files or []]
        lines += [f"  --form-string {shlex.quote(f'{k}={v}')}" for k, v in w.form.items()]
        lines.append(f"  | {_shapes(w).snippet_curl_output}")
        return " \\\n".join(lines)
    lines.append("  --data-binary @-")
    lines.append(f"  | {_shapes(w).snippet_curl_output}")
    return _json_on_stdin(w, folder) + " \\\n  | " + " \\\n".join(lines)


def python(w: Wire, folder: str | None = None) -> str:
    if w.method == "LOCAL":
        return ("import promptpaint as pp\n\n"
                f"r = pp.Client('offline').generate({(w.json or {}).get('prompt', '')!r})\n"
                "r.images[0]")
    url = redact_url(w.url)
    headers_text = json.dumps(w.headers)
    env = next((v[1:] for v in KEY_VARS if v in headers_text), KEY_VARS[0][1:])
    headers = []
    for k, v in w.headers.items():
        if k == "Content-Type":
            continue  # requests sets it from json= or files=
        if f"${env}" in v:
            before, _, after = v.partition(f"${env}")
            value = " + ".join(p for p in (repr(before) if before else "", f"os.environ[{env!r}]",
                                           repr(after) if after else "") if p)
        else:
            value = repr(v)
        headers.append(f"{k!r}: {value}")
    head = "{" + ", ".join(headers) + "}"
    lines = ["import base64, os", "import requests", ""]
    if w.form is not None:
        files = ", ".join(f"({field!r}, open({_in(folder, name)!r}, 'rb'))" for field, name in w.files or [])
        lines += [f"resp = requests.post({url!r},",
                  f"    headers={head},",
                  f"    data={w.form!r},",
                  f"    files=[{files}], timeout=600)",
                  "resp.raise_for_status()", *_shapes(w).snippet_python_output]
        return "\n".join(lines)
    body, names = _with_files(w, folder)
    text = pprint.pformat(body, indent=2, width=90, sort_dicts=False)
    if names:
        lines += ["def b64(path):", "    return base64.b64encode(open(path, 'rb').read()).decode()", ""]
    lines += [f"body = {text}", f"resp = requests.post({url!r}, headers={head}, json=body, timeout=600)",
              "resp.raise_for_status()", *_shapes(w).snippet_python_output]
    return "\n".join(lines)


def client(provider: str, model: str, action: str, prompt: str, params: dict,
           image=None, mask=None, *, images=(), markup=None, base_url: str | None = None,
           key_env: str | None = None) -> str:
    """The same call through ``pp.Client``: runs as pasted on this machine (``image``, ``mask``,
    ``markup`` and the reference ``images`` are files), reads the key from the environment (named
    ``key_env`` when given: ``api_key=os.environ[...]``, never the key), calls ``base_url`` when
    given, and keeps the ledger and the budgets that the raw snippets bypass."""
    args = [repr(prompt)]
    if action == "edit":
        args.append(f"image={str(image)!r}")
        if mask is not None:
            args.append(f"mask={str(mask)!r}")
        if markup is not None:
            args.append(f"markup={str(markup)!r}")
    if images:
        args.append(f"images={[str(p) for p in images]!r}")
    args += [f"{name}={value!r}" for name, value in params.items() if name.isidentifier()]
    setup = [repr(provider), f"model={model!r}"]
    if key_env:
        setup.append(f"api_key=os.environ[{key_env!r}]")
    if base_url:
        setup.append(f"base_url={redact_url(base_url)!r}")
    return "\n".join([
        *(["import os", ""] if key_env else []),
        "import promptpaint as pp",
        "",
        f"client = pp.Client({', '.join(setup)})",
        f"result = client.{'edit' if action == 'edit' else 'generate'}({', '.join(args)})",
        "result.images[0]",
    ])
