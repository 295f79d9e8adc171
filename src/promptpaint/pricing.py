"""What a call costs: normalised usage times the price in force. Nothing here books anything."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from . import registry
from .registry import Model, Price

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Usage:
    """Token counts by direction and modality, as the provider reported them."""

    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_text_tokens: int = 0
    output_image_tokens: int = 0
    thinking_tokens: int = 0
    input_images: int = 0

    @property
    def total_tokens(self) -> int:
        return (self.input_text_tokens + self.input_image_tokens + self.output_text_tokens
                + self.output_image_tokens + self.thinking_tokens)

    def as_dict(self) -> dict:
        return asdict(self)


def cost(usage: Usage, price: Price | None) -> Decimal | None:
    """USD for ``usage`` at ``price``; None when the price is unknown (never a silent $0)."""
    if price is None:
        return None
    # Thinking tokens are billed as text output by Gemini.
    total = (usage.input_text_tokens * price.input_text
             + usage.input_image_tokens * price.input_image
             + (usage.output_text_tokens + usage.thinking_tokens) * price.output_text
             + usage.output_image_tokens * price.output_image) / MILLION
    return tidy(total.quantize(Decimal("0.000000001")))


def tidy(amount: Decimal) -> Decimal:
    """``0.067801000`` -> ``0.067801`` and ``0E-9`` -> ``0``, without normalize()'s ``1E+1``."""
    text = format(amount, "f")
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


def _size_pixels(params: dict) -> int:
    size = params.get("size") or "1024x1024"
    try:
        w, h = (int(x) for x in str(size).split("x"))
    except ValueError:  # "auto"
        w, h = 1536, 1024
    return w * h


def estimate_usage(model: Model, prompt: str, params: dict, input_images: int = 0) -> Usage:
    """A worst-case usage for a call not yet made: what a budget reserves."""
    est = registry.estimates()
    text = max(1, len(prompt) // est["chars_per_token"] + 1)
    n = int(params.get("n") or 1)
    if model.provider == "openai":
        per_1024 = est["openai_output_tokens_1024"][params.get("quality") or "auto"]
        out_image = int(per_1024 * _size_pixels(params) / (1024 * 1024) + 0.5) * n
        return Usage(input_text_tokens=text,
                     input_image_tokens=input_images * est["openai_input_image_tokens"],
                     output_image_tokens=out_image, input_images=input_images)
    if model.provider == "gemini":
        sizes = model.output_image_tokens or {"1K": 1290}
        out_image = sizes.get(params.get("image_size") or "1K", max(sizes.values()))
        return Usage(input_text_tokens=text,
                     input_image_tokens=input_images * est["gemini_input_image_tokens"],
                     output_text_tokens=200, output_image_tokens=out_image * n,
                     input_images=input_images)
    return Usage(input_text_tokens=text, input_images=input_images)


def estimate(model: Model, price: Price | None, prompt: str, params: dict,
             input_images: int = 0) -> Decimal | None:
    return cost(estimate_usage(model, prompt, params, input_images), price)
