import { test } from "node:test";
import assert from "node:assert/strict";
import { createUiState } from "../../js/ui.js";

test("UI-only state tells its listeners of a change once; unsubscribed listeners hear nothing", () => {
  const ui = createUiState({ markup: false });
  const seen = [];
  const off = ui.on("markup", (value) => seen.push(value));
  ui.set("markup", true);
  ui.set("markup", true); // no change, no event
  ui.set("drawer:past", true);
  assert.deepEqual(seen, [true]);
  assert.deepEqual(ui.which(["drawer:past", "drawer:compare", "markup"]), ["drawer:past", "markup"]);
  off();
  ui.set("markup", false);
  assert.deepEqual(seen, [true]);
});
