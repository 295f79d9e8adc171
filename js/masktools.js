import { h, listen } from "./dom.js";
import { subscribe } from "./sync.js";

// Mask file tools and zoom while painting, beside the brush: Import mask (a PNG), Export mask
// (download it as a PNG), and Zoom in / Zoom out with the stage scrolling to pan (Space + drag,
// or the middle button, drags it) so a precise stroke can be painted at a large scale.

export const PAINT_ZOOMS = [1, 1.5, 2, 3, 4, 6, 8];

/** The next zoom step up (+1) or down (-1) from `z`, within PAINT_ZOOMS. */
export function stepZoom(z, direction) {
  if (direction > 0) return PAINT_ZOOMS.find((s) => s > z + 1e-9) ?? PAINT_ZOOMS[PAINT_ZOOMS.length - 1];
  return [...PAINT_ZOOMS].reverse().find((s) => s < z - 1e-9) ?? 1;
}

/** Scroll offsets that keep the stage's centre on the same image point after zooming k times. */
export function keepCentre(scrollLeft, scrollTop, viewW, viewH, k) {
  return {
    left: Math.max(0, (scrollLeft + viewW / 2) * k - viewW / 2),
    top: Math.max(0, (scrollTop + viewH / 2) * k - viewH / 2),
  };
}

function isTextField(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

export function createMaskTools({ model, root, stage, frame, img, brush, toolbar, onTools = () => () => {}, report = () => {} }) {
  const button = (label, extra = {}) => h("button", { type: "button", class: "pp-btn pp-btn-small", ...extra }, label);
  const zoomOut = button("−", { "aria-label": "Zoom out", title: "Zoom out while painting (-)" });
  const zoomIn = button("+", { "aria-label": "Zoom in", title: "Zoom in while painting (+); Space + drag, or the middle button, pans" });
  const readout = h("span", { class: "pp-paint-zoom" }, "Fit");
  const importBtn = button("Import mask", { title: "Use a PNG as the mask: its alpha (or grey level) says where to edit (Shift+M)" });
  const exportBtn = button("Export mask", { title: "Download the mask as a PNG at the image's size (M)" });
  // Hidden, opened by Import mask (no label of its own: "Mask" names the paint surface).
  const file = h("input", { type: "file", accept: "image/png", hidden: true, class: "pp-mask-file" });
  const group = h("div", { class: "pp-group pp-mask-tools" }, zoomOut, readout, zoomIn, importBtn, exportBtn, file);
  toolbar.querySelector(".pp-spacer")?.before(group);

  let zoom = 1;
  let fitWidth = 0;
  let fitHeight = 0;
  let space = false;
  let pan = null;

  function setZoom(next) {
    if (next > 1 && !img.naturalWidth) return;
    if (zoom === 1 && next > 1) {
      const r = frame.getBoundingClientRect();
      fitWidth = r.width;
      fitHeight = stage.getBoundingClientRect().height;
    }
    const k = next / zoom;
    zoom = next;
    const zoomed = zoom > 1;
    stage.classList.toggle("pp-paint-zoomed", zoomed);
    stage.style.height = zoomed ? `${fitHeight}px` : "";
    frame.style.width = zoomed ? `${fitWidth * zoom}px` : "";
    if (zoomed) {
      const c = keepCentre(stage.scrollLeft, stage.scrollTop, stage.clientWidth, stage.clientHeight, k);
      stage.scrollLeft = c.left;
      stage.scrollTop = c.top;
    }
    render();
  }

  function render() {
    readout.textContent = zoom === 1 ? "Fit" : `${Math.round(zoom * 100)} %`;
    const on = Boolean(model.get("image_id"));
    zoomIn.disabled = !on || zoom >= PAINT_ZOOMS[PAINT_ZOOMS.length - 1];
    zoomOut.disabled = !on || zoom <= 1;
    importBtn.disabled = !on;
    exportBtn.disabled = !on || !brush.hasMask;
  }

  async function importMask() {
    const chosen = file.files?.[0];
    file.value = "";
    if (!chosen) return;
    try {
      const bitmap = await createImageBitmap(chosen);
      const w = img.naturalWidth;
      const hgt = img.naturalHeight;
      if (Math.abs(bitmap.width / bitmap.height - w / hgt) > 0.01) {
        report(`That mask is ${bitmap.width}×${bitmap.height}; the image is ${w}×${hgt}. Use a PNG of the image's shape.`);
        return;
      }
      const scratch = h("canvas", { width: w, height: hgt });
      const ctx = scratch.getContext("2d");
      ctx.drawImage(bitmap, 0, 0, w, hgt);
      bitmap.close?.();
      if (!brush.importMask(ctx.getImageData(0, 0, w, hgt))) report("The mask could not be used: show an image first.");
      else report("");
    } catch (err) {
      report(`Could not read that mask: ${err.message}`);
    }
  }

  async function exportMask() {
    const png = brush.exportPNG();
    if (!png) return;
    try {
      const url = URL.createObjectURL(await png);
      const sha = model.get("image_id") || "";
      const link = h("a", { href: url, download: `mask-${sha.slice(0, 8)}.png`, hidden: true });
      root.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      report(`Could not export the mask: ${err.message}`);
    }
  }

  const stops = [
    listen(zoomIn, { click: () => setZoom(stepZoom(zoom, 1)) }),
    listen(zoomOut, { click: () => setZoom(stepZoom(zoom, -1)) }),
    listen(importBtn, { click: () => file.click() }),
    listen(file, { change: importMask }),
    listen(exportBtn, { click: exportMask }),
    listen(root, {
      keydown: (e) => {
        if (isTextField(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
        if (e.key === " " && zoom > 1) {
          space = true;
          e.preventDefault();
          return;
        }
        const act = { "+": zoomIn, "=": zoomIn, "-": zoomOut, M: importBtn, m: exportBtn }[e.key];
        if (!act || act.disabled) return;
        e.preventDefault();
        act.click();
      },
      keyup: (e) => e.key === " " && (space = false),
    }),
    onTools(() => render()), // the mask changed by any tool: keep Export honest
    subscribe(model, {
      "change:image_id": () => {
        zoom = 2; // any value ≠ 1 so setZoom(1) below resets the styles
        setZoom(1);
      },
    }),
  ];
  // Capture phase: a pan starts before the brush sees the pointer, so it paints nothing.
  const panHandlers = {
    pointerdown: (e) => {
      if (zoom <= 1 || !(space || e.button === 1)) return;
      e.preventDefault();
      e.stopPropagation();
      pan = { x: e.clientX, y: e.clientY, left: stage.scrollLeft, top: stage.scrollTop, id: e.pointerId };
      stage.setPointerCapture?.(e.pointerId);
    },
    pointermove: (e) => {
      if (!pan || e.pointerId !== pan.id) return;
      e.stopPropagation();
      stage.scrollLeft = pan.left - (e.clientX - pan.x);
      stage.scrollTop = pan.top - (e.clientY - pan.y);
    },
    pointerup: () => (pan = null),
    pointercancel: () => (pan = null),
  };
  for (const [type, fn] of Object.entries(panHandlers)) stage.addEventListener(type, fn, true);
  stops.push(() => {
    for (const [type, fn] of Object.entries(panHandlers)) stage.removeEventListener(type, fn, true);
  });
  render();

  return {
    el: group,
    get zoom() {
      return zoom;
    },
    setZoom,
    dispose() {
      for (const stop of stops) stop();
      group.remove();
    },
  };
}
