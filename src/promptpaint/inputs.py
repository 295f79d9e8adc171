"""A call's inputs checked and encoded: every error here comes before any spending.

The prompt, the parameters against the model, input images as bytes (or a URI the provider
fetches itself), the mask as an "L" plane at the image's size, markup as a layer (or drawn onto
the image for a model that does not take it), and how many previews to stream.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from . import images, markup, masks, registry
from .errors import InvalidRequest
from .providers import Call, FileRef, Provider, all_providers
from .registry import Model
from .store import encode_png


def input_bytes(value, provider: Provider):
    """An input image as encoded bytes (or a FileRef for a URI the provider fetches itself)."""
    if isinstance(value, FileRef):
        return value
    if isinstance(value, str) and value.startswith(("gs://", "https://", "http://")):
        if not provider.takes_uris:
            takers = " and ".join(p.label for p in all_providers() if p.takes_uris)
            raise InvalidRequest(f"Only {takers} takes image URIs; pass the image itself.", param="image")
        mime = "image/jpeg" if value.lower().endswith((".jpg", ".jpeg")) else "image/png"
        return FileRef(value, mime)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise InvalidRequest(f"No image file at {path}.", param="image")
        data = path.read_bytes()
    else:
        return encode_png(images.rgb_or_rgba(masks.to_image(value)))
    im = images.open_image(data, load=False)  # PNG/JPEG/WebP/GIF within the size limits, or an error
    if im.format == "GIF" or im.mode not in ("RGB", "RGBA"):
        # Neither provider takes GIF, and palette or CMYK pixels surprise them: send plain PNG.
        im.load()
        return encode_png(images.rgb_or_rgba(im))
    return data


def image_size(data) -> tuple[int, int] | None:
    """Pixel size from the header only (no decode); None for a URI."""
    if not isinstance(data, bytes):
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None


def previews(model: Model, on_partial, partial_images) -> int:
    """How many previews to stream: none without a callback to show them."""
    if partial_images is None:
        return min(2, model.previews) if on_partial is not None else 0
    if on_partial is None and partial_images:
        raise InvalidRequest("partial_images needs on_partial=fn to receive the previews "
                             "(fn(image, index) gets each one).", param="partial_images")
    if isinstance(partial_images, bool) or not isinstance(partial_images, int) or partial_images < 0:
        raise InvalidRequest(f"partial_images must be a whole number from 0 to "
                             f"{max(model.previews, 0)}.", param="partial_images")
    if partial_images > model.previews:
        limit = (f"at most {model.previews}" if model.previews else "none: it does not stream")
        raise InvalidRequest(f"{model.id} sends {limit} previews; partial_images={partial_images} "
                             "is too many.", param="partial_images")
    return partial_images


def prepare(model: Model, provider: Provider, kind: str, prompt, inputs, mask, params: dict, history,
            preserve_unmasked, markup_layer=None, n_previews: int = 0):
    """The checked, encoded ``Call``; the source image and whether to paste it back outside the mask."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("The prompt is empty: say what to draw or change.", param="prompt")
    registry.check_lifecycle(model, warn=False)  # warned once, when the Client was made
    checked = registry.validate_params(model, params, kind="generate" if kind == "generate" else "edit")
    if not isinstance(inputs, (list, tuple)):
        raise InvalidRequest("images= takes a list of images: images=[a, b].", param="images")
    # A provider that takes masks as an instruction sends the mask as one more image.
    sent = len(inputs) + (mask is not None and provider.masks_by_instruction)
    if sent > model.max_input_images:
        mask_too = " (the mask counts as one)" if mask is not None and provider.masks_by_instruction else ""
        raise InvalidRequest(f"{model.id} takes at most {model.max_input_images} input images; this call "
                             f"has {sent}{mask_too}. Remove {sent - model.max_input_images} reference "
                             "image(s) or pick a model that takes more.", param="images")
    if checked.get("output_format") in ("gif", "svg"):
        n_previews = 0  # OpenAI streams no previews of an animation or a drawing
        if mask is not None:
            raise InvalidRequest(f"output_format={checked['output_format']!r} cannot be used with a mask: "
                                 "edit as png, then ask for the GIF or SVG.", param="mask")
    encoded = [input_bytes(v, provider) for v in inputs]
    source = mask_l = None
    if mask is not None:
        if not encoded or isinstance(encoded[0], FileRef):
            raise InvalidRequest("A mask needs the image itself as the first input.", param="mask")
        source = masks.to_image(encoded[0])
        mask_l = masks.normalise(mask, source.size)
        if masks.is_empty(mask_l):
            raise InvalidRequest("The mask is empty: paint the area to change, or edit without a mask.",
                                 param="mask")
    preserve = mask_l is not None and preserve_unmasked is not False
    strokes = None
    if markup_layer is not None:
        if mask is not None:
            raise InvalidRequest("Use either a mask (where to change) or markup (what to draw), "
                                 "not both in one edit.", param="markup")
        if not encoded or isinstance(encoded[0], FileRef):
            raise InvalidRequest("Markup needs the image itself as the first input.", param="markup")
        strokes = markup.layer(markup_layer, masks.to_image(encoded[0]).size)
        if not model.takes_markup:
            # No markup input: draw the strokes onto the picture and say what they mean.
            encoded[0] = markup.composite(encoded[0], strokes)
            prompt, strokes = markup.with_instruction(prompt), None
    call = Call(kind=kind, prompt=prompt, params=checked, images=encoded, mask=mask_l,
                history=history or [], markup=strokes, previews=n_previews)
    return call, source, preserve
