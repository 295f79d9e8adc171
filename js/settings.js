// Which parameters a student sees first, which wait under "More settings", and what each one
// means in one line. Pure data and logic: no DOM, so node tests cover it.

/** Shape and count of the picture: what most calls change. Everything else is "More settings". */
export const PRIMARY = ["size", "aspect_ratio", "image_size", "quality", "n"];

export const TIPS = {
  size: "Width × height in pixels; bigger pictures cost more.",
  aspect_ratio: "Shape of the picture, width:height.",
  image_size: "Resolution (1K, 2K, 4K); bigger costs more.",
  quality: "Detail: low is cheapest and fastest, high costs most, auto lets the model choose.",
  n: "How many pictures one call makes; each one is billed.",
  background: "Transparent gives a see-through background (PNG or WebP); opaque fills it.",
  output_format: "File type of the result: PNG keeps every pixel, JPEG and WebP are smaller.",
  output_compression: "0–100, for JPEG or WebP only: higher means a smaller file and less detail.",
  moderation: "How strict the provider's content filter is: auto (standard) or low.",
  input_fidelity: "Edits only: high keeps faces and fine detail of the input closer, at a higher price.",
  seed: "The same seed and prompt give a similar picture again; empty picks one at random.",
  temperature: "Randomness of sampling: lower is more predictable, higher more varied.",
  top_p: "Sample only from the likeliest choices that add up to this share (0–1).",
};

export function tipFor(spec) {
  return TIPS[spec.name] ?? spec.label ?? spec.name;
}

/** Splits a model's specs into the first-screen ones and the "More settings" ones, order kept. */
export function splitSpecs(specs = []) {
  const primary = [];
  const more = [];
  for (const spec of specs) (PRIMARY.includes(spec.name) ? primary : more).push(spec);
  return { primary, more };
}

/** How many "More settings" differ from their defaults: shown on the closed disclosure. */
export function changedCount(moreSpecs = [], params = {}) {
  let count = 0;
  for (const spec of moreSpecs) {
    const value = params?.[spec.name];
    if (value != null && value !== spec.default) count += 1;
  }
  return count;
}
