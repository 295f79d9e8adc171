import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel } from "./fake-model.mjs";
import { createImageCache, debounce, downloadName, messages, setTraits, subscribe, watch, onMessage } from "../../js/sync.js";

test("message builders match the protocol", () => {
  assert.deepEqual(messages.run("generate"), { kind: "run", action: "generate" });
  assert.deepEqual(messages.run("edit"), { kind: "run", action: "edit" });
  assert.deepEqual(messages.run("edit", "make it night"), { kind: "run", action: "edit", prompt: "make it night" });
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

/** The kernel's side of a fetch: reply to the request the widget sent (the n-th fetch). */
function reply(model, n, extra = {}, buffers = [new Uint8Array([1, 2, 3])]) {
  const { id, thumb, request } = model.sent.filter((m) => m.content.kind === "fetch")[n].content;
  model.pySend({ kind: "image", id, thumb, mime: "image/png", request, ...extra }, buffers);
}

function fakeTimers() {
  let now = 0;
  const queue = new Map();
  let next = 1;
  return {
    setTimeout(fn, ms) {
      queue.set(next, { fn, at: now + ms });
      return next++;
    },
    clearTimeout(id) {
      queue.delete(id);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...queue]) if (t.at <= now) (queue.delete(id), t.fn());
    },
    get size() {
      return queue.size;
    },
  };
}

test("image cache fetches once per sha, with a request id, and resolves with an object URL", async () => {
  const model = new FakeModel();
  const urls = fakeURLs();
  const cache = createImageCache(model, urls);
  const a = cache.get("sha1");
  const b = cache.get("sha1");
  assert.equal(model.sent.length, 1);
  const first = model.sent[0].content;
  assert.deepEqual({ ...first, request: 0 }, { kind: "fetch", id: "sha1", thumb: false, request: 0 });
  assert.ok(Number.isInteger(first.request));
  // A thumbnail is a separate request, with its own id.
  cache.get("sha1", true);
  assert.equal(model.sent[1].content.thumb, true);
  assert.notEqual(model.sent[1].content.request, first.request);
  reply(model, 0);
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

test("image cache ignores unrelated, unrequested and duplicate replies", async () => {
  const model = new FakeModel();
  const urls = fakeURLs();
  const cache = createImageCache(model, urls);
  const p = cache.get("s");
  model.pySend({ kind: "image", id: "s", thumb: false, mime: "image/png" }, [new Uint8Array([1])]); // no request id
  model.pySend({ kind: "clear_mask" });
  reply(model, 0);
  reply(model, 0);
  await p;
  assert.equal(urls.created.length, 1);
});

test("an error reply rejects with the kernel's words and the next get asks again", async () => {
  const model = new FakeModel();
  const cache = createImageCache(model, fakeURLs());
  const p = cache.get("gone");
  reply(model, 0, { mime: null, error: "That image is not in the store any more." }, []);
  await assert.rejects(p, /not in the store/);
  cache.get("gone");
  assert.equal(model.sent.length, 2);
});

test("a reply without bytes rejects too", async () => {
  const model = new FakeModel();
  const cache = createImageCache(model, fakeURLs());
  const p = cache.get("gone");
  reply(model, 0, { mime: null }, []);
  await assert.rejects(p, /not available/);
});

test("no reply in time rejects, and a later get sends a new request instead of the dead promise", async () => {
  const model = new FakeModel();
  const timers = fakeTimers();
  const cache = createImageCache(model, { ...fakeURLs(), timers, timeoutMs: 30000 });
  const p = cache.get("slow");
  timers.advance(29999);
  assert.equal(model.sent.length, 1);
  timers.advance(1);
  await assert.rejects(p, /did not answer within 30 s/);
  const again = cache.get("slow");
  assert.equal(model.sent.length, 2);
  assert.notEqual(model.sent[1].content.request, model.sent[0].content.request);
  reply(model, 0); // the first request's late answer settles nothing
  reply(model, 1);
  assert.equal((await again).url, "blob:1");
  assert.equal(timers.size, 0);
});

test("dispose rejects what is still waiting", async () => {
  const model = new FakeModel();
  const cache = createImageCache(model, fakeURLs());
  const p = cache.get("x");
  cache.dispose();
  await assert.rejects(p, /closed/);
});

test("image cache evicts the oldest full-size images beyond its limit", async () => {
  const model = new FakeModel();
  const urls = fakeURLs();
  const cache = createImageCache(model, { ...urls, maxFull: 2 });
  let n = 0;
  for (const id of ["a", "b", "c"]) {
    const p = cache.get(id);
    reply(model, n++);
    await p;
  }
  assert.deepEqual(urls.revoked, ["blob:1"]);
  assert.equal(cache.peek("a"), undefined);
  assert.ok(cache.peek("c"));
});

test("a message handler that throws is reported and the others still run", () => {
  const model = new FakeModel();
  const errors = [];
  const seen = [];
  onMessage(model, () => {
    throw new Error("boom");
  }, (err) => errors.push(err.message));
  onMessage(model, (content) => seen.push(content.kind));
  model.pySend({ kind: "image" });
  assert.deepEqual(errors, ["boom"]);
  assert.deepEqual(seen, ["image"]);
});

test("debounce calls once after the last call; flush runs a pending call now", () => {
  const timers = fakeTimers();
  let calls = 0;
  const d = debounce(() => calls++, 300, timers);
  for (let i = 0; i < 10; i++) {
    d();
    timers.advance(100);
  }
  assert.equal(calls, 0);
  assert.equal(d.pending, true);
  timers.advance(300);
  assert.equal(calls, 1);
  d();
  d.flush();
  assert.equal(calls, 2);
  assert.equal(d.pending, false);
  d.flush();
  assert.equal(calls, 2);
});
