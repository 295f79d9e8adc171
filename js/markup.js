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
export function createMarkup({ model, frame, img, maskCanvas, toolbar, toolGroup = null, report = () => {}, ui = createUiState() }) {
  const canvas = h("canvas", { class: "pp-markup", "aria-label": "Markup" });
  frame.append(canvas);
  let colour = COLOURS[0];
  const sender = createPngSender(model, messages.markup, (err) => report(`Could not send the markup: ${err.message}`));

  const toggle = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-pressed": "false", title: "Markup: draw what to add, on a layer of its own; Brush or Eraser ends it (K)" }, "Markup");
  const swatches = COLOURS.map((c) =>
    h("button", { type: "button", class: "pp-swatch", "aria-label": c.name, "aria-pressed": String(c === colour), title: c.name, style: `background: rgb(${c.rgb.join(",")})` }),
  );
  const size = h("input", { type: "range", min: 2, max: 80, value: 8, "aria-label": "Markup size" });
  const sizeValue = h("span", { class: "pp-markup-size-value" }, "8 px");
  const undo = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-label": "Undo markup", title: "Undo markup" }, "Undo");
  const clear = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-label": "Clear markup", title: "Clear markup" }, "Clear");
  // What markup is against a mask, in words on screen (a tooltip is missed by most students).
  const meaning = h("span", { class: "pp-markup-meaning" },
    "Markup shows the model what to add; it is not a mask. Use one or the other: Edit refuses both at once.");
  const note = h("span", { class: "pp-markup-note" });
  const tools = h(
    "div",
    { class: "pp-markup-tools" },
    h("div", { class: "pp-markup-row" },
      h("div", { class: "pp-group pp-swatches", role: "group", "aria-label": "Markup colour" }, ...swatches),
      h("label", { class: "pp-size" }, size, sizeValue),
      h("div", { class: "pp-group" }, undo, clear)),
    h("div", { class: "pp-markup-row" }, meaning, note),
  );
  const el = h("div", { class: "pp-markup-bar", role: "group", "aria-label": "Markup tools", hidden: true }, tools);
  if (toolGroup) toolGroup.append(toggle);
  else el.prepend(toggle);
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
    el.hidden = !on && Boolean(toolGroup);
    tools.hidden = !on;
    sizeValue.textContent = `${brush.size} px`;
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
      toggle.remove();
      el.remove();
    },
  };
}
