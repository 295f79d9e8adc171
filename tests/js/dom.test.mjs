import { test } from "node:test";
import assert from "node:assert/strict";
import { listen } from "../../js/dom.js";

test("listen adds every listener and the returned function removes them all", () => {
  const target = new EventTarget();
  const calls = [];
  const shared = (event) => calls.push(`shared:${event.type}`);
  const stop = listen(target, { up: shared, cancel: shared, down: (event) => calls.push(event.type) });
  for (const type of ["down", "up", "cancel", "other"]) target.dispatchEvent(new Event(type));
  assert.deepEqual(calls, ["down", "shared:up", "shared:cancel"]);
  stop();
  for (const type of ["down", "up", "cancel"]) target.dispatchEvent(new Event(type));
  assert.equal(calls.length, 3);
});

test("listen leaves other listeners on the same target alone", () => {
  const target = new EventTarget();
  let kept = 0;
  target.addEventListener("down", () => kept++);
  listen(target, { down: () => {} })();
  target.dispatchEvent(new Event("down"));
  assert.equal(kept, 1);
});
