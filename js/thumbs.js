import { h } from "./dom.js";

/**
 * A thumbnail `<img>` for image `sha` from the image cache: at once when it is loaded, else when
 * its bytes arrive (a failed fetch leaves the empty frame). No `sha`: a placeholder box.
 */
export function thumbnail(cache, sha, className, { empty = "—" } = {}) {
  if (!sha) return h("div", { class: `${className} pp-turn-nothumb` }, empty);
  const img = h("img", { class: className, alt: "" });
  const ready = cache.peek(sha, true);
  if (ready) img.src = ready.url;
  else cache.get(sha, true).then((e) => (img.src = e.url), () => {});
  return img;
}
