import { h, listen } from "./dom.js";

const quoted = (text) => `‘${String(text).replace(/\s+/g, " ").trim()}’`;

/**
 * "Use this prompt": a card or grid cell clicked while the box holds the student's own text
 * offers its prompt here instead of overwriting that text. UI-only state (`ui`, key "offer").
 * Using it, dismissing it, or typing that same text makes it go away.
 */
export function createPromptOffer({ ui, controls }) {
  const text = h("span", { class: "pp-offer-text" });
  const use = h("button", { type: "button", class: "pp-btn pp-btn-small", title: "Replace what is typed with this prompt" }, "Use this prompt");
  const dismiss = h("button", { type: "button", class: "pp-btn pp-btn-quiet pp-btn-small", "aria-label": "Keep what I typed" }, "✕");
  const el = h("div", { class: "pp-offer", role: "status", hidden: true }, text, use, dismiss);

  function render() {
    const offer = ui.get("offer");
    el.hidden = !offer;
    text.textContent = offer ? `#${offer.turn} was made with ${quoted(offer.prompt)}` : "";
    text.title = offer?.prompt ?? "";
  }
  const stops = [
    ui.on("offer", render),
    listen(use, {
      click: () => {
        const offer = ui.get("offer");
        if (offer) controls.usePrompt(offer.prompt);
        ui.set("offer", null);
      },
    }),
    listen(dismiss, { click: () => ui.set("offer", null) }),
    listen(controls.prompt, {
      input: () => ui.get("offer")?.prompt.trim() === controls.prompt.value.trim() && ui.set("offer", null),
    }),
  ];
  render();
  return {
    el,
    dispose() {
      for (const stop of stops) stop();
    },
  };
}
