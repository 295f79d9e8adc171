import { h } from "./dom.js";
import { createDrawer } from "./drawer.js";
import { formatMoney } from "./money.js";
import { setTraits, subscribe } from "./sync.js";
import { thumbnail } from "./thumbs.js";

// ---- pure logic ------------------------------------------------------------------------------

const FREE = ["upload", "open"];

/**
 * The current branch as a conversation, oldest first: from the first turn down to the one shown,
 * following `parent`. Each entry: the instruction, the model's text reply (if any), the images,
 * and what it cost in words ("$0.0134", "unknown", "$0.00 (offline)", "" for uploads).
 */
export function threadOf(turns = [], current = {}) {
  const byId = new Map(turns.map((t) => [t.id, t]));
  const chain = [];
  const seen = new Set();
  for (let t = byId.get(current?.turn); t && !seen.has(t.id); t = byId.get(t.parent)) {
    seen.add(t.id);
    chain.unshift(t);
  }
  return chain.map((t) => ({
    id: t.id,
    kind: t.kind ?? "",
    instruction: t.kind === "upload" ? "" : String(t.prompt ?? ""),
    reply: t.text ? String(t.text) : "",
    images: t.images ?? [],
    model: t.model ?? "",
    cost: FREE.includes(t.kind) ? "" : t.offline ? `${formatMoney("0")} (offline)` : formatMoney(t.cost),
    mark: t.cancelled ? "cancelled" : t.refused ? "refused" : "",
    current: t.id === current?.turn,
  }));
}

// ---- DOM -------------------------------------------------------------------------------------

/**
 * "Thread": the branch being worked on, read like a chat (instruction → reply → image → cost).
 * A drawer in the wide column; clicking an image shows that turn (its prompt is not forced).
 */
export function createThread(model, cache, { ui } = {}) {
  const button = h("button", { type: "button", class: "pp-btn", "aria-expanded": "false", title: "The current branch as a conversation: each instruction, the reply, the image and its cost" }, "Thread");
  const close = h("button", { type: "button", class: "pp-btn pp-btn-quiet", "aria-label": "Close" }, "✕");
  const list = h("ol", { class: "pp-thread-list" });
  const el = h(
    "section",
    { class: "pp-thread", "aria-label": "Thread" },
    h("div", { class: "pp-past-head" }, h("strong", {}, "Thread of this branch"), h("span", { class: "pp-spacer" }), close),
    list,
  );
  const drawer = createDrawer({ name: "thread", button, panel: el, close, ui, onOpen: () => render() });

  function render() {
    if (!drawer.isOpen()) return;
    const entries = threadOf(model.get("turns") || [], model.get("current") || {});
    list.replaceChildren(
      ...(entries.length ? entries.map((e) =>
        h(
          "li",
          { class: `pp-thread-item${e.current ? " pp-thread-current" : ""}`, "aria-label": `Turn ${e.id} in thread`, "aria-current": e.current ? "true" : null },
          h("div", { class: "pp-thread-head" }, h("strong", {}, `#${e.id} ${e.kind}`), e.model ? ` · ${e.model}` : "",
            e.cost ? h("span", { class: "pp-thread-cost" }, e.cost) : null, e.mark ? h("span", { class: "pp-turn-mark" }, e.mark) : null),
          e.instruction ? h("div", { class: "pp-thread-instruction" }, e.instruction) : null,
          e.reply ? h("div", { class: "pp-thread-reply" }, h("span", { class: "pp-muted" }, "Model: "), e.reply) : null,
          h("div", { class: "pp-thread-images" }, ...e.images.map((sha, index) =>
            h("button", {
              type: "button",
              class: "pp-thread-image",
              "aria-label": `Show #${e.id}${e.images.length > 1 ? ` image ${index + 1}` : ""}`,
              onclick: () => setTraits(model, { current: { turn: e.id, index } }),
            }, thumbnail(cache, sha, "pp-thread-thumb")))),
        )) : [h("li", { class: "pp-muted" }, "No image yet: the thread starts with the first call.")]),
    );
  }

  const stops = [subscribe(model, { "change:turns": render, "change:current": render })];
  return {
    button,
    el: drawer.slot,
    dispose() {
      drawer.dispose();
      for (const stop of stops) stop();
    },
  };
}
