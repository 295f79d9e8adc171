// Zoom and pan maths for the viewer and the paint surface: pure, so node tests cover it.
// A view is {scale, x, y}: the image's top-left corner sits at (x, y) in the viewport's CSS
// pixels and each image pixel is `scale` CSS pixels wide.

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 8;

const clampScale = (s) => Math.min(MAX_SCALE, Math.max(MIN_SCALE, Number(s) || 1));

/** The scale that shows the whole image in the viewport (never 0, never above MAX_SCALE). */
export function fitScale(imgW, imgH, viewW, viewH) {
  if (!imgW || !imgH || !viewW || !viewH) return 1;
  return clampScale(Math.min(viewW / imgW, viewH / imgH));
}

/** Keeps the image over the viewport: centred on an axis where it is smaller, else no gap at an edge. */
export function clampPan(view, imgW, imgH, viewW, viewH) {
  const axis = (pos, size, room) => {
    const shown = size * view.scale;
    if (shown <= room) return (room - shown) / 2;
    return Math.min(0, Math.max(room - shown, pos));
  };
  return { scale: view.scale, x: axis(view.x, imgW, viewW), y: axis(view.y, imgH, viewH) };
}

/** The fitted, centred view. */
export function fitView(imgW, imgH, viewW, viewH) {
  return clampPan({ scale: fitScale(imgW, imgH, viewW, viewH), x: 0, y: 0 }, imgW, imgH, viewW, viewH);
}

/** Zooms to `scale` keeping the image point under viewport point (px, py) where it is. */
export function zoomAt(view, scale, px, py, imgW, imgH, viewW, viewH) {
  const next = clampScale(scale);
  const k = next / view.scale;
  return clampPan({ scale: next, x: px - (px - view.x) * k, y: py - (py - view.y) * k }, imgW, imgH, viewW, viewH);
}

/** A click: from fit to 100 % at the point clicked, and from any zoom back to fit. */
export function toggleZoom(view, px, py, imgW, imgH, viewW, viewH) {
  const fit = fitScale(imgW, imgH, viewW, viewH);
  if (Math.abs(view.scale - fit) < 1e-6 && Math.abs(fit - 1) > 1e-6) return zoomAt(view, 1, px, py, imgW, imgH, viewW, viewH);
  return fitView(imgW, imgH, viewW, viewH);
}

/** Moves the view by a drag of (dx, dy) CSS pixels, clamped. */
export function panBy(view, dx, dy, imgW, imgH, viewW, viewH) {
  return clampPan({ scale: view.scale, x: view.x + dx, y: view.y + dy }, imgW, imgH, viewW, viewH);
}

/** Viewport point → image pixel. */
export function toImage(view, px, py) {
  return { x: (px - view.x) / view.scale, y: (py - view.y) / view.scale };
}

/** "Fit · 39 %" / "100 %": what the zoom readout says. */
export function zoomText(view, fit) {
  const pct = `${Math.round(view.scale * 100)} %`;
  return Math.abs(view.scale - fit) < 1e-6 ? `Fit · ${pct}` : pct;
}
