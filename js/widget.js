import css from "./widget.css";
import { h } from "./dom.js";
import { createImageCache } from "./sync.js";
import { createControls } from "./controls.js";
import { createStatus } from "./status.js";
import { createViewer } from "./viewer.js";
import { createHistory } from "./history.js";
import { createCostPanel } from "./cost.js";
import { createUpload } from "./upload.js";

/**
 * anywidget entry. Styles ship inside the bundle and are injected under the widget root, so
 * they also apply where the widget lives in a shadow root and no `_css` is needed.
 */
function render({ model, el }) {
  const root = h("div", { class: "promptpaint", tabindex: "-1" });
  const cache = createImageCache(model);
  const status = createStatus(model);
  const controls = createControls(model);
  const viewer = createViewer({ model, cache, root, report: status.report });
  const history = createHistory(model, cache);
  const cost = createCostPanel(model);
  const upload = createUpload({ model, root, dropTarget: viewer.stage, report: status.report });

  root.append(
    h("style", {}, css),
    controls.el,
    h(
      "div",
      { class: "pp-actions" },
      controls.generate,
      controls.edit,
      upload.button,
      upload.input,
      status.showCode,
      status.running,
    ),
    status.notice,
    status.local,
    status.errorCard,
    status.codePanel,
    viewer.el,
    history.el,
    cost.el,
  );
  el.replaceChildren(root);

  const parts = [upload, cost, history, viewer, controls, status, cache];
  return () => {
    for (const part of parts) part.dispose();
    root.remove();
  };
}

export default { render };
