import { h, keepingFocus, listen } from "./dom.js";
import { createBrush, shortcut, stepSize, MIN_SIZE, MAX_SIZE } from "./brush.js";
import { createPngSender } from "./pngsender.js";
import { asBytes, createRequests, downloadName, messages, send, setTraits, subscribe } from "./sync.js";
import { thumbnail } from "./thumbs.js";
import { createUiState } from "./ui.js";

/** Sends the mask layer's PNGs in commit order (see pngsender.js). */
export function createMaskSender(model, onError = () => {}) {
  return createPngSender(model, messages.mask, onError);
}

/** Which of the current turn's images to offer side by side; null when there is just one. */
export function choicesFor(turns = [], current = {}) {
  const turn = turns.find((t) => t.id === current?.turn);
  const images = turn?.images ?? [];
  if (images.length < 2) return null;
  return { turn: turn.id, selected: current.index ?? 0, images };
}

function isTextField(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

export function createViewer({ model, cache, root, caption = null, report = () => {}, ui = createUiState() }) {
  const button = (label, extra = {}) => h("button", { type: "button", class: "pp-btn pp-btn-small", ...extra }, label);
  const brushBtn = button("Brush", { "aria-pressed": "true", title: "Brush (B)" });
  const eraserBtn = button("Eraser", { "aria-pressed": "false", title: "Eraser (E)" });
  const rectBtn = button("Rectangle", { "aria-pressed": "false", title: "Rectangle: drag a box to mask (R)" });
  const lassoBtn = button("Lasso", { "aria-pressed": "false", title: "Lasso: draw round an area to mask it (L)" });
  const size = h("input", { type: "range", min: MIN_SIZE, max: MAX_SIZE, "aria-label": "Brush size", title: "Brush size ([ and ])" });
  const sizeValue = h("span", { class: "pp-size-value" });
  const undoBtn = button("Undo", { title: "Undo (Ctrl+Z)" });
  const redoBtn = button("Redo", { title: "Redo (Ctrl+Shift+Z)" });
  const clearBtn = button("Clear mask", { title: "Clear mask (Delete)" });
  const invertBtn = button("Invert mask", { title: "Invert mask (I)" });
  const downloadBtn = button("Download", { title: "Download the image (D)" });
  // Brush, Eraser and Markup (markup.js adds its button here) are one choice of tool.
  const toolGroup = h("div", { class: "pp-group pp-tool-choice" }, brushBtn, eraserBtn, rectBtn, lassoBtn);
  const toolbar = h(
    "div",
    { class: "pp-toolbar", role: "toolbar", "aria-label": "Brush tools" },
    toolGroup,
    h("label", { class: "pp-size" }, size, sizeValue),
    h("div", { class: "pp-group" }, undoBtn, redoBtn),
    h("div", { class: "pp-group" }, clearBtn, invertBtn),
    h("span", { class: "pp-spacer" }),
    downloadBtn,
  );

  const img = h("img", { class: "pp-image", alt: "Current image", draggable: "false" });
  const canvas = h("canvas", { class: "pp-mask", "aria-label": "Mask" });
  const cursor = h("div", { class: "pp-cursor", hidden: true, "aria-hidden": "true" });
  const frame = h("div", { class: "pp-frame", hidden: true }, img, canvas, cursor);
  const empty = h("div", { class: "pp-empty" }, "Generate an image, or upload, drop or paste one here.");
  const stage = h("div", { class: "pp-stage" }, frame, empty);
  const choices = h("div", { class: "pp-choices", role: "group", "aria-label": "Results", hidden: true });
  const el = h("section", { class: "pp-viewer" }, toolbar, caption, stage, choices);

  const sender = createMaskSender(model, (err) => report(`Could not send the mask: ${err.message}`));
  let brush = null;
  brush = createBrush({
    canvas,
    cursor,
    onCommit: (blob) => sender.commit(blob),
    onState: renderTools,
    onPointerDown: () => root.focus({ preventScroll: true }),
  });
  let shownSha = null;
  const downloads = createRequests(model, { kind: "image" });
  const toolWatchers = new Set();
  function renderTools() {
    if (!brush) return;
    for (const fn of toolWatchers) fn();
    const on = brush.enabled;
    const markupOn = Boolean(ui.get("markup")); // then Markup is the tool, not the brush
    brushBtn.setAttribute("aria-pressed", String(!markupOn && brush.mode === "brush"));
    eraserBtn.setAttribute("aria-pressed", String(!markupOn && brush.mode === "eraser"));
    rectBtn.setAttribute("aria-pressed", String(!markupOn && brush.mode === "rect"));
    lassoBtn.setAttribute("aria-pressed", String(!markupOn && brush.mode === "lasso"));
    canvas.classList.toggle("pp-shape", brush.mode === "rect" || brush.mode === "lasso");
    size.value = String(brush.size);
    sizeValue.textContent = `${brush.size} px`;
    undoBtn.disabled = !on || !brush.canUndo;
    redoBtn.disabled = !on || !brush.canRedo;
    clearBtn.disabled = !on || !brush.hasMask;
    invertBtn.disabled = !on;
    downloadBtn.disabled = !model.get("image_id");
    canvas.classList.toggle("pp-erasing", brush.mode === "eraser");
  }

  function renderImage() {
    const sha = model.get("image_id") || "";
    if (sha === shownSha) return renderTools();
    shownSha = sha;
    sender.invalidate();
    brush.setEnabled(false);
    const [width = 0, height = 0] = model.get("image_size") || [];
    brush.reset(width, height);
    if (!sha) {
      img.removeAttribute("src");
      frame.hidden = true;
      empty.hidden = false;
      return;
    }
    empty.hidden = true;
    // The old image stays on screen (dimmed) until the new one has decoded: an <img> whose src
    // changes paints a broken-image icon for a few frames otherwise.
    if (!img.getAttribute("src") && width && height) {
      // Nothing shown yet: reserve the aspect ratio while the bytes are on their way.
      img.width = width;
      img.height = height;
    }
    frame.hidden = !img.getAttribute("src") && !(width && height);
    frame.classList.add("pp-loading");
    cache.get(sha).then(
      async (entry) => {
        if (shownSha !== sha) return;
        const next = new Image();
        next.src = entry.url;
        try {
          await next.decode();
        } catch {
          if (shownSha === sha) report("The image could not be displayed.");
          return;
        }
        if (shownSha !== sha) return;
        img.src = entry.url; // already decoded: the swap paints the new picture at once
        img.width = next.naturalWidth;
        img.height = next.naturalHeight;
        frame.hidden = false;
        // The mask must match the real bytes, whatever image_size said.
        if (canvas.width !== next.naturalWidth || canvas.height !== next.naturalHeight) {
          brush.reset(next.naturalWidth, next.naturalHeight);
        }
        frame.classList.remove("pp-loading");
        brush.setEnabled(true);
        report("");
        // After a page reload the kernel may still hold a mask: show it, since Edit will use it.
        if (model.get("has_mask")) send(model, messages.fetchMask());
      },
      (err) => {
        if (shownSha !== sha) return;
        frame.classList.remove("pp-loading");
        report(`The image could not be loaded: ${err.message}`);
      },
    );
  }

  function renderChoices() {
    const pick = choicesFor(model.get("turns") || [], model.get("current") || {});
    choices.hidden = !pick;
    if (!pick) return choices.replaceChildren();
    keepingFocus(choices, "data-index", () => choices.replaceChildren(
      ...pick.images.map((sha, index) => {
        return h(
          "button",
          {
            type: "button",
            class: "pp-choice",
            "aria-label": `Result ${index + 1} of ${pick.images.length}`,
            "aria-pressed": String(index === pick.selected),
            "data-index": index,
            onclick: () => setTraits(model, { current: { turn: pick.turn, index } }),
          },
          thumbnail(cache, sha, "pp-choice-thumb"),
        );
      }),
    ));
  }

  async function showKernelMask(content, buffers) {
    const sha = content.image_id;
    if (sha !== shownSha || !brush.enabled || !brush.pristine) return;
    if (!buffers.length) return brush.clearSilently();
    try {
      const bitmap = await createImageBitmap(new Blob([asBytes(buffers[0])], { type: "image/png" }));
      const scratch = h("canvas", { width: canvas.width, height: canvas.height });
      const sctx = scratch.getContext("2d");
      sctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close?.();
      if (sha === shownSha && brush.pristine) brush.load(sctx.getImageData(0, 0, canvas.width, canvas.height));
    } catch (err) {
      report(`Could not show the mask the kernel holds: ${err.message}`);
    }
  }

  function currentPrompt() {
    const current = model.get("current") || {};
    return (model.get("turns") || []).find((t) => t.id === current.turn)?.prompt ?? "";
  }

  /** The kernel's download copy: the image with how it was made written inside it. */
  async function download() {
    const sha = model.get("image_id");
    if (!sha) return;
    let content, buffers;
    try {
      ({ content, buffers } = await downloads.ask((request) => send(model, messages.download(sha, request))));
      if (!buffers.length) throw new Error(content.error || "the image is not available");
    } catch (err) {
      report(`Could not download the image: ${err.message}`);
      return;
    }
    if (content.note) report(content.note);
    const mime = content.mime || "image/png";
    const url = URL.createObjectURL(new Blob([asBytes(buffers[0])], { type: mime }));
    const link = h("a", { href: url, download: downloadName(sha, mime, currentPrompt()), hidden: true });
    root.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function onKey(event) {
    if (isTextField(event.target)) return;
    const action = shortcut(event);
    if (!action) return;
    event.preventDefault();
    if (action === "undo") brush.undo();
    else if (action === "redo") brush.redo();
    else if (action === "clear") brush.clear();
    else if (action === "invert") brush.invert();
    else if (action === "download") download();
    else if (["brush", "eraser", "rect", "lasso"].includes(action)) pickTool(action);
    else if (action === "markup") ui.set("markup", !ui.get("markup"));
    else brush.setSize(stepSize(brush.size, action === "bigger" ? 1 : -1));
  }

  // A button that disables itself (Redo at the end, Clear) would drop focus to <body> and the
  // shortcuts with it; hand focus back to the widget root instead.
  const tool = (btn, action) =>
    btn.addEventListener("click", () => {
      action();
      if (btn.disabled) root.focus({ preventScroll: true });
    });
  function pickTool(mode) {
    ui.set("markup", false); // one tool at a time: the brush or eraser ends Markup
    brush.setMode(mode);
    renderTools();
  }
  tool(brushBtn, () => pickTool("brush"));
  tool(eraserBtn, () => pickTool("eraser"));
  tool(rectBtn, () => pickTool("rect"));
  tool(lassoBtn, () => pickTool("lasso"));
  tool(undoBtn, () => brush.undo());
  tool(redoBtn, () => brush.redo());
  tool(clearBtn, () => brush.clear());
  tool(invertBtn, () => brush.invert());
  size.addEventListener("input", () => brush.setSize(size.value));
  downloadBtn.addEventListener("click", download);
  const unlisten = listen(root, { keydown: onKey });
  const unwatchTool = ui.on("markup", () => renderTools());

  const onChoices = () => renderChoices();
  const unsubscribe = subscribe(model, {
    "change:image_id": () => renderImage(),
    "change:turns": onChoices,
    "change:current": onChoices,
    "msg:custom": (content, buffers) => {
      if (content?.kind === "mask") return showKernelMask(content, buffers ?? []);
      if (content?.kind !== "clear_mask") return;
      sender.invalidate();
      brush.clearSilently();
    },
  });
  renderImage();
  renderChoices();
  renderTools();

  return {
    el,
    stage,
    frame,
    img,
    toolbar,
    toolGroup,
    download: downloadBtn,
    /** Calls `fn` whenever the tools' state changes (a stroke, undo, a new mode); returns the stop. */
    onTools(fn) {
      toolWatchers.add(fn);
      return () => toolWatchers.delete(fn);
    },
    maskCanvas: canvas,
    brush,
    dispose() {
      brush.dispose();
      downloads.dispose();
      unlisten();
      unwatchTool();
      unsubscribe();
    },
  };
}
