import { h, listen } from "./dom.js";
import { currentModel } from "./models.js";
import { asBytes, onMessage, setTraits, subscribe } from "./sync.js";

/**
 * Streamed previews: the kernel sends `{"kind": "preview", label, mime}` with the draft's bytes
 * while a call runs. The newest is shown over the viewer's stage with its label ("preview 1 of
 * 2"); the call ending (status back to idle) or a new image removes it, so the final image
 * replaces it. Previews are never cached or stored. Also owns the "Previews" setting.
 */
export function createPreviews({ model, stage, createURL = (b) => URL.createObjectURL(b), revokeURL = (u) => URL.revokeObjectURL(u) }) {
  const img = h("img", { class: "pp-preview-image", alt: "Preview of the image being made" });
  const label = h("figcaption", { class: "pp-preview-label", role: "status", "aria-live": "polite" });
  const figure = h("figure", { class: "pp-preview", hidden: true }, img, label);
  stage?.append(figure);
  let url = null;

  const box = h("input", { type: "checkbox", class: "pp-previews-box" });
  const setting = h("label", { class: "pp-previews-setting", title: "Show drafts while the model works (OpenAI bills about 100 tokens for each)" }, box, " Previews");

  function clear() {
    figure.hidden = true;
    label.textContent = "";
    img.removeAttribute("src");
    if (url) revokeURL(url);
    url = null;
  }

  function show(content, buffers) {
    if (content.kind !== "preview" || !buffers.length) return;
    if (model.get("status") !== "running") return; // a late draft of a call that already ended
    const next = createURL(new Blob([asBytes(buffers[0])], { type: content.mime || "image/jpeg" }));
    if (url) revokeURL(url);
    url = next;
    img.src = url;
    label.textContent = content.label || `preview ${content.index + 1} of ${content.total}`;
    figure.hidden = false;
  }

  function renderSetting() {
    box.checked = model.get("previews") !== false;
    const m = currentModel(model);
    setting.hidden = !m || !m.previews;
  }

  const stops = [
    onMessage(model, show),
    subscribe(model, {
      "change:status": () => {
        if (model.get("status") !== "running") clear();
      },
      "change:image_id": clear,
      "change:previews": renderSetting,
      "change:model": renderSetting,
      "change:models": renderSetting,
    }),
    listen(box, { change: () => setTraits(model, { previews: box.checked }) }),
  ];
  renderSetting();

  return {
    figure,
    setting,
    dispose() {
      for (const stop of stops) stop();
      clear();
      figure.remove();
    },
  };
}
