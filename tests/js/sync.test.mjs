import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel } from "./fake-model.mjs";
import { createImageCache, downloadName, messages, setTraits, subscribe, watch, onMessage } from "../../js/sync.js";

test("message builders match the protocol", () => {
  assert.deepEqual(messages.run("generate"), { kind: "run", action: "generate" });
  assert.deepEqual(messages.run("edit"), { kind: "run", action: "edit" });
  assert.deepEqual(messages.cancel(), { kind: "cancel" });
  assert.deepEqual(messages.mask(), { kind: "mask" });
  assert.deepEqual(messages.upload("a.jpg"), { kind: "upload", name: "a.jpg" });
  assert.deepEqual(messages.fetch("abc"), { kind: "fetch", id: "abc", thumb: false });
  assert.deepEqual(messages.fetch("abc", true), { kind: "fetch", id: "abc", thumb: true });
});

test("setTraits sets every value then saves once", () => {
  const model = new FakeModel();
  setTraits(model, { model: "m", params: { n: 1 } });
  assert.equal(model.get("model"), "m");
  assert.deepEqual(model.get("params"), { n: 1 });
  assert.equal(model.saves, 1);
});

test("watch and onMessage unsubscribe cleanly", () => {
  const model = new FakeModel();
  let calls = 0;
  const stop = watch(model, ["a", "b"], () => calls++);
  const stopMsg = onMessage(model, () => calls++);
  model.set("a", 1);
  model.set("b", 2);
  model.pySend({ kind: "x" });
  assert.equal(calls, 3);
  stop();
  stopMsg();
  assert.equal(model.listenerCount(), 0);
});

test("subscribe registers every key in order and one call removes them all", () => {
  const model = new FakeModel();
  const calls = [];
  const shared = (value) => calls.push(["shared", value]);
  const stop = subscribe(model, {
    "change:a": shared,
    "change:b": shared,
    "change:c": (value) => calls.push(["c", value]),
    "msg:custom": (content, buffers) => calls.push(["msg", content.kind, buffers.length]),
  });
  // A second subscription to the same trait fires after the first one.
  const stopLater = subscribe(model, { "change:a": () => calls.push(["later"]) });
  model.set("a", 1);
  model.set("b", 2);
  model.set("c", 3);
  model.pySend({ kind: "x" }, [new ArrayBuffer(1)]);
  assert.deepEqual(calls, [["shared", 1], ["later"], ["shared", 2], ["c", 3], ["msg", "x", 1]]);
  assert.equal(model.listenerCount(), 5);
  stop();
  assert.equal(model.listenerCount(), 1);
  model.set("a", 4);
  model.set("c", 5);
  model.pySend({ kind: "y" });
  assert.deepEqual(calls.slice(5), [["later"]]);
  stopLater();
  assert.equal(model.listenerCount(), 0);
});

test("downloadName uses the first 8 chars of the sha", () => {
  assert.equal(downloadName("0123456789abcdef"), "promptpaint-01234567.png");
  assert.equal(downloadName("0123456789abcdef", "image/jpeg"), "promptpaint-01234567.jpg");
});

function fakeURLs() {
  const created = [];
  const revoked = [];
  return {
    created,
    revoked,
    createURL: (blob) => {
      created.push(blob);
      return `blob:${created.length}`;
    },
    revokeURL: (url) => revoked.push(url),
  };
}

test("image cache fetches once per sha and resolves with an object URL", async () => {
  const model = new FakeModel();
  const urls = fakeURLs();
  const cache = createImageCache(model, urls);
  const a = cache.get("sha1");
  const b = cache.get("sha1");
  assert.equal(model.sent.length, 1);
  assert.deepEqual(model.sent[0].content, { kind: "fetch", id: "sha1", thumb: false });
  // A thumbnail is a separate request.
  cache.get("sha1", true);
  assert.deepEqual(model.sent[1].content, { kind: "fetch", id: "sha1", thumb: true });
  model.pySend({ kind: "image", id: "sha1", thumb: false, mime: "image/png" }, [new Uint8Array([1, 2, 3])]);
  const [ea, eb] = await Promise.all([a, b]);
  assert.equal(ea, eb);
  assert.equal(ea.url, "blob:1");
  assert.equal(ea.mime, "image/png");
  assert.equal(ea.blob.size, 3);
  assert.equal(cache.peek("sha1").url, "blob:1");
  assert.equal(cache.peek("sha1", true), undefined);
  cache.dispose();
  assert.deepEqual(urls.revoked, ["blob:1"]);
  assert.equal(model.listenerCount(), 0);
});

test("image cache ignores unrelated and duplicate replies", async () => {
  const model = new FakeModel();
  const urls = fakeURLs();
  const cache = createImageCache(model, urls);
  const p = cache.get("s");
  model.pySend({ kind: "image", id: "other", thumb: false, mime: "image/png" }, [new Uint8Array([1])]);
  model.pySend({ kind: "clear_mask" });
  model.pySend({ kind: "image", id: "s", thumb: false, mime: "image/png" }, [new Uint8Array([1])]);
  model.pySend({ kind: "image", id: "s", thumb: false, mime: "image/png" }, [new Uint8Array([1])]);
  await p;
  assert.equal(urls.created.length, 1);
});

test("image cache rejects a reply without bytes and asks again next time", async () => {
  const model = new FakeModel();
  const cache = createImageCache(model, fakeURLs());
  const p = cache.get("gone");
  model.pySend({ kind: "image", id: "gone", thumb: false });
  await assert.rejects(p);
  cache.get("gone");
  assert.equal(model.sent.length, 2);
});

test("image cache evicts the oldest full-size images beyond its limit", async () => {
  const model = new FakeModel();
  const urls = fakeURLs();
  const cache = createImageCache(model, { ...urls, maxFull: 2 });
  for (const id of ["a", "b", "c"]) {
    const p = cache.get(id);
    model.pySend({ kind: "image", id, thumb: false, mime: "image/png" }, [new Uint8Array([1])]);
    await p;
  }
  assert.deepEqual(urls.revoked, ["blob:1"]);
  assert.equal(cache.peek("a"), undefined);
  assert.ok(cache.peek("c"));
});
