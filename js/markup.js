import { h, listen } from "./dom.js";
import { createBrush } from "./brush.js";
import { findModel } from "./models.js";
import { createPngSender } from "./pngsender.js";
import { messages, subscribe } from "./sync.js";
import { createUiState } from "./ui.js";

export const COLOURS = [
  { name: "Red", rgb: [230, 30, 40] },
  { name: "Yellow", rgb: [250, 210, 20] },
  { name: "Blue", rgb: [30, 110, 240] },
  { name: "White", rgb: [255, 255, 255] },
];

/** What Edit does with the strokes for a model, in words, from `models[].markup`. */
export function markupNote(models = [], modelId = "") {
  const m = findModel(models, modelId);
  if (!m) return "";
  return m.markup
    ? "Sent to the model as a markup layer (not with a mask)."
    : "Drawn onto the image, with an instruction not to copy the strokes.";
}

/**
 * Markup: strokes that say *what* to draw, on their own layer over the image (never mixed into
 * the mask), with a few colours, their own size, undo and "Clear markup". Each finished change
 * sends `{"kind": "markup"}` with the layer as a transparent PNG at the image's size (no buffer:
 * cleared). While Markup is on, the mask brush takes no strokes.
 */
export function createMarkup({ model, frame, img, maskCanvas, toolbar, report = () => {}, ui = createUiState() }) {
  const canvas = h("canvas", { class: "pp-markup", "aria-label": "Markup" });
  frame.append(canvas);
  let colour = COLOURS[0];
  const sender = createPngSender(model, messages.markup, (err) => report(`Could not send the markup: ${err.message}`));

  const toggle = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-pressed": "false", title: "Markup: draw what to add, on a layer of its own" }, "Markup");
  const swatches = COLOURS.map((c) =>
    h("button", { type: "button", class: "pp-swatch", "aria-label": c.name, "aria-pressed": String(c === colour), title: c.name, style: `background: rgb(${c.rgb.join(",")})` }),
  );
  const size = h("input", { type: "range", min: 2, max: 80, value: 8, "aria-label": "Markup size" });
  const undo = h("button", { type: "button", class: "pp-btn pp-btn-small" }, "Undo markup");
  const clear = h("button", { type: "button", class: "pp-btn pp-btn-small" }, "Clear markup");
  const note = h("span", { class: "pp-markup-note" });
  const tools = h("div", { class: "pp-group pp-markup-tools", hidden: true }, ...swatches, size, undo, clear, note);
  const el = h("div", { class: "pp-markup-bar" }, toggle, tools);
  toolbar?.after(el);

  const brush = createBrush({
    canvas,
    onCommit: (blob) => sender.commit(blob),
    onState: render,
    paint: () => colour.rgb,
    keepColours: true,
  });
  brush.setSize(8);

  function render() {
    const on = Boolean(ui.get("markup")); // UI-only: whether strokes go to the markup layer
    toggle.setAttribute("aria-pressed", String(on));
    tools.hidden = !on;
    canvas.style.pointerEvents = on ? "auto" : "none";
    if (maskCanvas) maskCanvas.style.pointerEvents = on ? "none" : "";
    for (const [i, s] of swatches.entries()) s.setAttribute("aria-pressed", String(COLOURS[i] === colour));
    undo.disabled = !brush.canUndo;
    clear.disabled = !brush.hasMask;
    note.textContent = markupNote(model.get("models") || [], model.get("model"));
  }

  function fit() {
    if (!img.naturalWidth) return;
    if (canvas.width !== img.naturalWidth || canvas.height !== img.naturalHeight) brush.reset(img.naturalWidth, img.naturalHeight);
    brush.setEnabled(true);
  }

  const stops = [
    listen(toggle, { click: () => ui.set("markup", !ui.get("markup")) }),
    ui.on("markup", render),
    listen(img, { load: fit }),
    listen(size, { input: () => brush.setSize(size.value) }),
    listen(undo, { click: () => brush.undo() }),
    listen(clear, { click: () => brush.clear() }),
    ...swatches.map((s, i) => listen(s, { click: () => { colour = COLOURS[i]; render(); } })),
    subscribe(model, {
      "change:image_id": () => {
        sender.invalidate(); // strokes still being encoded belong to the old image
        brush.reset(0, 0); // a new image starts without strokes
      },
      "change:model": render,
      "change:models": render,
    }),
  ];
  render();

  return {
    el,
    canvas,
    brush,
    dispose() {
      for (const stop of stops) stop();
      brush.dispose();
      canvas.remove();
      el.remove();
    },
  };
}
