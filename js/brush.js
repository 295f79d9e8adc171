// Mask brush. The top half is pure logic (tested in node); createBrush() is the canvas engine.
//
// The canvas holds the mask itself at the image's real pixel size: alpha = painted. It is
// painted in one opaque colour and made translucent with CSS opacity, so the pixels stay a
// clean mask and the overlay colour is a display concern only.

import { listen } from "./dom.js";
import { fillPolygon, rectPolygon, thinPath } from "./shapes.js";
import { UndoStack, undoLimit } from "./undo.js";

/** Modes that draw a filled shape (rectangle, lasso) instead of a round stroke. */
const SHAPES = ["rect", "lasso"];

export const MIN_SIZE = 2;
export const MAX_SIZE = 300;
export const DEFAULT_SIZE = 32;
const PAINT = [255, 0, 110];

export function clampSize(size) {
  const n = Math.round(Number(size));
  if (!Number.isFinite(n)) return DEFAULT_SIZE;
  return Math.min(MAX_SIZE, Math.max(MIN_SIZE, n));
}

/** [ and ] step by ~25% so the keys feel the same at 4 px and at 200 px. */
export function stepSize(size, direction) {
  const s = clampSize(size);
  const next = direction > 0 ? Math.max(s + 1, Math.round(s * 1.25)) : Math.min(s - 1, Math.round(s / 1.25));
  return clampSize(next);
}

/** Display (client) coordinates → image pixel coordinates, whatever size CSS draws it at. */
export function toImagePoint(clientX, clientY, rect, width, height) {
  return {
    x: ((clientX - rect.left) * width) / rect.width,
    y: ((clientY - rect.top) * height) / rect.height,
  };
}

/** Brush size is in screen pixels (what the user sees); the stroke is drawn in image pixels. */
export function imageRadius(sizeOnScreen, rect, width) {
  if (!rect.width) return sizeOnScreen / 2;
  return Math.max(0.5, ((sizeOnScreen / 2) * width) / rect.width);
}

export function shortcut(event) {
  const key = String(event.key || "").toLowerCase();
  const mod = event.ctrlKey || event.metaKey;
  if (mod && !event.altKey) {
    if (key === "z") return event.shiftKey ? "redo" : "undo";
    if (key === "y") return "redo";
    return null;
  }
  if (event.altKey || mod) return null;
  if (key === "[") return "smaller";
  if (key === "]") return "bigger";
  if (key === "e") return "eraser";
  if (key === "b") return "brush";
  if (key === "r") return "rect";
  if (key === "l") return "lasso";
  if (key === "k") return "markup";
  if (key === "i") return "invert";
  if (key === "delete" || key === "backspace") return "clear";
  if (key === "d") return "download";
  return null;
}

/**
 * In place: a decoded mask PNG from the kernel → the brush layer's pixels. An RGBA mask
 * carries the painted area in its alpha; an "L" mask decodes opaque with it in the grey level.
 */
export function maskToLayer(data, rgb = PAINT) {
  let opaque = true;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  for (let i = 0; i < data.length; i += 4) {
    const value = opaque ? data[i] : data[i + 3];
    data[i] = rgb[0];
    data[i + 1] = rgb[1];
    data[i + 2] = rgb[2];
    data[i + 3] = value;
  }
  return data;
}

export function isBlank(data) {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return false;
  return true;
}

/** In place: painted ↔ unpainted, keeping partial (anti-aliased) edges proportional. */
export function invertAlpha(data, rgb = PAINT) {
  for (let i = 0; i < data.length; i += 4) {
    data[i] = rgb[0];
    data[i + 1] = rgb[1];
    data[i + 2] = rgb[2];
    data[i + 3] = 255 - data[i + 3];
  }
  return data;
}

export { UndoStack, undoLimit } from "./undo.js";

// ---------------------------------------------------------------------------------------------

/**
 * Wires pointer events on `canvas`. `onCommit(blobPromise | null)` is called once per finished
 * change (stroke end, undo, redo, clear, invert) with a PNG blob promise, or null when the mask
 * is now empty. `onState()` lets the toolbar refresh its buttons.
 */
export function createBrush({ canvas, cursor, onCommit, onState = () => {}, onPointerDown = () => {},
  paint = () => PAINT, keepColours = false }) {
  // The mask brush paints one colour and exports "where"; the markup brush (keepColours)
  // paints `paint()` and exports the strokes as drawn.
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const stack = new UndoStack(null);
  let mode = "brush";
  let size = DEFAULT_SIZE;
  let enabled = false;
  let stroke = null; // { id, last, rect, radius }

  function paintStyle() {
    ctx.globalCompositeOperation = mode === "eraser" ? "destination-out" : "source-over";
    ctx.fillStyle = ctx.strokeStyle = `rgb(${paint().join(",")})`;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  function pointOf(event) {
    return toImagePoint(event.clientX, event.clientY, stroke.rect, canvas.width, canvas.height);
  }

  function moveCursor(event) {
    if (!cursor) return;
    const rect = canvas.getBoundingClientRect();
    cursor.style.width = cursor.style.height = `${size}px`;
    cursor.style.left = `${event.clientX - rect.left}px`;
    cursor.style.top = `${event.clientY - rect.top}px`;
    cursor.hidden = !enabled || SHAPES.includes(mode); // shapes use a crosshair
  }

  function down(event) {
    if (!enabled || stroke) return;
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    onPointerDown();
    canvas.setPointerCapture?.(event.pointerId);
    const rect = canvas.getBoundingClientRect();
    stroke = { id: event.pointerId, rect, radius: imageRadius(size, rect, canvas.width) };
    stroke.last = pointOf(event);
    if (SHAPES.includes(mode)) {
      // A shape is previewed over a copy of the layer and filled exactly on release.
      stroke.points = [stroke.last];
      stroke.base = ctx.getImageData(0, 0, canvas.width, canvas.height);
      return;
    }
    paintStyle();
    ctx.beginPath();
    ctx.arc(stroke.last.x, stroke.last.y, stroke.radius, 0, Math.PI * 2);
    ctx.fill();
  }

  function move(event) {
    moveCursor(event);
    if (!stroke || event.pointerId !== stroke.id) return;
    // Coalesced events keep fast strokes smooth; the browser batches them per frame.
    const events = event.getCoalescedEvents?.() ?? [];
    if (stroke.points) return previewShape(events.length ? events : [event]);
    paintStyle();
    ctx.lineWidth = stroke.radius * 2;
    ctx.beginPath();
    ctx.moveTo(stroke.last.x, stroke.last.y);
    for (const e of events.length ? events : [event]) {
      stroke.last = pointOf(e);
      ctx.lineTo(stroke.last.x, stroke.last.y);
    }
    ctx.stroke();
  }

  function shapePolygon() {
    const pts = stroke.points;
    return mode === "rect" ? rectPolygon(pts[0], pts[pts.length - 1], canvas.width, canvas.height) : thinPath(pts);
  }

  function previewShape(events) {
    for (const e of events) stroke.points.push(pointOf(e));
    ctx.putImageData(stroke.base, 0, 0);
    const poly = shapePolygon();
    if (poly.length < 2) return;
    ctx.globalCompositeOperation = "source-over";
    ctx.fillStyle = `rgb(${paint().join(",")})`;
    ctx.beginPath();
    poly.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    ctx.closePath();
    ctx.fill("evenodd");
  }

  function finishShape() {
    const image = stroke.base;
    const painted = fillPolygon(image.data, canvas.width, canvas.height, shapePolygon(), paint());
    ctx.putImageData(image, 0, 0);
    return painted;
  }

  function up(event) {
    if (!stroke || event.pointerId !== stroke.id) return;
    if (stroke.points) {
      const painted = finishShape();
      stroke = null;
      if (painted) record();
      return;
    }
    stroke = null;
    ctx.globalCompositeOperation = "source-over";
    record();
  }

  function leave() {
    if (cursor) cursor.hidden = true;
  }

  function snapshot() {
    if (!canvas.width || !canvas.height) return null;
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return isBlank(image.data) ? null : image;
  }

  function restore(state) {
    ctx.globalCompositeOperation = "source-over";
    if (state) ctx.putImageData(state, 0, 0);
    else ctx.clearRect(0, 0, canvas.width, canvas.height);
  }

  /** PNG of the mask: white where painted, alpha carried over, at the canvas (= image) size. */
  function exportPNG() {
    const out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height;
    const octx = out.getContext("2d");
    octx.drawImage(canvas, 0, 0);
    if (!keepColours) {
      octx.globalCompositeOperation = "source-in";
      octx.fillStyle = "#fff";
      octx.fillRect(0, 0, out.width, out.height);
    }
    return new Promise((resolve, reject) =>
      out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("mask export failed"))), "image/png"),
    );
  }

  function commit(state) {
    onCommit(state ? exportPNG() : null);
    onState();
  }

  function record() {
    const state = snapshot();
    stack.push(state);
    commit(state);
  }

  const unlisten = listen(canvas, {
    pointerdown: down,
    pointermove: move,
    pointerup: up,
    pointercancel: up,
    lostpointercapture: up,
    pointerleave: leave,
  });

  return {
    get mode() {
      return mode;
    },
    get size() {
      return size;
    },
    get enabled() {
      return enabled;
    },
    get canUndo() {
      return stack.canUndo;
    },
    get canRedo() {
      return stack.canRedo;
    },
    get hasMask() {
      return stack.current != null;
    },
    setMode(next) {
      mode = ["eraser", ...SHAPES].includes(next) ? next : "brush";
      onState();
    },
    setSize(next) {
      size = clampSize(next);
      if (cursor) cursor.style.width = cursor.style.height = `${size}px`;
      onState();
    },
    /** New image: fresh blank layer at its real size, empty history, nothing sent. */
    reset(width, height) {
      stroke = null;
      canvas.width = Math.max(0, width | 0);
      canvas.height = Math.max(0, height | 0);
      stack.limit = undoLimit(canvas.width, canvas.height);
      stack.reset(null);
      onState();
    },
    /** Python's mask for this image (after a reload): shown as the starting state, not echoed. */
    load(image) {
      if (image.width !== canvas.width || image.height !== canvas.height) return false;
      stroke = null;
      maskToLayer(image.data);
      const state = isBlank(image.data) ? null : image;
      restore(state);
      stack.reset(state);
      onState();
      return true;
    },
    /** True until the user changes the layer: a late kernel mask may still replace it. */
    get pristine() {
      return !stroke && !stack.canUndo && !stack.canRedo;
    },
    /** A mask the user brought in (Import mask): a change like a stroke, undoable and sent. */
    importMask(image) {
      if (!enabled || image.width !== canvas.width || image.height !== canvas.height) return false;
      maskToLayer(image.data);
      restore(isBlank(image.data) ? null : image);
      record();
      return true;
    },
    /** The mask as a PNG (white where painted, alpha = painted), for Export mask; null when empty. */
    exportPNG() {
      return stack.current == null ? null : exportPNG();
    },
    /** Python dropped the mask: blank the layer without echoing a message back. */
    clearSilently() {
      stroke = null;
      restore(null);
      stack.reset(null);
      onState();
    },
    setEnabled(on) {
      enabled = Boolean(on);
      if (!enabled) stroke = null;
      onState();
    },
    undo() {
      if (!stack.canUndo) return;
      const state = stack.undo();
      restore(state);
      commit(state);
    },
    redo() {
      if (!stack.canRedo) return;
      const state = stack.redo();
      restore(state);
      commit(state);
    },
    clear() {
      if (!enabled || stack.current == null) return;
      restore(null);
      stack.push(null);
      commit(null);
    },
    invert() {
      if (!enabled || !canvas.width) return;
      const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      invertAlpha(image.data);
      ctx.putImageData(image, 0, 0);
      record();
    },
    dispose: unlisten,
  };
}
