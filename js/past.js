import { h } from "./dom.js";
import { createDrawer } from "./drawer.js";
import { formatMoney } from "./money.js";
import { createRequests, debounce, messages, send } from "./sync.js";
import { thumbnail } from "./thumbs.js";

// ---- pure logic ------------------------------------------------------------------------------

/** "2026-11-25 14:03" in the viewer's own time zone; the raw text if it is not a date. */
export function formatWhen(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return String(iso ?? "");
  const two = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** Newest first; every word of the filter must appear in the prompt, model or provider (as the kernel filters). */
export function filterPast(items = [], query = "") {
  const words = String(query).toLowerCase().split(/\s+/).filter(Boolean);
  return items
    .filter((item) => {
      const hay = [item.prompt, item.model, item.provider].join(" ").toLowerCase();
      return words.every((w) => hay.includes(w));
    })
    .sort((a, b) => String(b.at ?? "").localeCompare(String(a.at ?? "")));
}

export function pastLine(item) {
  let cost = item.kind === "upload" ? null : formatMoney(item.cost);
  if (cost && item.images > 1) cost += ` for ${item.images} images`; // the cost is the whole call's
  return [item.model, cost, formatWhen(item.at)].filter(Boolean).join(" · ");
}

// ---- DOM -------------------------------------------------------------------------------------

/**
 * "Past images": every image the store and the ledger know, across kernels and sessions.
 * Opening one makes it the current image (ready for Edit); hiding one takes it out of this list
 * only — the ledger row stays, money is never forgotten.
 */
export function createPast(model, cache, { ui } = {}) {
  const button = h("button", { type: "button", class: "pp-btn", "aria-expanded": "false", title: "Images from earlier sessions, from the store and the ledger" }, "Past images");
  const filter = h("input", { type: "search", class: "pp-past-filter", "aria-label": "Filter", placeholder: "Filter by prompt or model" });
  const list = h("ul", { class: "pp-past-list" });
  const empty = h("div", { class: "pp-muted" });
  const close = h("button", { type: "button", class: "pp-btn pp-btn-quiet", "aria-label": "Close" }, "✕");
  const el = h(
    "section",
    { class: "pp-past", "aria-label": "Past images" },
    h("div", { class: "pp-past-head" }, h("strong", {}, "Past images"), filter, close),
    empty,
    list,
  );
  let items = [];
  let loading = false;
  let failed = "";
  let latest = 0;
  const requests = createRequests(model, { kind: "past" });

  /** Asks the kernel for the list (filtered by the box, over all of the ledger), or to hide one. */
  function load(hideId = null) {
    const mine = ++latest;
    const query = filter.value.trim();
    const content = hideId ? messages.hidePast(hideId, query) : messages.past(query);
    requests.ask((request) => send(model, { ...content, request })).then(
      ({ content: reply }) => {
        if (mine !== latest) return; // a newer list is on its way
        items = Array.isArray(reply.items) ? reply.items : [];
        failed = reply.error ? String(reply.error) : "";
        loading = false;
        render();
      },
      (err) => {
        if (mine !== latest) return;
        failed = err.message;
        loading = false;
        render();
      },
    );
  }
  const reload = debounce(() => load(), 300);

  const drawer = createDrawer({
    name: "past",
    button,
    panel: el,
    close,
    ui,
    onOpen() {
      loading = items.length === 0;
      load();
      render();
      filter.focus({ preventScroll: true });
    },
  });
  const isOpen = drawer.isOpen;

  function render() {
    if (!isOpen()) return;
    const shown = filterPast(items, filter.value);
    empty.textContent = failed || (loading ? "Loading…" : items.length === 0 && !filter.value.trim() ? "No past images yet." : shown.length === 0 ? "Nothing matches." : "");
    empty.hidden = !empty.textContent;
    list.replaceChildren(
      ...shown.map((item) => {
        const open = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-label": `Open for editing: ${item.prompt || item.id.slice(0, 8)}` }, "Open");
        const hide = h("button", { type: "button", class: "pp-btn pp-btn-small pp-btn-quiet", "aria-label": `Hide: ${item.prompt || item.id.slice(0, 8)}`, title: "Hide from this list (the ledger keeps the call)" }, "Hide");
        open.addEventListener("click", () => {
          send(model, messages.openPast(item.id));
          drawer.shut();
        });
        hide.addEventListener("click", () => {
          items = items.filter((i) => i.id !== item.id);
          load(item.id);
          render();
          filter.focus({ preventScroll: true }); // the focused Hide went with its row
        });
        return h(
          "li",
          { class: "pp-past-item", "data-id": item.id, title: [item.prompt, item.model, formatMoney(item.cost)].filter(Boolean).join("\n") },
          thumbnail(cache, item.id, "pp-past-thumb"),
          h("div", { class: "pp-past-text" }, h("div", { class: "pp-past-prompt" }, item.prompt || "(no prompt)"), h("div", { class: "pp-muted" }, pastLine(item))),
          h("div", { class: "pp-past-actions" }, open, hide),
        );
      }),
    );
  }

  filter.addEventListener("input", () => {
    render(); // at once from what is loaded, then from the whole ledger
    reload();
  });

  return {
    button,
    el: drawer.slot,
    toggle: drawer.toggle,
    dispose() {
      drawer.dispose();
      reload.cancel();
      requests.dispose();
    },
  };
}
