// Traitlet and custom-message plumbing. Nothing here touches the DOM, so the node tests can
// drive it with a fake model.

export function setTraits(model, values) {
  for (const [name, value] of Object.entries(values)) model.set(name, value);
  model.save_changes();
}

/**
 * `model.on` for every `{ "change:trait" | "msg:custom": fn }` entry; returns one function that
 * calls `model.off` for them all. Handlers are registered in key order.
 */
export function subscribe(model, handlers) {
  const entries = Object.entries(handlers);
  for (const [event, fn] of entries) model.on(event, fn);
  return () => {
    for (const [event, fn] of entries) model.off(event, fn);
  };
}

/** Calls `callback` when any of the named traits changes; returns the unsubscribe function. */
export function watch(model, names, callback) {
  return subscribe(model, Object.fromEntries(names.map((name) => [`change:${name}`, callback])));
}

export function onMessage(model, callback) {
  const handler = (content, buffers) => callback(content ?? {}, buffers ?? []);
  return subscribe(model, { "msg:custom": handler });
}

export const messages = {
  run: (action) => ({ kind: "run", action }),
  cancel: () => ({ kind: "cancel" }),
  mask: () => ({ kind: "mask" }),
  upload: (name) => ({ kind: "upload", name: String(name || "image") }),
  fetch: (id, thumb = false) => ({ kind: "fetch", id, thumb: Boolean(thumb) }),
};

export function send(model, content, buffers = []) {
  model.send(content, undefined, buffers);
}

/**
 * Image bytes from the kernel, whatever the front end wraps them in: anywidget and marimo hand
 * over DataViews, Colab's widget manager Uint8Arrays, others ArrayBuffers, possibly from another
 * realm (an output iframe), where `instanceof` fails. A view's offset into a larger buffer is kept.
 * Anything else is an error: a Blob would silently turn it into the text "[object Object]".
 */
export function asBytes(buffer) {
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const tag = Object.prototype.toString.call(buffer);
  if (tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]") return new Uint8Array(buffer);
  throw new TypeError(`image bytes arrived as ${tag}, not a DataView, typed array or ArrayBuffer`);
}

const EXTENSIONS = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
};

export function downloadName(sha, mime = "image/png") {
  return `promptpaint-${String(sha).slice(0, 8)}.${EXTENSIONS[mime] ?? "png"}`;
}

/**
 * Fetches image bytes from the kernel on demand and keeps them as object URLs, keyed by sha
 * (images are content-addressed, so an entry never goes stale). Full-size images are the
 * memory hogs, so only the most recent `maxFull` of them are kept; thumbnails stay.
 */
export function createImageCache(model, options = {}) {
  const createURL = options.createURL ?? ((blob) => URL.createObjectURL(blob));
  const revokeURL = options.revokeURL ?? ((url) => URL.revokeObjectURL(url));
  const maxFull = options.maxFull ?? 12;
  const entries = new Map();
  const keyOf = (id, thumb) => `${thumb ? "thumb" : "full"}:${id}`;

  function evict() {
    const full = [...entries.entries()].filter(([key, e]) => key.startsWith("full:") && e.url);
    for (const [key, entry] of full.slice(0, Math.max(0, full.length - maxFull))) {
      revokeURL(entry.url);
      entries.delete(key);
    }
  }

  const stop = onMessage(model, (content, buffers) => {
    if (content.kind !== "image") return;
    const key = keyOf(content.id, content.thumb);
    const entry = entries.get(key);
    if (!entry || entry.url) return;
    if (!buffers.length) {
      // The kernel no longer has it; forget the entry so a later get() asks again.
      entries.delete(key);
      entry.reject(new Error(`image ${content.id} not available`));
      return;
    }
    let bytes;
    try {
      bytes = asBytes(buffers[0]);
    } catch (err) {
      entries.delete(key);
      entry.reject(err);
      return;
    }
    entry.mime = content.mime || "image/png";
    entry.blob = new Blob([bytes], { type: entry.mime });
    entry.url = createURL(entry.blob);
    // Re-insert so Map order is recency order for eviction.
    entries.delete(key);
    entries.set(key, entry);
    entry.resolve(entry);
    if (!content.thumb) evict();
  });

  return {
    get(id, thumb = false) {
      const key = keyOf(id, thumb);
      let entry = entries.get(key);
      if (!entry) {
        entry = { id, thumb: Boolean(thumb) };
        entry.promise = new Promise((resolve, reject) => {
          entry.resolve = resolve;
          entry.reject = reject;
        });
        entry.promise.catch(() => {});
        entries.set(key, entry);
        send(model, messages.fetch(id, thumb));
      }
      return entry.promise;
    },
    /** The loaded entry, or undefined; lets renders reuse a URL without a flicker. */
    peek(id, thumb = false) {
      const entry = entries.get(keyOf(id, thumb));
      return entry?.url ? entry : undefined;
    },
    dispose() {
      stop();
      for (const entry of entries.values()) if (entry.url) revokeURL(entry.url);
      entries.clear();
    },
  };
}
