"""Reservation headroom: what a true worst case costs a user in budget held back.

For typical calls per model (default settings, a short prompt, the fake answering with today's
typical token counts), the ledger's reservation against what the provider billed (the fake's own
bill): sum(reserved) / sum(billed). 1.0 would be a reservation with no slack; a true bound has to
be above it wherever the provider may bill more than usual (quality "auto", Gemini thinking).

    python bench/headroom.py
"""

from __future__ import annotations

import warnings
from decimal import Decimal

from _setup import isolate  # noqa: E402

isolate()

from fakes import GEMINI_KEY, OPENAI_KEY, FakeProviders  # noqa: E402

import promptpaint as pp  # noqa: E402
from promptpaint import registry  # noqa: E402

PROMPTS = ("a red fox in snow", "a lighthouse at dusk, oil painting", "猫の水彩画")
TYPICAL = {
    "openai": [{}, {"quality": "low"}, {"quality": "medium"}, {"quality": "high"},
               {"quality": "medium", "size": "1536x1024"}],
    "gemini": [{}, {"image_size": "2K"}],
}


def main() -> None:
    print(f"{'model':30} {'settings':34} {'calls':>5} {'reserved':>10} {'billed':>10} {'ratio':>6}")
    with FakeProviders() as fake, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in registry.all_models():
            if m.is_retired() or m.provider == "offline":
                continue
            base, key = ((fake.openai_base, OPENAI_KEY) if m.provider == "openai"
                         else (fake.gemini_base, GEMINI_KEY))
            c = pp.Client(m.provider, model=m.id, api_key=key, base_url=base)
            per_model = [Decimal(0), Decimal(0)]
            for params in TYPICAL[m.provider]:
                if "image_size" in params and params["image_size"] not in m.params["image_size"]["choices"]:
                    continue
                reserved = billed = Decimal(0)
                for prompt in PROMPTS:
                    before = fake.bill_total()
                    c.generate(prompt, **params)
                    billed += fake.bill_total() - before
                    reserved += pp.ledger().entries(1)[0]["reserved"]
                per_model[0] += reserved
                per_model[1] += billed
                label = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults (auto)"
                print(f"{m.id:30} {label:34} {len(PROMPTS):5} {reserved:10.4f} {billed:10.4f} "
                      f"{reserved / billed:6.3f}")
            print(f"{m.id:30} {'all of the above':34} {'':5} {per_model[0]:10.4f} {per_model[1]:10.4f} "
                  f"{per_model[0] / per_model[1]:6.3f}")


if __name__ == "__main__":
    main()
