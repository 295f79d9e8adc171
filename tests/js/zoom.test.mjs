import { test } from "node:test";
import assert from "node:assert/strict";
import { clampPan, fitScale, fitView, panBy, toImage, toggleZoom, zoomAt, zoomText } from "../../js/zoom.js";

test("fit shows the whole image, centred on the short axis", () => {
  assert.equal(fitScale(2000, 1000, 800, 600), 0.4);
  assert.deepEqual(fitView(2000, 1000, 800, 600), { scale: 0.4, x: 0, y: 100 });
  assert.equal(fitScale(0, 10, 800, 600), 1); // nothing to fit yet: no division by zero
});

test("zooming keeps the image point under the pointer where it was", () => {
  const fit = fitView(2000, 1000, 800, 600);
  const at = toImage(fit, 400, 300); // the centre pixel
  const z = zoomAt(fit, 1, 400, 300, 2000, 1000, 800, 600);
  assert.equal(z.scale, 1);
  const again = toImage(z, 400, 300);
  assert.ok(Math.abs(again.x - at.x) < 1e-9 && Math.abs(again.y - at.y) < 1e-9);
});

test("a click toggles fit and 100 %, and panning never shows a gap at an edge", () => {
  const fit = fitView(2000, 1000, 800, 600);
  const full = toggleZoom(fit, 0, 100, 2000, 1000, 800, 600); // top-left corner clicked
  assert.deepEqual(full, { scale: 1, x: 0, y: 0 });
  assert.deepEqual(toggleZoom(full, 10, 10, 2000, 1000, 800, 600), fit);
  // Dragging right at the left edge cannot pull the image off its edge; dragging far left stops at the right edge.
  assert.deepEqual(panBy(full, 50, 50, 2000, 1000, 800, 600), { scale: 1, x: 0, y: 0 });
  assert.deepEqual(panBy(full, -5000, -5000, 2000, 1000, 800, 600), { scale: 1, x: -1200, y: -400 });
  // A small image is centred whatever the pan says.
  assert.deepEqual(clampPan({ scale: 1, x: -70, y: 900 }, 100, 100, 800, 600), { scale: 1, x: 350, y: 250 });
});

test("an image smaller than the viewport fits at its size x fit; the readout says which", () => {
  const fit = fitScale(400, 300, 800, 600);
  assert.equal(fit, 2);
  assert.equal(zoomText({ scale: 2 }, fit), "Fit · 200 %");
  assert.equal(zoomText({ scale: 1 }, fit), "100 %");
  // At fit above 100 % a click goes to 100 %; from there back to fit.
  const v = toggleZoom(fitView(400, 300, 800, 600), 400, 300, 400, 300, 800, 600);
  assert.equal(v.scale, 1);
});

import { beforeFor, sideChoices } from "../../js/lightbox.js";

test("before/after compares an edit with the image it started from", () => {
  const turns = [
    { id: 1, parent: null, kind: "generate", images: ["a", "b"], prompt: "fox" },
    { id: 2, parent: 1, kind: "edit", images: ["c"], prompt: "hat" },
    { id: 3, parent: 1, kind: "edit", images: ["d"], source: "b", prompt: "scarf" },
  ];
  assert.equal(beforeFor(turns, { turn: 2 }), "a");
  assert.equal(beforeFor(turns, { turn: 3 }), "b"); // the kernel's `source` wins
  assert.equal(beforeFor(turns, { turn: 1 }), null); // a generate has no before
  assert.equal(beforeFor(turns, {}), null);
});

test("side by side offers every other image, newest first, once each", () => {
  const turns = [
    { id: 1, kind: "generate", images: ["a", "b"], prompt: "a  fox" },
    { id: 2, kind: "compare", images: ["c"], prompt: "fox" },
    { id: 3, kind: "edit", images: ["a"], prompt: "same bytes" },
  ];
  assert.deepEqual(sideChoices(turns, "c").map((c) => c.sha), ["a", "b"]);
  assert.equal(sideChoices(turns, "c")[1].label, "#1 (2 of 2) generate · a fox");
});
