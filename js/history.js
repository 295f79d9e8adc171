import { h } from "./dom.js";
import { formatUSD } from "./cost.js";
import { setTraits, subscribe } from "./sync.js";

function turnCost(turn) {
  if (turn.kind === "upload") return "";
  if (turn.offline) return "$0.00";
  return turn.cost == null ? "cost unknown" : formatUSD(turn.cost);
}

/**
 * One card per turn, oldest first. A turn whose parent is not the card just before it is a
 * branch: it gets a "↳ from #N" label. The current turn's ancestry is marked so the branch
 * being worked on stands out.
 */
export function historyItems(turns = [], current = {}) {
  const byId = new Map(turns.map((t) => [t.id, t]));
  const children = new Map();
  for (const t of turns) if (t.parent != null) children.set(t.parent, (children.get(t.parent) ?? 0) + 1);
  const lineage = new Set();
  for (let t = byId.get(current?.turn); t && !lineage.has(t.id); t = byId.get(t.parent)) lineage.add(t.id);

  return turns.map((turn, i) => {
    const images = turn.images ?? [];
    const parent = turn.parent ?? null;
    return {
      id: turn.id,
      kind: turn.kind,
      label: `#${turn.id}`,
      thumb: images[0] ?? null,
      count: images.length,
      from: parent != null && parent !== turns[i - 1]?.id ? `↳ from #${parent}` : null,
      forks: (children.get(turn.id) ?? 0) > 1,
      current: turn.id === current?.turn,
      lineage: lineage.has(turn.id),
      offline: Boolean(turn.offline),
      cost: turnCost(turn),
      title: [turn.kind, turn.prompt, turn.model].filter(Boolean).join(" · "),
    };
  });
}

export function createHistory(model, cache) {
  const strip = h("div", { class: "pp-history-strip", role: "list" });
  const el = h("section", { class: "pp-history", "aria-label": "History" }, strip);
  let shownCount = 0;

  function thumb(sha) {
    const img = h("img", { class: "pp-turn-thumb", alt: "" });
    if (!sha) return h("div", { class: "pp-turn-thumb pp-turn-nothumb" }, "—");
    const ready = cache.peek(sha, true);
    if (ready) img.src = ready.url;
    else cache.get(sha, true).then((e) => (img.src = e.url), () => {});
    return img;
  }

  function render() {
    const turns = model.get("turns") || [];
    const items = historyItems(turns, model.get("current") || {});
    el.hidden = items.length === 0;
    strip.replaceChildren(
      ...items.map((item) =>
        h(
          "button",
          {
            type: "button",
            role: "listitem",
            class: `pp-turn${item.current ? " pp-turn-current" : ""}${item.lineage ? " pp-turn-lineage" : ""}${item.from ? " pp-turn-branch" : ""}`,
            title: item.title,
            "aria-label": `Turn ${item.id}`,
            "aria-current": item.current ? "true" : null,
            "data-turn": item.id,
            onclick: () => setTraits(model, { current: { turn: item.id, index: 0 } }),
          },
          thumb(item.thumb),
          item.count > 1 ? h("span", { class: "pp-turn-count" }, `×${item.count}`) : null,
          h("span", { class: "pp-turn-label" }, `${item.label} ${item.kind ?? ""}`),
          item.from ? h("span", { class: "pp-turn-from" }, item.from) : null,
          item.offline ? h("span", { class: "pp-turn-offline" }, "offline stand-in") : null,
          item.cost ? h("span", { class: "pp-turn-cost" }, item.cost) : null,
        ),
      ),
    );
    // Follow new turns as they arrive, but leave the scroll alone when only `current` moved.
    if (items.length > shownCount) strip.scrollLeft = strip.scrollWidth;
    shownCount = items.length;
  }

  render();
  const handler = () => render();
  return { el, dispose: subscribe(model, { "change:turns": handler, "change:current": handler }) };
}
