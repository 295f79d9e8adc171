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
import { createImageCache, messages, send } from "./sync.js";
import { createUiState } from "./ui.js";

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
  const viewer = createViewer({ model, cache, root, caption: caption.el, report: status.report });
  const history = createHistory(model, cache);
  const cost = createCostPanel(model);
  const past = createPast(model, cache, { ui });
  const compare = createCompare(model, cache, { promptText: controls.promptText, flush: controls.flush, ui });
  const upload = createUpload({ model, root, dropTarget: viewer.stage, report: status.report });
  const previews = createPreviews({ model, stage: viewer.stage });
  const markup = createMarkup({ model, frame: viewer.frame, img: viewer.img, maskCanvas: viewer.maskCanvas,
    toolbar: viewer.toolbar, report: status.report, ui });

  // Side column (settings, prompt, actions, cost) beside the image on a wide cell, stacked on a
  // narrow one: on a laptop the prompt, the image, Edit and the cost then fit one screen.
  const side = h(
    "div",
    { class: "pp-side" },
    controls.el,
    h(
      "div",
      { class: "pp-actions" },
      controls.generate,
      controls.edit,
      upload.button,
      upload.input,
      past.button,
      compare.button,
      status.showCode,
      previews.setting,
    ),
    past.el,
    compare.el,
    status.running,
    status.notice,
    status.local,
    status.errorCard,
    status.codePanel,
    cost.el,
  );
  root.append(
    h("style", {}, css),
    status.banner,
    h("div", { class: "pp-layout" }, side, h("div", { class: "pp-main" }, viewer.el), history.el),
  );
  el.replaceChildren(root);
  const uncontain = containKeys(root, {
    isRunning: () => model.get("status") === "running",
    cancel: () => send(model, messages.cancel()),
  });

  const parts = [compare, markup, previews, past, upload, cost, history, caption, viewer, controls, status, cache];
  return () => {
    uncontain();
    for (const part of parts) part.dispose();
    root.remove();
  };
}

export default { render };
