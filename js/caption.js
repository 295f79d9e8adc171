import { h } from "./dom.js";
import { subscribe } from "./sync.js";

const quoted = (text) => `‘${String(text).replace(/\s+/g, " ").trim()}’`;

/**
 * What the image shown is and where it came from, so a student never edits the wrong one:
 * "Editing #4 · edit of #1 · ‘give the fox a blue hat’". null when no image is shown.
 */
export function captionFor(turns = [], current = {}) {
  const turn = turns.find((t) => t.id === current?.turn);
  if (!turn) return null;
  const n = turn.images?.length ?? 0;
  const head = `Editing #${turn.id}` + (n > 1 ? ` (image ${(current.index ?? 0) + 1} of ${n})` : "");
  const parts = [];
  if (turn.kind === "upload") parts.push(String(turn.prompt || "uploaded").replace(/^\((.*)\)$/, "$1"));
  else if (turn.kind === "open") parts.push("from Past images", ...(turn.prompt ? [quoted(turn.prompt)] : []));
  else {
    parts.push(turn.kind === "edit" && turn.parent != null ? `edit of #${turn.parent}` : turn.kind === "edit" ? "edit" : "generated");
    if (turn.prompt) parts.push(quoted(turn.prompt));
  }
  if (turn.cancelled) parts.push("cancelled");
  return { head, rest: parts.join(" · "), text: [head, ...parts].join(" · ") };
}

export function createCaption(model) {
  const head = h("strong");
  const rest = h("span");
  const el = h("div", { class: "pp-caption", "aria-live": "polite", hidden: true }, head, rest);

  function render() {
    const caption = captionFor(model.get("turns") || [], model.get("current") || {});
    el.hidden = !caption || !model.get("image_id");
    head.textContent = caption?.head ?? "";
    rest.textContent = caption?.rest ? ` · ${caption.rest}` : "";
    el.title = caption?.text ?? "";
  }
  render();
  const handler = () => render();
  return {
    el,
    dispose: subscribe(model, { "change:turns": handler, "change:current": handler, "change:image_id": handler }),
  };
}
