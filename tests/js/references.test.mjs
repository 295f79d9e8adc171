import { test } from "node:test";
import assert from "node:assert/strict";
import { referenceMessages, referencesSummary } from "../../js/references.js";

test("reference messages are the protocol's shapes", () => {
  assert.deepEqual(referenceMessages.add("cat.png"), { kind: "reference", name: "cat.png" });
  assert.deepEqual(referenceMessages.add(""), { kind: "reference", name: "image" });
  assert.deepEqual(referenceMessages.use("ab"), { kind: "reference", id: "ab" });
  assert.deepEqual(referenceMessages.remove("ab"), { kind: "remove_reference", id: "ab" });
  assert.deepEqual(referenceMessages.save(7), { kind: "save", request: 7 });
});

test("the summary says how many references the next call sends", () => {
  assert.match(referencesSummary([]), /Add pictures/);
  assert.equal(referencesSummary([{ id: "a", name: "x" }]), "1 reference image, sent with the next Generate or Edit.");
  assert.equal(referencesSummary([{}, {}]), "2 reference images, sent with the next Generate or Edit.");
});
