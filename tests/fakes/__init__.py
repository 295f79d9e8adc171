"""A strict local fake of the OpenAI Images API and the Gemini generateContent API (and their
Batch APIs), split like the product: one module per provider, each owning its wire format and bill.

    server.py      FakeProviders: one local HTTP server, routing, records, fault queues, bills
    wire.py        the recorded request, the answer, multipart and base64 parsing
    base.py        ProviderFake: what both providers share (faults that break any answer, the bill)
    images.py      the picture a prompt makes, its streamed drafts, token estimates
    openai.py      OpenAI Images API answers, usage, prices, faults, SSE events
    openai_params.py  how OpenAI judges a request (400s)
    gemini.py      Gemini generateContent answers, usageMetadata, thinking, prices, faults, SSE chunks
    gemini_params.py  how Gemini judges a request (400s), thought signatures
    streams.py     streamed answers: delays between events, mid-stream faults, chunked writing
    batches.py     the Batch APIs' jobs and clock; batches_openai.py / batches_gemini.py their routes

It is the judge of promptpaint's clients, not a mirror of them: it validates requests the way
the real services do (as far as their documentation and the official SDKs show), answers in
their wire formats, and injects their faults on demand.

    from fakes import FakeProviders, OPENAI_KEY, GEMINI_KEY
    with FakeProviders() as fake:
        fake.openai_base   # "http://127.0.0.1:PORT/v1"  (OPENAI_BASE_URL)
        fake.gemini_base   # "http://127.0.0.1:PORT"     (GOOGLE_GEMINI_BASE_URL)
        fake.fault("openai", "rate_limit", retry_after_ms=20)
        ...
        fake.requests      # list[RecordedRequest]

Request processing order for each request to a provider route:
  1. record the request;  2. pop ONE queued fault for that provider (FIFO), if any;
  3. an ``auth`` fault answers now;  4. the API key is checked (a bad key wins over other faults);
  5. a ``slow`` fault sleeps;  6. "transport/HTTP" faults answer now (rate limits,
  server errors, non_json, truncated, status, org_unverified, permission, ...);
  7. the request is validated (400/404 like the real API);  8. "outcome" faults answer now
  (openai ``moderation``; gemini ``image_safety``, ``blocked``, ``text_only``);  9. success.
``fake.latency`` seconds are slept before EVERY answer (errors included).
A queued fault is consumed by the request even when that request fails earlier (bad key, 400).
"""

from .base import ODD_USAGE, Bill
from .gemini import DEFAULT_GEMINI_USAGE, GEMINI_FAULTS, GEMINI_KEY
from .images import colour_for, marker_colour, render_image, text_tokens
from .openai import DEFAULT_OPENAI_USAGE, OPENAI_FAULTS, OPENAI_KEY
from .server import FakeProviders
from .wire import CaseInsensitiveDict, RecordedRequest

__all__ = [
    "FakeProviders", "RecordedRequest", "CaseInsensitiveDict", "OPENAI_KEY", "GEMINI_KEY", "colour_for",
    "marker_colour", "render_image", "text_tokens", "OPENAI_FAULTS", "GEMINI_FAULTS", "DEFAULT_OPENAI_USAGE",
    "DEFAULT_GEMINI_USAGE", "Bill", "ODD_USAGE",
]
