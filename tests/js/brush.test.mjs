import { test } from "node:test";
import assert from "node:assert/strict";
import {
  UndoStack,
  clampSize,
  imageRadius,
  invertAlpha,
  isBlank,
  shortcut,
  stepSize,
  toImagePoint,
  undoLimit,
  MAX_SIZE,
  MIN_SIZE,
} from "../../js/brush.js";

test("display coordinates map to real image pixels", () => {
  // 640×480 image drawn at 320×240, offset on the page.
  const rect = { left: 100, top: 50, width: 320, height: 240 };
  assert.deepEqual(toImagePoint(100, 50, rect, 640, 480), { x: 0, y: 0 });
  assert.deepEqual(toImagePoint(420, 290, rect, 640, 480), { x: 640, y: 480 });
  assert.deepEqual(toImagePoint(260, 170, rect, 640, 480), { x: 320, y: 240 });
  // Upscaled display works too.
  assert.deepEqual(toImagePoint(10, 10, { left: 0, top: 0, width: 200, height: 200 }, 100, 100), { x: 5, y: 5 });
});

test("brush radius is screen size scaled into image pixels", () => {
  const rect = { width: 320, height: 240 };
  assert.equal(imageRadius(20, rect, 640), 20);
  assert.equal(imageRadius(20, rect, 320), 10);
  assert.equal(imageRadius(0, rect, 640), 0.5);
});

test("size clamps and steps", () => {
  assert.equal(clampSize(1), MIN_SIZE);
  assert.equal(clampSize(10_000), MAX_SIZE);
  assert.equal(clampSize("12"), 12);
  assert.equal(stepSize(2, 1), 3);
  assert.equal(stepSize(40, 1), 50);
  assert.equal(stepSize(50, -1), 40);
  assert.equal(stepSize(MIN_SIZE, -1), MIN_SIZE);
  assert.equal(stepSize(MAX_SIZE, 1), MAX_SIZE);
});

test("keyboard shortcuts", () => {
  assert.equal(shortcut({ key: "z", ctrlKey: true }), "undo");
  assert.equal(shortcut({ key: "z", metaKey: true }), "undo");
  assert.equal(shortcut({ key: "Z", ctrlKey: true, shiftKey: true }), "redo");
  assert.equal(shortcut({ key: "y", ctrlKey: true }), "redo");
  assert.equal(shortcut({ key: "[" }), "smaller");
  assert.equal(shortcut({ key: "]" }), "bigger");
  assert.equal(shortcut({ key: "e" }), "eraser");
  assert.equal(shortcut({ key: "B" }), "brush");
  assert.equal(shortcut({ key: "e", ctrlKey: true }), null);
  assert.equal(shortcut({ key: "x" }), null);
});

test("blank detection and inversion work on alpha", () => {
  const data = new Uint8ClampedArray(4 * 3);
  assert.ok(isBlank(data));
  data[7] = 128; // second pixel half painted
  assert.ok(!isBlank(data));
  invertAlpha(data);
  assert.deepEqual([data[3], data[7], data[11]], [255, 127, 255]);
  invertAlpha(data);
  assert.deepEqual([data[3], data[7], data[11]], [0, 128, 0]);
});

test("undo stack: push, undo, redo, and redo dropped by a new change", () => {
  const s = new UndoStack(null, 10);
  assert.ok(!s.canUndo && !s.canRedo);
  s.push("a");
  s.push("b");
  assert.equal(s.undo(), "a");
  assert.equal(s.undo(), null);
  assert.equal(s.undo(), null);
  assert.ok(!s.canUndo && s.canRedo);
  assert.equal(s.redo(), "a");
  s.push("c");
  assert.ok(!s.canRedo);
  assert.equal(s.undo(), "a");
  assert.equal(s.redo(), "c");
  s.reset(null);
  assert.equal(s.current, null);
  assert.ok(!s.canUndo && !s.canRedo);
});

test("undo stack drops the oldest state past its limit", () => {
  const s = new UndoStack(null, 3);
  for (const x of [1, 2, 3, 4]) s.push(x);
  assert.deepEqual(s.states, [2, 3, 4]);
  assert.equal(s.undo(), 3);
  assert.equal(s.undo(), 2);
  assert.ok(!s.canUndo);
});

test("undo limit shrinks for big images but keeps a few steps", () => {
  assert.equal(undoLimit(640, 480), 50);
  assert.ok(undoLimit(4096, 4096) >= 3);
  assert.ok(undoLimit(2048, 2048) < 50);
});
