import { test } from "node:test";
import assert from "node:assert/strict";
import { watchConnection } from "../../js/connection.js";
import { FakeModel } from "./fake-model.mjs";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const signal = () => {
  const slots = new Set();
  return { connect: (fn) => slots.add(fn), disconnect: (fn) => slots.delete(fn), emit: (v) => [...slots].forEach((fn) => fn(null, v)), slots };
};

test("a restarting kernel marks the view lost; busy and idle do not; dispose lets go of the signal", () => {
  const statusChanged = signal();
  const model = new FakeModel();
  model.widget_manager = { kernel: { statusChanged } };
  const seen = [];
  const watch = watchConnection(model, { closest: () => null }, (lost) => seen.push(lost));
  statusChanged.emit("busy");
  statusChanged.emit("idle");
  assert.deepEqual(seen, []);
  statusChanged.emit("restarting");
  assert.deepEqual(seen, [true]);
  watch.dispose();
  assert.equal(statusChanged.slots.size, 0);
  assert.equal(model.listenerCount(), 0);
});

test("without the host's class, comm_live_update means lost and a kernel message means back", async () => {
  const model = new FakeModel();
  const seen = [];
  const watch = watchConnection(model, { closest: () => null }, (lost) => seen.push(lost));
  model.emit("comm_live_update");
  await tick();
  assert.equal(watch.lost, true);
  model.pySend({ kind: "ack" });
  assert.deepEqual(seen, [true, false]);
  model.emit("comm:close");
  assert.equal(watch.lost, true);
  watch.dispose();
});

test("where the host marks its element, the class decides both ways", async () => {
  const model = new FakeModel();
  let marked = true;
  const watch = watchConnection(model, { closest: () => (marked ? {} : null) }, () => {});
  model.emit("comm_live_update");
  await tick();
  assert.equal(watch.lost, true);
  model.pySend({ kind: "ack" }); // a message alone does not overrule the host's class
  assert.equal(watch.lost, true);
  marked = false;
  model.emit("comm_live_update");
  await tick();
  assert.equal(watch.lost, false);
  watch.dispose();
});
