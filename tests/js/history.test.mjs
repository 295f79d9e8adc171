import { test } from "node:test";
import assert from "node:assert/strict";
import { historyItems } from "../../js/history.js";

const turn = (id, parent, extra = {}) => ({
  id,
  parent,
  kind: parent == null ? "generate" : "edit",
  prompt: `p${id}`,
  provider: "openai",
  model: "gpt-image-2",
  params: {},
  images: [`sha${id}`],
  cost: "0.01",
  text: null,
  offline: false,
  ...extra,
});

test("linear history has no branch labels", () => {
  const items = historyItems([turn(1, null), turn(2, 1), turn(3, 2)], { turn: 3, index: 0 });
  assert.deepEqual(items.map((i) => i.from), [null, null, null]);
  assert.deepEqual(items.map((i) => i.lineage), [true, true, true]);
  assert.deepEqual(items.map((i) => i.current), [false, false, true]);
  assert.equal(items[0].thumb, "sha1");
  assert.equal(items[0].label, "#1");
});

test("a branch is labelled with its parent and the current lineage is marked", () => {
  // 1 → 2 → 3, then back to 1 → 4
  const items = historyItems([turn(1, null), turn(2, 1), turn(3, 2), turn(4, 1)], { turn: 4, index: 0 });
  assert.deepEqual(items.map((i) => i.from), [null, null, null, "↳ from #1"]);
  assert.deepEqual(items.map((i) => i.lineage), [true, false, false, true]);
  assert.deepEqual(items.map((i) => i.forks), [true, false, false, false]);
});

test("offline, upload, multi-image and unknown cost turns", () => {
  const items = historyItems(
    [
      turn(1, null, { kind: "upload", cost: null }),
      turn(2, 1, { offline: true, cost: null, images: ["a", "b", "c"] }),
      turn(3, 2, { cost: null }),
      turn(4, 3, { images: [] }),
    ],
    {},
  );
  assert.deepEqual(items.map((i) => i.cost), ["", "$0.00", "cost unknown", "$0.01"]);
  assert.deepEqual(items.map((i) => i.offline), [false, true, false, false]);
  assert.equal(items[1].count, 3);
  assert.equal(items[3].thumb, null);
  assert.ok(items.every((i) => !i.current && !i.lineage));
});

test("a parent cycle in bad data does not hang", () => {
  const items = historyItems([turn(1, 2), turn(2, 1)], { turn: 1 });
  assert.equal(items.length, 2);
});
