// Traitlet and custom-message plumbing. Nothing here touches the DOM, so the node tests can
// drive it with a fake model.

function reportError(err, event = "") {
  console.error(`promptpaint: ${event}`, err);
}

export function setTraits(model, values) {
  for (const [name, value] of Object.entries(values)) model.set(name, value);
  model.save_changes();
}

/**
 * `model.on` for every `{ "change:trait" | "msg:custom": fn }` entry; returns one function that
 * calls `model.off` for them all. Handlers are registered in key order.
 */
export function subscribe(model, handlers, onError = reportError) {
  // A handler that throws (a value no renderer expected) must not break the model's event
  // loop or the other views: it is logged, and the next good value renders again.
  const entries = Object.entries(handlers).map(([event, fn]) => [
    event,
    (...args) => {
      try {
        return fn(...args);
      } catch (err) {
        onError(err, event);
      }
    },
  ]);
  for (const [event, fn] of entries) model.on(event, fn);
  return () => {
    for (const [event, fn] of entries) model.off(event, fn);
  };
}

/** Calls `callback` when any of the named traits changes; returns the unsubscribe function. */
export function watch(model, names, callback) {
  return subscribe(model, Object.fromEntries(names.map((name) => [`change:${name}`, callback])));
}

/**
 * Custom messages from the kernel. A handler that throws must not kill the others or leave a
 * request hanging silently: `onError` (default: console.error) gets what it threw.
 */
export function onMessage(model, callback, onError = reportError) {
  const handler = (content, buffers) => {
    try {
      const done = callback(content ?? {}, buffers ?? []);
      if (done && typeof done.catch === "function") done.catch(onError);
    } catch (err) {
      onError(err);
    }
  };
  return subscribe(model, { "msg:custom": handler });
}

export const messages = {
  // The prompt rides along: hosts that post the trait update and this message separately (marimo)
  // may deliver them out of order, and the kernel must run the text on screen.
  run: (action, prompt = undefined) => (prompt === undefined ? { kind: "run", action } : { kind: "run", action, prompt: String(prompt) }),
  cancel: () => ({ kind: "cancel" }),
  mask: () => ({ kind: "mask" }),
  markup: () => ({ kind: "markup" }),
  upload: (name) => ({ kind: "upload", name: String(name || "image") }),
  fetch: (id, thumb = false, request = undefined) =>
    request === undefined ? { kind: "fetch", id, thumb: Boolean(thumb) } : { kind: "fetch", id, thumb: Boolean(thumb), request },
  fetchMask: () => ({ kind: "fetch_mask" }),
  // The Download button's copy: the image with how it was made written inside it (provenance).
  download: (id, request) => ({ kind: "fetch", id, thumb: false, download: true, request }),
  past: (query = "") => ({ kind: "past", query: String(query) }),
  openPast: (id) => ({ kind: "open_past", id }),
  hidePast: (id, query = "") => ({ kind: "hide_past", id, query: String(query) }),
  compareEstimate: (choice) => ({ kind: "compare_estimate", ...choice }),
  compare: (choice, prompt) => ({ kind: "compare", ...choice, prompt: String(prompt ?? "") }),
};

/**
 * `fn` runs `ms` after the last call. `flush()` runs a pending call now (before a message that
 * depends on it, e.g. the prompt before Generate); `pending` says whether one is waiting.
 */
export function debounce(fn, ms, timers = globalThis) {
  let timer = null;
  const fire = () => {
    timer = null;
    fn();
  };
  const call = () => {
    timers.clearTimeout(timer);
    timer = timers.setTimeout(fire, ms);
  };
  call.flush = () => {
    if (timer === null) return;
    timers.clearTimeout(timer);
    fire();
  };
  call.cancel = () => {
    timers.clearTimeout(timer);
    timer = null;
  };
  Object.defineProperty(call, "pending", { get: () => timer !== null });
  return call;
}

let lastRequest = 0;

/**
 * One request/reply exchange with the kernel: `send(request)` sends a message carrying the id,
 * the kernel's reply with the same `request` settles it; no reply within `timeoutMs` rejects.
 * Every request gets a fresh id, so a late reply to a request that timed out is ignored.
 */
export function createRequests(model, { kind, timeoutMs = 30000, timers = globalThis }) {
  const pending = new Map();
  const stop = onMessage(model, (content, buffers) => {
    if (content.kind !== kind || !pending.has(content.request)) return;
    const { resolve, reject, timer } = pending.get(content.request);
    pending.delete(content.request);
    timers.clearTimeout(timer);
    if (content.error) reject(new Error(String(content.error)));
    else resolve({ content, buffers });
  });
  return {
    ask(send) {
      const request = ++lastRequest;
      return new Promise((resolve, reject) => {
        const timer = timers.setTimeout(() => {
          pending.delete(request);
          reject(new Error(`The kernel did not answer within ${Math.round(timeoutMs / 1000)} s. Is it still running?`));
        }, timeoutMs);
        // Under Node (the unit tests) a pending request must not hold the process open for 30 s.
        timer?.unref?.();
        pending.set(request, { resolve, reject, timer });
        try {
          send(request);
        } catch (err) {
          timers.clearTimeout(timer);
          pending.delete(request);
          reject(err);
        }
      });
    },
    dispose() {
      stop();
      for (const { reject, timer } of pending.values()) {
        timers.clearTimeout(timer);
        reject(new Error("The view was closed."));
      }
      pending.clear();
    },
  };
}

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
  "image/svg+xml": "svg",
};

/** "a red fox in the snow, watercolour" → "a-red-fox-in-the-snow": a few words, ASCII, no dots. */
export function slug(text, maxLength = 40) {
  const words = String(text ?? "")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (words.length <= maxLength) return words;
  const cut = words.slice(0, maxLength + 1);
  const lastDash = cut.lastIndexOf("-");
  return (lastDash > 8 ? cut.slice(0, lastDash) : cut.slice(0, maxLength)).replace(/-+$/, "");
}

/** Named after what it shows, plus a short hash so two images of one prompt differ. */
export function downloadName(sha, mime = "image/png", prompt = "") {
  return `${slug(prompt) || "promptpaint"}-${String(sha).slice(0, 8)}.${EXTENSIONS[mime] ?? "png"}`;
}

/**
 * Fetches image bytes from the kernel on demand and keeps them as object URLs, keyed by sha
 * (images are content-addressed, so an entry never goes stale). Full-size images are the
 * memory hogs, so only the most recent `maxFull` of them are kept; thumbnails stay.
 * A request that fails (an error reply, no bytes, or no reply in time) is forgotten, so the
 * next `get` asks again instead of returning the same dead promise.
 */
export function createImageCache(model, options = {}) {
  const createURL = options.createURL ?? ((blob) => URL.createObjectURL(blob));
  const revokeURL = options.revokeURL ?? ((url) => URL.revokeObjectURL(url));
  const maxFull = options.maxFull ?? 12;
  const requests = createRequests(model, { kind: "image", timeoutMs: options.timeoutMs, timers: options.timers });
  const entries = new Map();
  const keyOf = (id, thumb) => `${thumb ? "thumb" : "full"}:${id}`;

  function evict() {
    const full = [...entries.entries()].filter(([key, e]) => key.startsWith("full:") && e.url);
    for (const [key, entry] of full.slice(0, Math.max(0, full.length - maxFull))) {
      revokeURL(entry.url);
      entries.delete(key);
    }
  }

  function load(key, entry) {
    return requests.ask((request) => send(model, messages.fetch(entry.id, entry.thumb, request))).then(
      ({ content, buffers }) => {
        if (!buffers.length) throw new Error(`Image ${String(entry.id).slice(0, 12)}… is not available.`);
        entry.mime = content.mime || "image/png";
        entry.blob = new Blob([asBytes(buffers[0])], { type: entry.mime });
        entry.url = createURL(entry.blob);
        // Re-insert so Map order is recency order for eviction.
        entries.delete(key);
        entries.set(key, entry);
        if (!entry.thumb) evict();
        return entry;
      },
    ).catch((err) => {
      if (entries.get(key) === entry) entries.delete(key);
      throw err;
    });
  }

  return {
    get(id, thumb = false) {
      const key = keyOf(id, thumb);
      let entry = entries.get(key);
      if (!entry) {
        entry = { id, thumb: Boolean(thumb) };
        entries.set(key, entry);
        entry.promise = load(key, entry);
        entry.promise.catch(() => {});
      }
      return entry.promise;
    },
    /** The loaded entry, or undefined; lets renders reuse a URL without a flicker. */
    peek(id, thumb = false) {
      const entry = entries.get(keyOf(id, thumb));
      return entry?.url ? entry : undefined;
    },
    dispose() {
      requests.dispose();
      for (const entry of entries.values()) if (entry.url) revokeURL(entry.url);
      entries.clear();
    },
  };
}
