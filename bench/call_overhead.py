"""Per-call overhead of ``Client.generate`` against the local fake (zero latency), both providers.

Compared with (a) a bare ``requests.Session.post`` of the same JSON body + ``resp.json()`` +
base64 decode, the floor for any Python client, and (b) the official SDKs (``openai``,
``google-genai``) doing the same call + decode. promptpaint does more per call: parameter
validation, a ledger reserve and settle (SQLite, WAL), a store write (fsync + rename) and
pricing. A second, instrumented pass splits its time into those parts.

Every round uses a fresh prompt (so promptpaint's store really writes a new file) and first
asks the fake for that prompt once, untimed, so the fake's image render is cached and costs
every variant the same. Variants run interleaved, in rotating order.

    python bench/call_overhead.py
"""

from __future__ import annotations

import base64
import os
import statistics
import time
import warnings

from _setup import isolate  # noqa: E402

isolate()

import requests  # noqa: E402
from fakes import GEMINI_KEY, OPENAI_KEY, FakeProviders  # noqa: E402

import promptpaint as pp  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "60"))
WARMUP = 5
GEMINI_MODEL = "gemini-3.1-flash-image"


def ms(xs):
    return statistics.median(xs) * 1000


def main() -> None:
    try:
        import openai
    except ImportError:
        openai = None
    try:
        from google import genai
        from google.genai import types as gtypes
    except ImportError:
        genai = None

    with FakeProviders() as fake:
        fake.latency = 0.0
        session = requests.Session()
        oa_url = fake.openai_base + "/images/generations"
        gm_url = f"{fake.gemini_base}/v1beta/models/{GEMINI_MODEL}:generateContent"

        def oa_body(p):
            return {"model": "gpt-image-2", "prompt": p, "size": "1024x1024"}

        def gm_body(p):
            return {"contents": [{"role": "user", "parts": [{"text": p}]}],
                    "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                                         "imageConfig": {"aspectRatio": "1:1", "imageSize": "512"}}}

        def bare_openai(p):
            r = session.post(oa_url, json=oa_body(p), headers={"Authorization": f"Bearer {OPENAI_KEY}"},
                             timeout=30)
            r.raise_for_status()
            return [base64.b64decode(d["b64_json"]) for d in r.json()["data"]]

        def bare_gemini(p):
            r = session.post(gm_url, json=gm_body(p), headers={"x-goog-api-key": GEMINI_KEY}, timeout=30)
            r.raise_for_status()
            parts = r.json()["candidates"][0]["content"]["parts"]
            return [base64.b64decode(x["inlineData"]["data"]) for x in parts if "inlineData" in x]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp_oa = pp.Client("openai", api_key=OPENAI_KEY, base_url=fake.openai_base)
            pp_gm = pp.Client("gemini", model=GEMINI_MODEL, api_key=GEMINI_KEY, base_url=fake.gemini_base)

        variants = {
            "openai": {
                "requests.post + b64": bare_openai,
                "promptpaint": lambda p: pp_oa.generate(p, size="1024x1024"),
            },
            "gemini": {
                "requests.post + b64": bare_gemini,
                "promptpaint": lambda p: pp_gm.generate(p, aspect_ratio="1:1", image_size="512"),
            },
        }
        if openai is not None:
            oa_sdk = openai.OpenAI(base_url=fake.openai_base, api_key=OPENAI_KEY, max_retries=0)

            def sdk_openai(p):
                res = oa_sdk.images.generate(model="gpt-image-2", prompt=p, size="1024x1024")
                return [base64.b64decode(d.b64_json) for d in res.data]

            variants["openai"]["openai SDK + b64"] = sdk_openai
        if genai is not None:
            gm_sdk = genai.Client(api_key=GEMINI_KEY, http_options=gtypes.HttpOptions(
                base_url=fake.gemini_base, api_version="v1beta"))
            gm_cfg = gtypes.GenerateContentConfig(
                response_modalities=["TEXT", "IMAGE"],
                image_config=gtypes.ImageConfig(aspect_ratio="1:1", image_size="512"))

            def sdk_gemini(p):
                res = gm_sdk.models.generate_content(model=GEMINI_MODEL, contents=p, config=gm_cfg)
                # the SDK already decodes inline data to bytes
                return [x.inline_data.data for x in res.candidates[0].content.parts if x.inline_data]

            variants["gemini"]["google-genai SDK"] = sdk_gemini

        warm = {"openai": bare_openai, "gemini": bare_gemini}
        results = {}
        for prov, vs in variants.items():
            names = list(vs)
            times = {n: [] for n in names}
            for i in range(WARMUP + ROUNDS):
                prompt = f"bench {prov} prompt {i} {time.time_ns()}"
                warm[prov](prompt)  # the fake renders and caches this prompt's image
                k = i % len(names)
                for n in names[k:] + names[:k]:
                    t0 = time.perf_counter()
                    out = vs[n](prompt)
                    dt = time.perf_counter() - t0
                    if i >= WARMUP:
                        times[n].append(dt)
                    if not (getattr(out, "ids", None) or (isinstance(out, list) and out and out[0])):
                        raise SystemExit(f"{prov}/{n} returned no image")
            results[prov] = times

        # Instrumented pass: where promptpaint's time goes (wrappers add ~1 µs per call).
        breakdown = {}
        for prov, client, call in (("openai", pp_oa, variants["openai"]["promptpaint"]),
                                   ("gemini", pp_gm, variants["gemini"]["promptpaint"])):
            parts = {"HTTP + JSON + b64 (provider.send)": [], "store.put (write+fsync)": [],
                     "ledger.reserve": [], "ledger.settle": []}
            acc = {}

            def wrap(label, fn):
                def inner(*a, **kw):
                    t0 = time.perf_counter()
                    try:
                        return fn(*a, **kw)
                    finally:
                        acc[label] = acc.get(label, 0.0) + time.perf_counter() - t0
                return inner

            led, store, prov_obj = client.ledger, client.store, client._provider
            led.reserve = wrap("ledger.reserve", led.reserve)
            led.settle = wrap("ledger.settle", led.settle)
            store.put = wrap("store.put (write+fsync)", store.put)
            prov_obj.send = wrap("HTTP + JSON + b64 (provider.send)", prov_obj.send)
            totals = []
            try:
                for i in range(WARMUP + ROUNDS // 2):
                    prompt = f"bench breakdown {prov} {i} {time.time_ns()}"
                    warm[prov](prompt)
                    acc.clear()
                    t0 = time.perf_counter()
                    call(prompt)
                    dt = time.perf_counter() - t0
                    if i >= WARMUP:
                        totals.append(dt)
                        for k in parts:
                            parts[k].append(acc.get(k, 0.0))
            finally:
                del led.reserve, led.settle, store.put, prov_obj.send  # back to the class methods
            rest = [tot - sum(parts[k][j] for k in parts) for j, tot in enumerate(totals)]
            parts["everything else (validate, price, Result)"] = rest
            breakdown[prov] = (totals, parts)

    print(f"call_overhead: Client.generate vs bare requests and the official SDKs "
          f"(fake server, latency 0, medians of {ROUNDS} calls after {WARMUP} warm-up)")
    print("  fresh prompt per round, its render cached by the fake")
    print("  openai: gpt-image-2, 1024x1024 PNG;  gemini: gemini-3.1-flash-image, 1:1, image_size 512")
    print()
    print(f"  {'provider':<8} {'variant':<22} {'median ms':>10} {'x bare':>8} {'promptpaint x this':>19}")
    for prov, times in results.items():
        bare = ms(times["requests.post + b64"])
        ppm = ms(times["promptpaint"])
        for n, xs in times.items():
            m = ms(xs)
            print(f"  {prov:<8} {n:<22} {m:>10.2f} {m / bare:>8.2f} {ppm / m:>19.2f}")
        print(f"  {prov:<8} {'promptpaint - bare':<22} {ppm - bare:>10.2f} ms extra per call")
    print()
    print(f"  promptpaint breakdown (instrumented pass, medians of {ROUNDS // 2} calls; parts need not sum)")
    for prov, (totals, parts) in breakdown.items():
        print(f"  {prov:<8} {'total':<44} {ms(totals):>8.2f} ms")
        for k, xs in parts.items():
            print(f"  {'':<8} {k:<44} {ms(xs):>8.2f} ms")


if __name__ == "__main__":
    main()
