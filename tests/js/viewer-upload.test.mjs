import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel } from "./fake-model.mjs";
import { choicesFor, createMaskSender } from "../../js/viewer.js";
import { MAX_UPLOAD_BYTES, pickImageFile, uploadFile, uploadName, uploadProblem } from "../../js/upload.js";

const blobOf = (bytes) => new Blob([new Uint8Array(bytes)], { type: "image/png" });

test("mask sender: one message per commit, in commit order, empty → no buffer", async () => {
  const model = new FakeModel();
  const sender = createMaskSender(model);
  let release;
  const slow = new Promise((r) => (release = r));
  sender.commit(slow);
  sender.commit(null);
  const last = sender.commit(Promise.resolve(blobOf([9, 9])));
  release(blobOf([1, 2, 3]));
  await last;
  assert.deepEqual(model.sent.map((m) => m.content), [{ kind: "mask" }, { kind: "mask" }, { kind: "mask" }]);
  assert.deepEqual(model.sent.map((m) => m.buffers.length), [1, 0, 1]);
  assert.deepEqual([...new Uint8Array(model.sent[0].buffers[0])], [1, 2, 3]);
  assert.ok(model.sent[0].buffers[0] instanceof ArrayBuffer);
});

test("mask sender drops masks encoded for a previous image", async () => {
  const model = new FakeModel();
  const sender = createMaskSender(model);
  let release;
  const pending = sender.commit(new Promise((r) => (release = r)));
  sender.invalidate();
  release(blobOf([1]));
  await pending;
  assert.equal(model.sent.length, 0);
});

test("mask sender reports a failed export and keeps going", async () => {
  const model = new FakeModel();
  const errors = [];
  const sender = createMaskSender(model, (e) => errors.push(e.message));
  sender.commit(Promise.reject(new Error("nope")));
  await sender.commit(null);
  assert.deepEqual(errors, ["nope"]);
  assert.equal(model.sent.length, 1);
});

test("choices only when the current turn has several images", () => {
  const turns = [
    { id: 1, images: ["a"] },
    { id: 2, images: ["b", "c", "d"] },
  ];
  assert.equal(choicesFor(turns, { turn: 1, index: 0 }), null);
  assert.equal(choicesFor(turns, {}), null);
  assert.deepEqual(choicesFor(turns, { turn: 2, index: 1 }), { turn: 2, selected: 1, images: ["b", "c", "d"] });
});

test("upload helpers pick images, name pastes and enforce the size limit", async () => {
  const png = new File([new Uint8Array([1, 2])], "photo.png", { type: "image/png" });
  const txt = new File(["x"], "notes.txt", { type: "text/plain" });
  assert.equal(pickImageFile([txt, png]), png);
  assert.equal(pickImageFile([txt]), null);
  assert.equal(pickImageFile(null), null);
  const item = { kind: "file", getAsFile: () => png };
  assert.equal(pickImageFile([{ kind: "string", getAsFile: () => null }, item]), png);
  assert.equal(uploadName(png), "photo.png");
  assert.equal(uploadName({ type: "image/jpeg" }), "pasted.jpeg");
  assert.equal(uploadProblem(png), null);
  assert.match(uploadProblem({ name: "big.png", size: MAX_UPLOAD_BYTES + 1 }), /limit is 20 MB/);
  assert.match(uploadProblem(null), /not an image/);
  // Formats the kernel refuses are refused here, before their bytes cross the websocket.
  const tiff = new File([new Uint8Array([73, 73, 42, 0])], "scan.tiff", { type: "image/tiff" });
  assert.match(uploadProblem(tiff), /scan\.tiff is image\/tiff; use PNG, JPEG, WebP or GIF/);
  assert.equal(uploadProblem(new File([new Uint8Array([1])], "x.gif", { type: "image/gif" })), null);

  const model = new FakeModel();
  const reports = [];
  assert.equal(await uploadFile(model, png, (r) => reports.push(r)), true);
  assert.deepEqual(model.sent[0].content, { kind: "upload", name: "photo.png" });
  assert.deepEqual([...new Uint8Array(model.sent[0].buffers[0])], [1, 2]);
  assert.equal(await uploadFile(model, null, (r) => reports.push(r)), false);
  assert.equal(model.sent.length, 1);
  assert.deepEqual(reports.map(Boolean), [false, true]);
});
