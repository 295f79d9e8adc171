import css from "./widget.css";
import { h } from "./dom.js";
import { createControls } from "./controls.js";
import { createStatus } from "./status.js";
import { createViewer } from "./viewer.js";
import { createHistory } from "./history.js";
import { createCostPanel } from "./cost.js";
import { createUpload } from "./upload.js";
import { containKeys } from "./keys.js";
import { createCaption } from "./caption.js";
import { createPast } from "./past.js";
import { createCompare } from "./compare.js";
import { createPreviews } from "./previews.js";
import { createMarkup } from "./markup.js";
import { createLightbox } from "./lightbox.js";
import { createMaskTools } from "./masktools.js";
import { createPromptOffer } from "./offer.js";
import { createThread } from "./thread.js";
import { createImageCache, messages, send } from "./sync.js";
import { createUiState } from "./ui.js";
import { LOST_TEXT, freeze, watchConnection } from "./connection.js";
import { createReferences, createSave } from "./references.js";

/**
 * anywidget entry. Styles ship inside the bundle and are injected under the widget root, so
 * they also apply where the widget lives in a shadow root and no `_css` is needed.
 */
function render({ model, el }) {
  const root = h("div", { class: "promptpaint", tabindex: "-1" });
  const ui = createUiState(); // this view's own state: open drawers, the markup tool
  const cache = createImageCache(model);
  const status = createStatus(model, { ui });
  const controls = createControls(model);
  const caption = createCaption(model);
  const viewer = createViewer({ model, cache, root, caption: caption.el, report: status.report, ui });
  const history = createHistory(model, cache, { promptText: controls.promptText, ui });
  const offer = createPromptOffer({ ui, controls });
  const thread = createThread(model, cache, { ui });
  const cost = createCostPanel(model);
  const past = createPast(model, cache, { ui });
  const compare = createCompare(model, cache, { promptText: controls.promptText, flush: controls.flush, ui });
  const upload = createUpload({ model, root, dropTarget: viewer.stage, report: status.report });
  const lightbox = createLightbox({ model, cache, root });
  const maskTools = createMaskTools({ model, root, stage: viewer.stage, frame: viewer.frame, img: viewer.img,
    brush: viewer.brush, toolbar: viewer.toolbar, onTools: viewer.onTools, report: status.report });
  viewer.download.before(lightbox.button);
  const previews = createPreviews({ model, stage: viewer.stage });
  const references = createReferences({ model, cache, report: status.report });
  const save = createSave({ model, report: status.report });
  viewer.toolbar.append(save.button); // beside Download: the kernel's copy, beside the notebook
  const markup = createMarkup({ model, frame: viewer.frame, img: viewer.img, maskCanvas: viewer.maskCanvas,
    toolbar: viewer.toolbar, toolGroup: viewer.toolGroup, report: status.report, ui });

  // Side column (settings, prompt, actions, cost) beside the image on a wide cell, stacked on a
  // narrow one: on a laptop the prompt, the image, Edit and the cost then fit one screen.
  const side = h(
    "div",
    { class: "pp-side" },
    controls.el,
    offer.el,
    references.el,
    h(
      "div",
      { class: "pp-actions" },
      controls.generate,
      controls.edit,
      upload.button,
      upload.input,
      past.button,
      compare.button,
      thread.button,
      status.showCode,
      previews.setting,
    ),
    status.running,
    status.notice,
    status.local,
    status.errorCard,
    cost.el,
  );
  // Drawers open in the wide column, over the picture (a wide cell), not in the ~360 px side
  // column; a narrow cell stacks them under the image.
  const drawers = h("div", { class: "pp-drawers" }, past.el, compare.el, thread.el, status.codePanel);
  const lostBanner = h("div", { class: "pp-banner pp-lost", role: "alert", hidden: true }, LOST_TEXT);
  const layout = h("div", { class: "pp-layout" }, side, h("div", { class: "pp-main" }, viewer.el, drawers), history.el);
  root.append(h("style", {}, css), lostBanner, status.banner, layout);
  el.replaceChildren(root);
  // A kernel that restarted cannot answer: say so, and let nothing look clickable.
  const connection = watchConnection(model, el, (lost) => {
    lostBanner.hidden = !lost;
    freeze(layout, lost);
  });
  const uncontain = containKeys(root, {
    isRunning: () => model.get("status") === "running",
    cancel: () => send(model, messages.cancel()),
  });

  const parts = [references, save, offer, thread, connection, maskTools, lightbox, compare, markup, previews, past, upload, cost, history, caption, viewer, controls, status, cache];
  return () => {
    uncontain();
    for (const part of parts) part.dispose();
    root.remove();
  };
}

export default { render };
