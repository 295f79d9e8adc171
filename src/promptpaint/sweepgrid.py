"""Draw a Sweep as one labelled image: a column per model and varied setting, a row per prompt and
repeat, each cell's cost (or why it has no picture) under its thumbnail."""

from __future__ import annotations

import textwrap

from PIL import Image, ImageDraw, ImageFont

from . import money

PAD = 8
CAPTION = 22
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
MUTED = (110, 110, 110)
EMPTY = (236, 236, 236)
ALERT = (170, 30, 30)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def column_key(cell) -> tuple:
    return (cell.model, tuple(sorted(cell.vary.items())))


def row_key(cell) -> tuple:
    return (cell.prompt, cell.repeat)


def caption(cell) -> tuple[str, tuple]:
    cost = "unknown cost" if cell.cost is None else money.format(cell.cost)
    if cell.status == "ok":
        return cost, INK
    if cell.status == "pending":
        return "not run", MUTED
    if cell.status == "skipped":
        return "skipped: over budget", ALERT
    if cell.status == "refused":
        return f"refused, {cost}", ALERT
    name = getattr(type(cell.error), "title", None) or type(cell.error).__name__
    if getattr(cell.error, "maybe_billed", False):  # it may have been billed: its cost is not $0
        return f"{name}, cost unknown", ALERT
    return f"failed: {name}", ALERT


def _fit(d: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """``text`` cut with an ellipsis so it stays under its own thumbnail."""
    if d.textlength(text, font=font) <= width:
        return text
    while text and d.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def draw(sweep, cell_size: int = 256) -> Image.Image:
    cols, rows = [], []
    for cell in sweep.cells:
        if column_key(cell) not in cols:
            cols.append(column_key(cell))
        if row_key(cell) not in rows:
            rows.append(row_key(cell))
    at = {(row_key(c), column_key(c)): c for c in sweep.cells}
    font, small = _font(14), _font(12)
    label_w = 200
    header_h = 18 * (1 + max((len(v) for _, v in cols), default=0)) + PAD
    cw, ch = cell_size + PAD, cell_size + CAPTION + PAD
    grid = Image.new("RGB", (label_w + cw * len(cols) + PAD, header_h + ch * len(rows) + PAD), BACKGROUND)
    d = ImageDraw.Draw(grid)
    for j, (model, vary) in enumerate(cols):
        x = label_w + j * cw
        d.text((x, PAD), model, fill=INK, font=font)
        for k, (name, value) in enumerate(vary):
            d.text((x, PAD + 18 * (k + 1)), f"{name}={value}", fill=MUTED, font=small)
    show_repeat = sweep.repeats > 1
    for i, (prompt, repeat) in enumerate(rows):
        y = header_h + i * ch
        lines = textwrap.wrap(prompt, 26)[:8] or [""]
        if show_repeat:
            lines.append(f"repeat {repeat + 1}")
        for k, line in enumerate(lines):
            d.text((PAD, y + k * 17), line, fill=INK if k < len(lines) - show_repeat else MUTED, font=font)
        for j, col in enumerate(cols):
            cell = at.get(((prompt, repeat), col))
            if cell is None:
                continue
            x = label_w + j * cw
            image = cell.image
            if image is not None:
                thumb = image.convert("RGB")
                thumb.thumbnail((cell_size, cell_size))
                grid.paste(thumb, (x + (cell_size - thumb.width) // 2, y + (cell_size - thumb.height) // 2))
            else:
                d.rectangle([x, y, x + cell_size - 1, y + cell_size - 1], fill=EMPTY)
            text, colour = caption(cell)
            d.text((x, y + cell_size + 4), _fit(d, text, font, cell_size), fill=colour, font=font)
    return grid
