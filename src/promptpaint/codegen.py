""""Show code": the curl and Python for a request, with keys as environment variables, never values."""

from __future__ import annotations

import copy
import json
import pprint
import shlex

from .providers.base import Wire

KEY_VARS = ("$OPENAI_API_KEY", "$GEMINI_API_KEY")


def _placeholders(body: dict) -> tuple[dict, list[str]]:
    """The body with inline image data replaced by file names; those names in order."""
    body = copy.deepcopy(body)
    names = []
    for turn in body.get("contents", []):
        for part in turn.get("parts", []):
            inline = part.get("inlineData")
            if inline and "data" in inline:
                name = f"image-{len(names)}.png"
                names.append(name)
                inline["data"] = f"<base64 of {name}>"
    return body, names


def curl(w: Wire) -> str:
    if w.method == "LOCAL":
        return "# The offline stand-in runs locally; there is no HTTP request to show."
    lines = [f"curl -sS -X {w.method} {shlex.quote(w.url)}"]
    lines += [f'  -H "{k}: {v}"' for k, v in w.headers.items() if not (w.files and k == "Content-Type")]
    if w.form is not None:
        lines += [f"  -F {shlex.quote(f'{field}=@{name}')}" for field, name in w.files or []]
        lines += [f"  -F {shlex.quote(f'{k}={v}')}" for k, v in w.form.items()]
        out = "  | jq -r '.data[0].b64_json' | base64 --decode > out.png"
    else:
        body, names = _placeholders(w.json or {})
        text = json.dumps(body, indent=2)
        for name in names:
            # The shell fills each image in; the JSON stays readable.
            text = text.replace(f'"<base64 of {name}>"', f"\"'\"$(base64 -w0 {name})\"'\"")
        lines.append(f"  -d '{text}'")
        out = ("  | jq -r '.data[0].b64_json' | base64 --decode > out.png" if "openai" in w.url or "/images/" in w.url
               else "  | jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data'"
                    " | head -n1 | base64 --decode > out.png")
    return " \\\n".join(lines) + " \\\n" + out


def python(w: Wire) -> str:
    if w.method == "LOCAL":
        return ("import promptpaint as pp\n\n"
                f"r = pp.Client('offline').generate({(w.json or {}).get('prompt', '')!r})\n"
                "r.images[0]")
    env = "OPENAI_API_KEY" if "$OPENAI_API_KEY" in json.dumps(w.headers) else "GEMINI_API_KEY"
    headers = {k: (f'os.environ["{env}"]' if "$" in v else repr(v)) for k, v in w.headers.items()
               if not (k == "Content-Type")}
    head = "{" + ", ".join(f"{k!r}: " + (f'"Bearer " + {v}' if v.startswith("os.") and k == "Authorization" else v)
                           for k, v in headers.items()) + "}"
    lines = ["import base64, os", "import requests", ""]
    if w.form is not None:
        files = ", ".join(f"({field!r}, open({name!r}, 'rb'))" for field, name in w.files or [])
        lines += [f"resp = requests.post({w.url!r},",
                  f"    headers={head},",
                  f"    data={w.form!r},",
                  f"    files=[{files}], timeout=600)",
                  "resp.raise_for_status()",
                  "open('out.png', 'wb').write(base64.b64decode(resp.json()['data'][0]['b64_json']))"]
        return "\n".join(lines)
    body, names = _placeholders(w.json or {})
    text = pprint.pformat(body, indent=2, width=90, sort_dicts=False)
    for name in names:
        text = text.replace(repr(f"<base64 of {name}>"), f"b64({name!r})")
    if names:
        lines += ["def b64(path):", "    return base64.b64encode(open(path, 'rb').read()).decode()", ""]
    lines += [f"body = {text}", f"resp = requests.post({w.url!r}, headers={head}, json=body, timeout=600)",
              "resp.raise_for_status()"]
    if "/images/" in w.url:
        lines.append("open('out.png', 'wb').write(base64.b64decode(resp.json()['data'][0]['b64_json']))")
    else:
        lines += ["for part in resp.json()['candidates'][0]['content']['parts']:",
                  "    if 'inlineData' in part:",
                  "        open('out.png', 'wb').write(base64.b64decode(part['inlineData']['data']))",
                  "    elif 'text' in part:", "        print(part['text'])"]
    return "\n".join(lines)
