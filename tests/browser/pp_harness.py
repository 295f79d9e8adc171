"""Python side of the browser harness: the fake kernel state and a driver for the page."""

from __future__ import annotations

import base64
import hashlib
import io
import time

DEFAULT_STATE = {
    "prompt": "",
    "provider": "openai",
    "model": "gpt-image-2",
    "params": {"size": "1024x1024", "n": 1},
    "providers": [
        {"name": "openai", "label": "OpenAI", "configured": True},
        {"name": "gemini", "label": "Gemini", "configured": False},
        {"name": "offline", "label": "Offline stand-in", "configured": True},
    ],
    "models": [
        {
            "id": "gpt-image-2",
            "provider": "openai",
            "label": "GPT Image 2",
            "warning": None,
            "mask": True,
            "params": [
                {"name": "size", "label": "Size", "kind": "choice",
                 "choices": ["1024x1024", "1536x1024", "1024x1536"], "default": "1024x1024"},
                {"name": "n", "label": "Images", "kind": "int", "min": 1, "max": 10, "default": 1},
                {"name": "seed", "label": "Seed", "kind": "int", "min": 0, "max": 2147483647, "default": None},
            ],
        },
        {
            "id": "gpt-image-1-mini",
            "provider": "openai",
            "label": "GPT Image 1 mini",
            "warning": "shuts down 2026-12-01",
            "mask": True,
            "params": [{"name": "n", "label": "Images", "kind": "int", "min": 1, "max": 10, "default": 1}],
        },
        {
            "id": "gemini-3.1-flash-image",
            "provider": "gemini",
            "label": "Gemini 3.1 Flash Image",
            "warning": None,
            "mask": False,
            "params": [{"name": "temperature", "label": "Temperature", "kind": "float",
                        "min": 0, "max": 2, "step": 0.1, "default": None}],
        },
    ],
    "status": "idle",
    "started_at": 0,
    "error": {},
    "notice": "",
    "turns": [],
    "current": {},
    "image_id": "",
    "image_size": [],
    "has_mask": False,
    "costs": {"last": None, "widget": "0", "all_time": "0", "budget_left": None,
              "estimate": None, "estimate_note": ""},
    "code": {},
}


def make_png(width: int, height: int, color=(40, 120, 200)) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), color)
    # A distinct top-left pixel lets a test tell this image from any other of the same colour.
    image.putpixel((0, 0), (255, 255, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Widget:
    """Python side of the harness: sets traits, sends messages, reads what the widget sent."""

    def __init__(self, page):
        self.page = page

    def set(self, **traits):
        self.page.evaluate("values => pp.pySet(values)", traits)

    def send(self, content: dict, buffers: list[bytes] = ()):
        self.page.evaluate(
            "([c, b]) => pp.pySend(c, b)",
            [content, [base64.b64encode(b).decode() for b in buffers]],
        )

    def add_image(self, data: bytes, *, thumb: bytes | None = None, mime="image/png") -> str:
        sha = hashlib.sha256(data).hexdigest()
        images = {f"{sha}:f": {"b64": base64.b64encode(data).decode(), "mime": mime}}
        if thumb is not None:
            images[f"{sha}:t"] = {"b64": base64.b64encode(thumb).decode(), "mime": mime}
        self.page.evaluate("imgs => Object.assign(pp.images, imgs)", images)
        return sha

    def sent(self, kind: str | None = None) -> list[dict]:
        raw = self.page.evaluate("pp.sent.map(m => ({content: m.content, buffers: m.buffers}))")
        out = [
            {"content": m["content"], "buffers": [base64.b64decode(b) for b in m["buffers"]]}
            for m in raw
        ]
        return [m for m in out if kind is None or m["content"].get("kind") == kind]

    def wait_sent(self, kind: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        self.page.wait_for_function(
            "([k, n]) => pp.sent.filter(m => m.content.kind === k).length >= n",
            arg=[kind, count],
            timeout=timeout * 1000,
        )
        return self.sent(kind)

    def state(self, name: str):
        return self.page.evaluate("k => pp.state[k]", name)

    def wait_state(self, name: str, expected, timeout: float = 5.0):
        """The trait once it equals ``expected`` (settings are written when typing pauses);
        fails with the last value seen after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while (value := self.state(name)) != expected and time.monotonic() < deadline:
            self.page.wait_for_timeout(25)
        assert value == expected, f"{name} stayed {value!r}, expected {expected!r}"
        return value

    def show_image(self, width=640, height=480, color=(40, 120, 200), turns=None) -> str:
        """Gives the widget an image the way the kernel does and waits until the brush is live."""
        data = make_png(width, height, color)
        small = make_png(max(1, width // 8), max(1, height // 8), color)
        sha = self.add_image(data, thumb=small)
        if turns is None:
            turns = [turn(1, None, [sha])]
        self.set(turns=turns, current={"turn": turns[-1]["id"], "index": 0},
                 image_id=sha, image_size=[width, height])
        self.page.wait_for_function(
            "([w, h]) => { const i = document.querySelector('.pp-image');"
            " const c = document.querySelector('canvas[aria-label=Mask]');"
            " return i && i.naturalWidth === w && c.width === w && c.height === h"
            " && !document.querySelector('.pp-frame.pp-loading'); }",
            arg=[width, height],
        )
        return sha

    def canvas_box(self) -> dict:
        return self.page.get_by_label("Mask").bounding_box()

    def drag(self, points, steps=8):
        """Drags through image-pixel points, converted to page coordinates of the canvas."""
        box = self.canvas_box()
        w, h = self.page.evaluate(
            "() => { const c = document.querySelector('canvas[aria-label=Mask]'); return [c.width, c.height]; }"
        )
        to_page = [(box["x"] + x * box["width"] / w, box["y"] + y * box["height"] / h) for x, y in points]
        mouse = self.page.mouse
        mouse.move(*to_page[0])
        mouse.down()
        for p in to_page[1:]:
            mouse.move(*p, steps=steps)
        mouse.up()


def turn(id_, parent, images, **extra) -> dict:
    base = {
        "id": id_, "parent": parent, "kind": "generate" if parent is None else "edit",
        "prompt": f"prompt {id_}", "provider": "openai", "model": "gpt-image-2", "params": {},
        "images": images, "cost": "0.0110", "text": None, "offline": False,
    }
    base.update(extra)
    return base


