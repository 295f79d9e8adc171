"""What a call costs: normalised usage times the price in force, and the most a call not yet made
can cost (what a budget reserves). Nothing here books anything."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from decimal import ROUND_CEILING, Decimal

from .errors import Unbounded, UntrustedUsage  # noqa: F401  (defined in errors.py; old import path)
from .money import NANO, tidy  # noqa: F401  (tidy: old import path)
from .registry import Model, Price, worst_cases

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Usage:
    """Token counts by direction and modality, as the provider reported them.

    ``input_*_tokens`` are the uncached part; cached tokens are counted apart because they bill
    at the cached rate.
    """

    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_text_tokens: int = 0
    output_image_tokens: int = 0
    thinking_tokens: int = 0
    input_images: int = 0
    cached_input_text_tokens: int = 0
    cached_input_image_tokens: int = 0
    tool_use_tokens: int = 0       # Gemini toolUsePromptTokenCount: billed as input
    # A second model's tokens billed on top (gpt-image-2.6's svg_usage), at that model's own prices
    # (models.json "authoring_prices"): output includes its reasoning tokens.
    authoring_model: str = ""
    authoring_input_tokens: int = 0
    authoring_output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return (self.input_text_tokens + self.input_image_tokens + self.output_text_tokens
                + self.output_image_tokens + self.thinking_tokens + self.cached_input_text_tokens
                + self.cached_input_image_tokens + self.tool_use_tokens)

    def as_dict(self) -> dict:
        return asdict(self)


def authoring_price(model_id: str, day=None) -> tuple[Decimal, Decimal] | None:
    """(input, output) USD per 1M tokens of an authoring model on ``day``; None if not on file."""
    from . import clock, registry

    day = day or clock.today()
    for row in registry._data().get("authoring_prices", {}).get(model_id, []):
        start, end = row["from"], row.get("to")
        if start <= day.isoformat() and (end is None or day.isoformat() < end):
            return Decimal(str(row["input_text"])), Decimal(str(row["output_text"]))
    return None


def _authoring_usd(usage: Usage) -> Decimal:
    if not usage.authoring_model:
        return Decimal(0)
    rates = authoring_price(usage.authoring_model)
    if rates is None:
        raise LookupError(usage.authoring_model)
    return usage.authoring_input_tokens * rates[0] + usage.authoring_output_tokens * rates[1]


def _usd(usage: Usage, price: Price) -> Decimal:
    return (_authoring_usd(usage) + (usage.input_text_tokens + usage.tool_use_tokens) * price.input_text
            + usage.cached_input_text_tokens * (price.cached_input_text or price.input_text)
            + usage.input_image_tokens * price.input_image
            + usage.cached_input_image_tokens * (price.cached_input_image or price.input_image)
            # Thinking tokens bill as text output (Gemini).
            + (usage.output_text_tokens + usage.thinking_tokens) * price.output_text
            + usage.output_image_tokens * price.output_image) / MILLION


def cost(usage: Usage, price: Price | None) -> Decimal | None:
    """USD for ``usage`` at ``price``; None when the price is unknown (never a silent $0)."""
    if price is None:
        return None
    try:
        return tidy(_usd(usage, price).quantize(NANO))
    except LookupError:  # an authoring model with no price on file: unknown, never a silent $0
        return None


def prompt_tokens(text: str) -> int:
    """At most one token per UTF-8 byte (characters / 4 undercounts non-Latin text 4x)."""
    return len(text.encode("utf-8")) + worst_cases()["prompt_overhead_tokens"]


def worst_usage(model: Model, prompt: str, params: dict, input_images: int = 0, *,
                history_text: str = "", first_image_size: tuple[int, int] | None = None) -> Usage:
    """The largest usage this call can be billed for, from the model's worst-case table.

    Raises ``Unbounded`` when the registry knows no bound (an unknown model, ``xhigh``...).
    """
    wc = model.worst_case
    if wc is None:
        raise Unbounded(f"promptpaint has no worst-case figures for {model.id}")
    if wc.get("free"):
        return Usage(input_images=input_images)
    from .providers import provider_class  # each provider knows how its output is counted

    output = provider_class(model.provider).worst_output(model, wc, params, first_image_size)
    return Usage(input_text_tokens=prompt_tokens(prompt + history_text),
                 input_image_tokens=input_images * wc["input_image_tokens"],
                 input_images=input_images, **output)


def estimate(model: Model, price: Price | None, prompt: str, params: dict, input_images: int = 0,
             **inputs) -> Decimal | None:
    """The most this call can cost, rounded up; None when the price or a bound is unknown."""
    if price is None:
        return None
    try:
        return most(worst_usage(model, prompt, params, input_images, **inputs), price)
    except Unbounded:
        return None


def most(usage: Usage, price: Price) -> Decimal:
    """``usage`` at ``price``, rounded up to the nano-dollar: a reservation never falls short."""
    try:
        return tidy(_usd(usage, price).quantize(NANO, rounding=ROUND_CEILING))
    except LookupError as exc:
        raise Unbounded(f"no price on file for the authoring model {exc.args[0]}") from None


_NUMBER = re.compile(r"^\s*\d+(\.\d+)?\s*$")
MAX_TOKENS = 100_000_000  # more in one field of one image call is a broken gateway, not a bill


def tokens(data: dict, name: str) -> int:
    """``data[name]`` as a token count: absent is 0, a float rounds up, a numeric string is read;
    null, negative, huge or anything else raises UntrustedUsage."""
    if name not in data:
        return 0
    value = data[name]
    if isinstance(value, str) and _NUMBER.match(value):
        value = float(value) if "." in value else int(value)
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        value = math.ceil(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise UntrustedUsage(f"usage field {name} = {value!r} is not a token count")
    return value
