import { test } from "node:test";
import assert from "node:assert/strict";
import { fillPolygon, rectPolygon, thinPath } from "../../js/shapes.js";

const blank = (w, h) => new Uint8ClampedArray(w * h * 4);
const alphaAt = (data, w, x, y) => data[(y * w + x) * 4 + 3];

test("a rectangle from (2,1) to (6,4) paints exactly its 4×3 pixels, dragged either way", () => {
  for (const [a, b] of [[{ x: 2, y: 1 }, { x: 6, y: 4 }], [{ x: 6, y: 4 }, { x: 2, y: 1 }]]) {
    const data = blank(10, 8);
    assert.equal(fillPolygon(data, 10, 8, rectPolygon(a, b, 10, 8)), 12);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 10; x++) {
      const inside = x >= 2 && x < 6 && y >= 1 && y < 4;
      assert.equal(alphaAt(data, 10, x, y), inside ? 255 : 0, `pixel ${x},${y}`);
    }
  }
});

test("a rectangle dragged past the edge stops at the image", () => {
  const data = blank(4, 4);
  assert.equal(fillPolygon(data, 4, 4, rectPolygon({ x: -5, y: -5 }, { x: 2, y: 9 }, 4, 4)), 8);
});

test("a lasso triangle fills the pixels whose centres are inside, and closes itself", () => {
  const data = blank(8, 8);
  // Right triangle (0,0)-(8,0)-(0,8): centre (x+.5, y+.5) inside when x + y + 1 < 8.
  fillPolygon(data, 8, 8, [{ x: 0, y: 0 }, { x: 8, y: 0 }, { x: 0, y: 8 }]);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
    assert.equal(alphaAt(data, 8, x, y), x + y + 1 < 8 ? 255 : 0, `pixel ${x},${y}`);
  }
});

test("a lasso that crosses itself leaves the twice-enclosed part out (even-odd); fewer than 3 points paint nothing", () => {
  const data = blank(10, 10);
  // A bow tie on its side: the left and right triangles meet at the centre; top and bottom stay out.
  const painted = fillPolygon(data, 10, 10, [{ x: 0, y: 0 }, { x: 10, y: 10 }, { x: 10, y: 0 }, { x: 0, y: 10 }]);
  assert.equal(painted, 50);
  assert.equal(alphaAt(data, 10, 1, 5), 255); // left triangle
  assert.equal(alphaAt(data, 10, 8, 5), 255); // right triangle
  assert.equal(alphaAt(data, 10, 5, 1), 0); // top: between the crossing edges
  assert.equal(fillPolygon(blank(4, 4), 4, 4, [{ x: 0, y: 0 }, { x: 3, y: 3 }]), 0);
});

test("thinPath keeps the first point and drops jitter", () => {
  assert.deepEqual(thinPath([{ x: 0, y: 0 }, { x: 0.5, y: 0 }, { x: 2, y: 0 }, { x: 2.2, y: 0.1 }]), [{ x: 0, y: 0 }, { x: 2, y: 0 }]);
});

import { keepCentre, stepZoom } from "../../js/masktools.js";

test("paint zoom steps through fixed stops and keeps the centre of the view", () => {
  assert.equal(stepZoom(1, 1), 1.5);
  assert.equal(stepZoom(3, 1), 4);
  assert.equal(stepZoom(8, 1), 8);
  assert.equal(stepZoom(1.5, -1), 1);
  assert.equal(stepZoom(1, -1), 1);
  // Viewport 400×300 scrolled to (100, 50): centre (300, 200) → at 2× it is (600, 400).
  assert.deepEqual(keepCentre(100, 50, 400, 300, 2), { left: 400, top: 250 });
  assert.deepEqual(keepCentre(0, 0, 400, 300, 0.5), { left: 0, top: 0 });
});
