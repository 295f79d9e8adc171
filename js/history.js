import { h, keepingFocus } from "./dom.js";
import { paramsFor } from "./controls.js";
import { findModel } from "./models.js";
import { divideMoney, formatMoney, isPositive } from "./money.js";
import { setTraits, subscribe } from "./sync.js";
import { thumbnail } from "./thumbs.js";

// Uploads and images brought back from Past images cost nothing now (their call is in the ledger).
const FREE_KINDS = ["upload", "open"];

function turnCost(turn) {
  if (FREE_KINDS.includes(turn.kind)) return "";
  if (turn.offline) return formatMoney("0");
  return turn.cost == null ? "cost unknown" : formatMoney(turn.cost);
}

/** "$0.0201 each" for a call that made several images: what a student compares. */
function perImage(turn) {
  const n = turn.images?.length ?? 0;
  if (n < 2 || turn.cost == null || turn.offline) return null;
  return `${formatMoney(divideMoney(turn.cost, n))} each`;
}

/** The mark a cancelled or refused turn carries where it lands in the strip. */
export function turnMark(turn) {
  if (turn.cancelled) {
    const billed = turn.cost == null ? "cost unknown" : isPositive(turn.cost) ? `billed ${formatMoney(turn.cost)}` : "not billed";
    return `cancelled — ${billed}`;
  }
  if (turn.refused) return "refused";
  return null;
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
    const exact = FREE_KINDS.includes(turn.kind) || turn.offline ? "" : formatMoney(turn.cost);
    return {
      id: turn.id,
      kind: turn.kind,
      label: `#${turn.id}`,
      prompt: turn.prompt ?? "",
      thumb: images[0] ?? null,
      count: images.length,
      from: parent != null && parent !== turns[i - 1]?.id ? `↳ from #${parent}` : null,
      forks: (children.get(turn.id) ?? 0) > 1,
      current: turn.id === current?.turn,
      lineage: lineage.has(turn.id),
      offline: Boolean(turn.offline),
      cost: turnCost(turn),
      each: perImage(turn),
      mark: turnMark(turn),
      title: [`#${turn.id} ${turn.kind ?? ""}`.trim(), turn.prompt, turn.model, exact, turn.refused ? turn.text : null]
        .filter(Boolean)
        .join("\n"),
    };
  });
}

/**
 * "Send to edit": clicking a card brings back its image and the settings that made it, so the
 * next Edit or Generate starts from there. Its prompt fills the box only when the box is empty
 * (`typed`); over text the student typed it is offered instead (`offerFor`), never forced.
 * Uploads bring back the image only; a model no longer offered keeps today's choice.
 */
export function restoreFor(turn, models = [], index = 0, typed = "") {
  const out = { current: { turn: turn.id, index } };
  if (turn.kind === "upload") return out;
  const model = findModel(models, turn.model);
  if (!model) return out;
  const prompt = String(typed ?? "").trim() ? {} : { prompt: turn.prompt ?? "" };
  return { ...out, ...prompt, provider: model.provider, model: model.id, params: paramsFor(model.params, turn.params) };
}

/** The card's prompt to offer over what is typed: null when nothing is typed, or it is the same text. */
export function offerFor(turn, typed = "") {
  const prompt = String(turn?.prompt ?? "");
  const now = String(typed ?? "");
  if (turn?.kind === "upload" || !prompt.trim() || !now.trim() || prompt.trim() === now.trim()) return null;
  return { turn: turn.id, prompt };
}

export function createHistory(model, cache, { promptText = () => model.get("prompt") ?? "", ui = null } = {}) {
  const strip = h("div", { class: "pp-history-strip", role: "list" });
  const el = h("section", { class: "pp-history", "aria-label": "History" }, strip);
  let shownCount = 0;

  function restore(id) {
    const turn = (model.get("turns") || []).find((t) => t.id === id);
    if (!turn) return;
    const typed = promptText();
    setTraits(model, restoreFor(turn, model.get("models") || [], 0, typed));
    ui?.set("offer", offerFor(turn, typed)); // UI-only: "Use this prompt" beside the box
  }

  /**
   * Scrolls to the newest card so that no card is cut at either edge: the left edge lands on a
   * card's start, and a spacer at the end makes room for that (half a card hanging off the
   * left edge reads as a broken layout).
   */
  function showNewest() {
    strip.style.paddingRight = "";
    const cards = [...strip.children];
    const max = strip.scrollWidth - strip.clientWidth;
    if (max <= 0 || !cards.length) return;
    const base = cards[0].offsetLeft;
    const start = cards.map((c) => c.offsetLeft - base).find((left) => left >= max) ?? max;
    if (start > max) strip.style.paddingRight = `${start - max + 2}px`;
    strip.scrollLeft = start;
  }

  function render() {
    const turns = model.get("turns") || [];
    const items = historyItems(turns, model.get("current") || {});
    el.hidden = items.length === 0;
    keepingFocus(strip, "data-turn", () => strip.replaceChildren(
      ...items.map((item) =>
        h(
          "button",
          {
            type: "button",
            role: "listitem",
            class: `pp-turn${item.current ? " pp-turn-current" : ""}${item.lineage ? " pp-turn-lineage" : ""}${item.from ? " pp-turn-branch" : ""}${item.mark ? " pp-turn-marked" : ""}`,
            title: item.title,
            "aria-label": `Turn ${item.id}`,
            "aria-current": item.current ? "true" : null,
            "data-turn": item.id,
            onclick: () => restore(item.id),
          },
          thumbnail(cache, item.thumb, "pp-turn-thumb"),
          item.count > 1 ? h("span", { class: "pp-turn-count" }, `×${item.count}`) : null,
          h(
            "span",
            { class: "pp-turn-text" },
            h("span", { class: "pp-turn-label" }, `${item.label} ${item.kind ?? ""}`, item.from ? h("span", { class: "pp-turn-from" }, ` ${item.from}`) : null),
            h("span", { class: "pp-turn-prompt" }, item.prompt),
            item.mark ? h("span", { class: "pp-turn-mark" }, item.mark) : null,
            item.offline ? h("span", { class: "pp-turn-offline" }, "offline stand-in") : null,
            item.cost && !item.mark ? h("span", { class: "pp-turn-cost" }, item.each ? `${item.cost} · ${item.each}` : item.cost) : null,
          ),
        ),
      ),
    ));
    // Follow new turns as they arrive, but leave the scroll alone when only `current` moved.
    if (items.length > shownCount) showNewest();
    shownCount = items.length;
  }

  render();
  const handler = () => render();
  return { el, dispose: subscribe(model, { "change:turns": handler, "change:current": handler }) };
}
