// Rectangle and lasso masks as pure pixel maths (tested in node): a shape is a polygon in image
// pixels, filled crisply (no anti-aliased edge) so the mask says exactly which pixels may change.

/** The four corners of the rectangle spanned by two points, clamped to the image. */
export function rectPolygon(a, b, width, height) {
  const clampX = (v) => Math.min(width, Math.max(0, v));
  const clampY = (v) => Math.min(height, Math.max(0, v));
  const x0 = clampX(Math.min(a.x, b.x));
  const x1 = clampX(Math.max(a.x, b.x));
  const y0 = clampY(Math.min(a.y, b.y));
  const y1 = clampY(Math.max(a.y, b.y));
  return [{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }];
}

/** Drops lasso points closer than `min` pixels to the last kept one (a slow hand adds hundreds). */
export function thinPath(points, min = 1.5) {
  const out = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || Math.hypot(p.x - last.x, p.y - last.y) >= min) out.push(p);
  }
  return out;
}

/**
 * Paints the polygon into RGBA `data` (width × height): every pixel whose centre is inside
 * (even-odd rule, the lasso closing itself from the last point to the first) gets `rgb` at
 * alpha 255. Returns how many pixels it painted.
 */
export function fillPolygon(data, width, height, points, rgb = [255, 0, 110]) {
  if (points.length < 3) return 0;
  let top = Infinity;
  let bottom = -Infinity;
  for (const p of points) {
    top = Math.min(top, p.y);
    bottom = Math.max(bottom, p.y);
  }
  let painted = 0;
  const rowFrom = Math.max(0, Math.floor(top));
  const rowTo = Math.min(height - 1, Math.ceil(bottom));
  const xs = [];
  for (let y = rowFrom; y <= rowTo; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const a = points[i];
      const b = points[j];
      // Half-open in y so a vertex shared by two edges counts once.
      if ((a.y > cy) !== (b.y > cy)) xs.push(a.x + ((cy - a.y) * (b.x - a.x)) / (b.y - a.y));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixel x is inside when its centre x + 0.5 lies in [xs[k], xs[k+1]).
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(width - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
      for (let x = from; x <= to; x++) {
        const i = (y * width + x) * 4;
        if (data[i + 3] !== 255) painted++;
        data[i] = rgb[0];
        data[i + 1] = rgb[1];
        data[i + 2] = rgb[2];
        data[i + 3] = 255;
      }
    }
  }
  return painted;
}
