"""How the OpenAI Images API judges a request before any work: the JSON body of generations, the
multipart form of edits, and every parameter's type, range and model support, with its 400s."""

from __future__ import annotations

import re
from typing import Any

from .wire import Answer, BadRequest, RecordedRequest, has_alpha, open_image

OPENAI_STANDARD_SIZES = ("1024x1024", "1536x1024", "1024x1536")
OPENAI_GENERATE_PARAMS = frozenset({
    "prompt", "background", "complexity", "frame_count", "frame_duration_ms", "model", "moderation", "n",
    "output_compression", "output_format", "partial_images", "quality", "response_format",
    "safety_identifier", "size", "stream", "style", "svg", "user",
})
OPENAI_EDIT_TEXT_PARAMS = frozenset({
    "prompt", "background", "complexity", "frame_count", "frame_duration_ms", "input_fidelity", "model", "n",
    "output_compression", "output_format", "partial_images", "quality", "response_format",
    "safety_identifier", "size", "stream", "svg[model]", "svg[reasoning][effort]", "user",
})
OPENAI_EDIT_FILE_PARAMS = frozenset({"image", "image[]", "mask", "markup"})
MASK_MAX_BYTES = 4 * 1024 * 1024


def error(status, message, *, type="invalid_request_error", param=None, code=None, headers=None) -> Answer:
    return Answer(status, {"error": {"message": message, "type": type, "param": param, "code": code}},
                  headers=headers)


def flexible_sizes(model: str) -> bool:
    return model.startswith(("gpt-image-2-", "gpt-image-2.5-", "gpt-image-2.6-")) or model == "gpt-image-2"


def extra_qualities(model: str) -> bool:
    return model.startswith(("gpt-image-2.5-", "gpt-image-2.6-"))


def markup_ok(model: str) -> bool:
    return model.startswith(("gpt-image-2.5-", "gpt-image-2.6-"))


def parse_generate(req: RecordedRequest) -> dict:
    ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype.startswith("multipart/"):
        raise BadRequest(error(
            400, f"Invalid Content-Type header ({ctype}), expected application/json."))
    if req.json is None or not isinstance(req.json, dict):
        raise BadRequest(error(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
            "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
            "JSON. If you have trouble figuring out how to fix this, please contact us through our help "
            "center at help.openai.com.)",
        ))
    for k in req.json:
        if k not in OPENAI_GENERATE_PARAMS:
            raise BadRequest(unknown_param(k))
    return dict(req.json)


def unknown_param(k: str) -> Answer:
    return error(400, f"Unknown parameter: '{k}'.", param=k, code="unknown_parameter")


def parse_edit(req: RecordedRequest):
    ctype = req.headers.get("content-type") or ""
    if not ctype.lower().startswith("multipart/form-data"):
        raise BadRequest(error(
            400,
            f"Invalid Content-Type header ({ctype.split(';')[0] or 'none'}), expected multipart/form-data. "
            "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')",
        ))
    if req.multipart_error or not (req.form or req.files):
        raise BadRequest(error(
            400, f"Could not parse multipart form: {req.multipart_error or 'empty body'}"))
    params: dict[str, Any] = {}
    for k, vals in req.form.items():
        if k in OPENAI_EDIT_FILE_PARAMS:
            raise BadRequest(error(
                400, f"Invalid type for '{k.rstrip('[]')}': expected a file, but got a string instead.",
                param=k.rstrip("[]"), code="invalid_type"))
        if k not in OPENAI_EDIT_TEXT_PARAMS:
            raise BadRequest(unknown_param(k))
        params[k] = vals[-1]
    for k in req.files:
        if k not in OPENAI_EDIT_FILE_PARAMS:
            raise BadRequest(unknown_param(k))
    for intkey in ("n", "output_compression", "partial_images", "frame_count", "frame_duration_ms"):
        if intkey in params:
            v = params[intkey]
            if not re.fullmatch(r"-?\d+", v.strip()):
                raise BadRequest(error(
                    400, f"Invalid type for '{intkey}': expected an integer, but got a string instead.",
                    param=intkey, code="invalid_type"))
            params[intkey] = int(v)
    if "stream" in params:
        params["stream"] = params["stream"].strip().lower() == "true"
    uploads = req.files.get("image", []) + req.files.get("image[]", [])
    if not uploads:
        raise BadRequest(error(400, "Missing required parameter: 'image'.", param="image",
                                             code="missing_required_parameter"))
    if len(uploads) > 16:
        raise BadRequest(error(
            400, f"Invalid 'image': array too long. Expected an array with maximum length 16, but got an array "
                 f"with length {len(uploads)} instead.", param="image", code="array_above_max_length"))
    images = []
    for i, (fname, ct, data) in enumerate(uploads):
        img = open_image(data)
        if img is None or img.format not in ("PNG", "JPEG", "WEBP"):
            raise BadRequest(error(
                400, f"Invalid image file or mode for image {i + 1}, please check your image file.",
                param="image", code="invalid_image_format"))
        if len(data) > 50 * 1024 * 1024:
            raise BadRequest(error(400, f"Image {i + 1} is larger than 50 MB.", param="image",
                                                 code="image_too_large"))
        images.append(img)
    mask = markup = None
    if "mask" in req.files:
        if len(req.files["mask"]) != 1:
            raise BadRequest(error(400, "Only one 'mask' may be provided.", param="mask"))
        mdata = req.files["mask"][0][2]
        mimg = open_image(mdata)
        if mimg is None or mimg.format != "PNG" or not has_alpha(mimg):
            raise BadRequest(error(
                400, "Invalid mask image format - mask image missing alpha channel", param="mask",
                code="invalid_mask_image_format"))
        if len(mdata) >= MASK_MAX_BYTES:
            raise BadRequest(error(
                400, "Invalid 'mask': the mask image must be less than 4 MB.", param="mask",
                code="image_too_large"))
        if mimg.size != images[0].size:
            raise BadRequest(error(
                400,
                "Invalid mask image: the mask and the image must have the same dimensions "
                f"(mask is {mimg.size[0]}x{mimg.size[1]}, image is {images[0].size[0]}x{images[0].size[1]}).",
                param="mask", code="invalid_value"))
        mask = mimg
    if "markup" in req.files:
        kdata = req.files["markup"][0][2]
        kimg = open_image(kdata)
        if kimg is None or kimg.format != "PNG" or not has_alpha(kimg):
            raise BadRequest(error(
                400, "Invalid markup image format - markup must be a transparent PNG", param="markup",
                code="invalid_value"))
        if kimg.size != images[0].size:
            raise BadRequest(error(
                400, "Invalid markup image: the markup and the first image must have the same dimensions.",
                param="markup", code="invalid_value"))
        markup = kimg
    return params, images, mask, markup


# The authoring models output_format=svg takes (svg.model), and the effort levels of its reasoning.
SVG_MODELS = ("gpt-5.1", "gpt-5.1-mini")
SVG_EFFORTS = ("minimal", "low", "medium", "high")


def svg_options(p: dict, output_format: str, n: int, E) -> dict | None:
    """``svg: {model, reasoning: {effort}}`` (JSON) or ``svg[model]`` / ``svg[reasoning][effort]``
    (multipart), only with output_format=svg, which makes one image per call."""
    given = p.get("svg")
    if isinstance(given, str):  # a form field sent as JSON text
        raise E("Invalid type for 'svg': expected an object.", "svg", "invalid_type")
    svg = dict(given or {})
    if "svg[model]" in p:
        svg["model"] = p["svg[model]"]
    if "svg[reasoning][effort]" in p:
        svg["reasoning"] = {"effort": p["svg[reasoning][effort]"]}
    if output_format != "svg":
        if svg:
            raise E("'svg' is only supported with output_format=svg.", "svg", None)
        return None
    if n != 1:
        raise E("output_format=svg supports n=1 only.", "n", None)
    model = svg.get("model", SVG_MODELS[0])
    if model not in SVG_MODELS:
        raise E(f"Invalid value: '{model}'. Supported values are: " + ", ".join(f"'{m}'" for m in SVG_MODELS)
                + ".", "svg.model")
    effort = (svg.get("reasoning") or {}).get("effort", "medium")
    if effort not in SVG_EFFORTS:
        raise E(f"Invalid value: '{effort}'. Supported values are: " + ", ".join(f"'{e}'" for e in SVG_EFFORTS)
                + ".", "svg.reasoning.effort")
    return {"model": model, "effort": effort}


def validate(p: dict, images: list, mask, markup, *, edit: bool, models, preview_access: bool = True) -> dict:
    E = lambda msg, param, code="invalid_value": BadRequest(error(400, msg, param=param, code=code))  # noqa: E731
    model = p.get("model")
    if model is None or model == "":
        raise E("you must provide a model parameter", "model", None)
    if not isinstance(model, str):
        raise E("Invalid type for 'model': expected a string.", "model", "invalid_type")
    if model not in models:
        raise BadRequest(error(
            404, f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found"))
    for legacy in ("response_format", "style"):
        if legacy in p:
            raise BadRequest(unknown_param(legacy))
    prompt = p.get("prompt")
    if prompt is None:
        raise E("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    if not isinstance(prompt, str):
        raise E("Invalid type for 'prompt': expected a string.", "prompt", "invalid_type")
    if len(prompt) > 32000:
        raise E(f"Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got a "
                f"string with length {len(prompt)} instead.", "prompt", "string_above_max_length")
    if prompt == "":
        raise E("Invalid 'prompt': empty string. Expected a string with minimum length 1.", "prompt",
                "empty_string")

    def int_param(name, lo, hi, default):
        v = p.get(name, default)
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            raise E(f"Invalid type for '{name}': expected an integer, but got a {type(v).__name__} instead.",
                    name, "invalid_type")
        if v < lo:
            raise E(f"Invalid '{name}': integer below minimum value. Expected a value >= {lo}, but got {v} "
                    "instead.", name, "integer_below_min_value")
        if v > hi:
            raise E(f"Invalid '{name}': integer above maximum value. Expected a value <= {hi}, but got {v} "
                    "instead.", name, "integer_above_max_value")
        return v

    def enum_param(name, allowed, default):
        v = p.get(name, default)
        if v is None:
            return default
        if v not in allowed:
            quoted = [f"'{a}'" for a in allowed]
            listing = ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]
            raise E(f"Invalid value: '{v}'. Supported values are: {listing}.", name)
        return v

    n = int_param("n", 1, 10, 1)
    qualities = ["low", "medium", "high", "auto"] + (["xhigh", "max"] if extra_qualities(model) else [])
    quality = enum_param("quality", qualities, "auto")
    output_format = p.get("output_format") or "png"
    preview = model.startswith("gpt-image-2.6") and preview_access
    if output_format in ("gif", "svg") and not preview:
        raise E(f"output_format '{output_format}' requires preview access for model {model}.",
                "output_format", None)
    output_format = enum_param("output_format", ["png", "jpeg", "webp"] + (["gif", "svg"] if preview else []), "png")
    background = enum_param("background", ["transparent", "opaque", "auto"], "auto")
    if background == "transparent" and output_format == "jpeg":
        raise E("Transparent background is not supported for the jpeg output format. Use png or webp.",
                "background", None)
    compression = int_param("output_compression", 0, 100, 100)
    if p.get("output_compression") is not None and output_format == "png" and compression != 100:
        raise E("Compression less than 100 is not supported for PNG output format.", "output_compression", None)
    if not edit:
        enum_param("moderation", ["low", "auto"], "auto")
    complexity = enum_param("complexity", ["low", "medium", "high"], None)
    if complexity is not None and not model.startswith("gpt-image-2.6"):
        raise E(f"'complexity' is not supported for model {model}.", "complexity", None)
    int_param("partial_images", 0, 3, 0)
    frames, duration = 1, None
    if output_format == "gif":
        frames = int_param("frame_count", 2, 16, 9)
        duration = int_param("frame_duration_ms", 20, 10000, 200)
        for k, why in (("stream", p.get("stream")), ("mask", mask is not None),
                       ("output_compression", p.get("output_compression") is not None)):
            if why:
                raise E(f"'{k}' is not supported with output_format=gif.", k, None)
    else:
        for k in ("frame_count", "frame_duration_ms"):
            if p.get(k) is not None:
                raise E(f"'{k}' is only supported with output_format=gif.", k, None)
    svg = svg_options(p, output_format, n, E)
    for k in ("user", "safety_identifier"):
        if p.get(k) is not None and not isinstance(p[k], str):
            raise E(f"Invalid type for '{k}': expected a string.", k, "invalid_type")
    if edit and "input_fidelity" in p:
        if model.startswith("gpt-image-2") and not model.startswith(("gpt-image-2.5", "gpt-image-2.6")):
            raise E(f"input_fidelity is not supported for model {model}.", "input_fidelity", None)
        enum_param("input_fidelity", ["high", "low"], None)
    if markup is not None:
        if not markup_ok(model):
            raise E(f"'markup' is not supported for model {model}.", "markup", None)
        if mask is not None:
            raise E("'markup' cannot be combined with 'mask'.", "markup", None)
    stream = p.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise E("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")

    # size
    size = p.get("size") or "auto"
    if size == "auto":
        w, h = images[0].size if (edit and images) else (1024, 1024)
    elif size in OPENAI_STANDARD_SIZES:
        w, h = (int(x) for x in size.split("x"))
    else:
        m = re.fullmatch(r"(\d+)x(\d+)", str(size))
        if not flexible_sizes(model) or not m:
            raise E(f"Invalid value: '{size}'. Supported values are: '1024x1024', '1024x1536', '1536x1024', "
                    "and 'auto'.", "size")
        w, h = int(m.group(1)), int(m.group(2))
        problem = None
        if w % 16 or h % 16 or w <= 0 or h <= 0:
            problem = "width and height must both be divisible by 16"
        elif max(w, h) > 3 * min(w, h):
            problem = "the aspect ratio must be between 1:3 and 3:1"
        elif max(w, h) > 3840 or min(w, h) > 2160:
            problem = "the maximum supported resolution is 3840x2160"
        if problem:
            raise E(f"Invalid size '{size}': {problem}.", "size")
    return {"model": model, "n": n, "quality": quality, "output_format": output_format,
            "background": background, "compression": compression, "w": w, "h": h,
            "stream": bool(stream), "partial_images": p.get("partial_images") or 0, "prompt": prompt,
            "complexity": complexity, "frames": frames, "frame_duration_ms": duration, "svg": svg}
