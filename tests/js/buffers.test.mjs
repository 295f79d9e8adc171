// Image bytes reach the front end wrapped differently per host: DataView (the anywidget spec,
// JupyterLab, marimo), Uint8Array (Colab's widget manager), ArrayBuffer, sometimes from another
// realm (an output iframe). The cache must turn each into exactly the kernel's bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import { FakeModel } from "./fake-model.mjs";
import { asBytes, createImageCache } from "../../js/sync.js";

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 8, 9];
const urls = () => ({ createURL: () => "blob:x", revokeURL: () => {} });

/** The PNG bytes in the middle of a larger buffer, as a transport that slices a frame hands them. */
function framed() {
  const frame = new Uint8Array(PNG.length + 10).fill(0xee);
  frame.set(PNG, 4);
  return { buffer: frame.buffer, offset: 4 };
}

/** The kernel's reply to the cache's fetch, with `buffer` exactly as the host hands it over. */
function answer(model, buffer) {
  const { id, thumb, request } = model.sent.at(-1).content;
  model.emit("msg:custom", { kind: "image", id, thumb, mime: "image/png", request }, [buffer]);
}

async function delivered(buffer) {
  const model = new FakeModel();
  const cache = createImageCache(model, urls());
  const pending = cache.get("sha");
  answer(model, buffer);
  const entry = await pending;
  return [...new Uint8Array(await entry.blob.arrayBuffer())];
}

test("a DataView (anywidget, JupyterLab, marimo) gives exactly the image bytes", async () => {
  const { buffer, offset } = framed();
  assert.deepEqual(await delivered(new DataView(buffer, offset, PNG.length)), PNG);
});

test("a Uint8Array (Colab) gives exactly the image bytes, offset honoured", async () => {
  const { buffer, offset } = framed();
  assert.deepEqual(await delivered(new Uint8Array(buffer, offset, PNG.length)), PNG);
});

test("an ArrayBuffer gives exactly the image bytes", async () => {
  assert.deepEqual(await delivered(new Uint8Array(PNG).buffer), PNG);
});

test("buffers made in another realm (an output iframe) are accepted too", async () => {
  const foreign = vm.runInNewContext(`new Uint8Array(${JSON.stringify(PNG)})`);
  assert.equal(foreign instanceof Uint8Array, false); // what would trip an instanceof check
  assert.deepEqual(await delivered(foreign), PNG);
  assert.deepEqual(await delivered(vm.runInNewContext(`new DataView(new Uint8Array(${JSON.stringify(PNG)}).buffer)`)), PNG);
  assert.deepEqual([...asBytes(foreign.buffer)], PNG);
});

test("anything else is an error that says what arrived, and the image is asked for again", async () => {
  const model = new FakeModel();
  const cache = createImageCache(model, urls());
  const pending = cache.get("sha");
  answer(model, "iVBORw0KGgo=");
  await assert.rejects(pending, /arrived as \[object String\]/);
  cache.get("sha");
  assert.equal(model.sent.length, 2);
});
