import { h, keepingFocus } from "./dom.js";
import { createDrawer } from "./drawer.js";
import { offerFor, restoreFor } from "./history.js";
import { configuredModels, paramSpec } from "./models.js";
import { formatMoney } from "./money.js";
import { createRequests, debounce, messages, send, setTraits, subscribe } from "./sync.js";
import { thumbnail } from "./thumbs.js";

export const MAX_REPEATS = 4; // the kernel refuses more (and more than 12 cells); it says why

// ---- pure logic ------------------------------------------------------------------------------

/** Models of a provider with a key (the kernel refuses the others), in the `models` trait's order. */
export const comparableModels = configuredModels;

/** The quality choices of the picked models that take `quality`, in first-seen order; [] when none does. */
export function qualityChoices(models = [], picked = []) {
  const out = [];
  for (const m of models) {
    if (!picked.includes(m.id)) continue;
    const spec = paramSpec(m, "quality");
    for (const q of spec?.choices || []) if (!out.includes(q)) out.push(q);
  }
  return out;
}

/** "6 calls, at most $1.27" from the kernel's `compare_estimate` reply. */
export function estimateText(reply) {
  if (!reply) return "";
  if (reply.error) return String(reply.error);
  const calls = `${reply.calls} call${reply.calls === 1 ? "" : "s"}`;
  return reply.worst_case == null ? `${calls}, at most: unknown (a price is not on file)` : `${calls}, at most ${formatMoney(reply.worst_case)}`;
}

/** The accessible name of a grid cell: "Cell 3: gpt-image-2 · low · #1". */
export function cellName(cell) {
  return `Cell ${cell.index}: ${cell.label}`;
}

/**
 * The cell's one-line label in the words a student knows: the model's friendly name (from the
 * `models` trait) instead of its id, then the quality and the repeat ("GPT Image 2 · low · #1").
 * The full label with the id stays in the cell's title.
 */
export function friendlyLabel(cell, models = []) {
  const label = models.find((m) => m.id === cell.model)?.label;
  if (!label) return cell.label;
  return [label, cell.quality || null, cell.repeat != null ? `#${cell.repeat}` : null].filter(Boolean).join(" · ");
}

/** What stands under a cell's thumbnail: its cost in cents ("unknown" when nobody knows), or why it has none. */
export function cellCaption(cell) {
  switch (cell.status) {
    case "ok":
      return formatMoney(cell.cost);
    case "pending":
      return "waiting";
    case "running":
      return "running…";
    case "skipped":
      return `skipped: ${cell.error || "not run"}`;
    default: {
      const billed = cell.cost == null ? "" : ` · ${formatMoney(cell.cost)}`;
      return `${cell.error || "failed"}${billed}`;
    }
  }
}

/** The message content of the current choice. */
export function choice(picked, qualities, repeats) {
  const n = Number.parseInt(repeats, 10);
  return { models: [...picked], qualities: [...qualities], repeats: Number.isFinite(n) ? n : 1 };
}

// ---- DOM -------------------------------------------------------------------------------------

/**
 * "Compare": the current prompt on several models and/or qualities, a few repeats each, as one
 * job. The estimate comes from the kernel (the prices live there); the grid from the `compare`
 * trait, so it is back after a page reload. Clicking a cell makes its image the one to edit.
 */
export function createCompare(model, cache, { promptText = () => model.get("prompt") ?? "", flush = () => {}, ui } = {}) {
  const button = h("button", { type: "button", class: "pp-btn", "aria-expanded": "false", title: "Run the prompt on several models or qualities side by side, with the cost of each" }, "Compare");
  const close = h("button", { type: "button", class: "pp-btn pp-btn-quiet", "aria-label": "Close" }, "✕");
  const modelBox = h("fieldset", { class: "pp-compare-models" });
  const qualityBox = h("fieldset", { class: "pp-compare-qualities" });
  const repeats = h("input", { type: "number", min: "1", max: String(MAX_REPEATS), step: "1", value: "1", "aria-label": "Repeats", class: "pp-compare-repeats" });
  const estimate = h("div", { class: "pp-compare-estimate", "aria-live": "polite" });
  const run = h("button", { type: "button", class: "pp-btn pp-btn-primary", title: "Run every cell (Cancel stops the cells not yet started)" }, "Run");
  const grid = h("div", { class: "pp-compare-grid", role: "list" });
  const el = h(
    "section",
    { class: "pp-compare", "aria-label": "Compare" },
    h("div", { class: "pp-past-head" }, h("strong", {}, "Compare"), h("span", { class: "pp-spacer" }), close),
    modelBox,
    qualityBox,
    h("label", { class: "pp-compare-line" }, "Repeats ", repeats),
    h("div", { class: "pp-compare-line" }, run, estimate),
    grid,
  );
  let picked = [];
  let pickedQualities = [];
  let lastReply = null;
  let latest = 0;
  const requests = createRequests(model, { kind: "compare_estimate" });
  const drawer = createDrawer({
    name: "compare",
    button,
    panel: el,
    close,
    ui,
    canEscape: () => model.get("status") !== "running", // then Escape cancels the run
    onOpen() {
      if (picked.length === 0 && model.get("model")) picked = [model.get("model")];
      renderModels();
      renderQualities();
      renderGrid();
      lastReply = null;
      renderEstimate();
      ask();
      modelBox.querySelector("input")?.focus({ preventScroll: true });
    },
  });
  const isOpen = drawer.isOpen;

  function current() {
    return choice(picked, pickedQualities.filter((q) => qualityChoices(model.get("models"), picked).includes(q)), repeats.value);
  }

  function ask() {
    if (!isOpen()) return;
    const mine = ++latest;
    requests.ask((request) => send(model, { ...messages.compareEstimate(current()), request })).then(
      ({ content }) => mine === latest && ((lastReply = content), renderEstimate()),
      (err) => mine === latest && ((lastReply = { error: err.message }), renderEstimate()),
    );
  }
  const reask = debounce(ask, 200);

  function checkbox(label, checked, onChange, title = null) {
    const input = h("input", { type: "checkbox" });
    input.checked = checked;
    input.addEventListener("change", () => {
      onChange(input.checked);
      renderQualities();
      reask();
    });
    return h("label", { class: "pp-compare-pick", title }, input, ` ${label}`);
  }

  function renderModels() {
    const models = comparableModels(model.get("models") || [], model.get("providers") || []);
    picked = picked.filter((id) => models.some((m) => m.id === id));
    modelBox.replaceChildren(
      h("legend", {}, "Models"),
      ...models.map((m) =>
        checkbox(m.label, picked.includes(m.id), (on) => (picked = on ? [...picked, m.id] : picked.filter((id) => id !== m.id)), m.id),
      ),
    );
  }

  function renderQualities() {
    const choices = qualityChoices(model.get("models") || [], picked);
    qualityBox.hidden = choices.length === 0;
    qualityBox.replaceChildren(
      h("legend", {}, "Quality (models that take it)"),
      ...choices.map((q) => checkbox(q, pickedQualities.includes(q), (on) => (pickedQualities = on ? [...pickedQualities, q] : pickedQualities.filter((x) => x !== q)))),
    );
  }

  function renderEstimate() {
    estimate.textContent = estimateText(lastReply);
    estimate.classList.toggle("pp-compare-error", Boolean(lastReply?.error));
    const blocked = !lastReply || Boolean(lastReply.error) || model.get("status") === "running";
    run.setAttribute("aria-disabled", String(blocked));
    if (lastReply && !lastReply.error) estimate.title = lastReply.worst_case == null ? "" : `at most ${formatMoney(lastReply.worst_case)}`;
  }

  function pick(cell) {
    const turn = (model.get("turns") || []).find((t) => t.id === cell.turn);
    if (!turn || !cell.image) return;
    // The grid stays open with the picked cell marked, so the next one is a click away.
    const typed = promptText();
    setTraits(model, restoreFor(turn, model.get("models") || [], 0, typed));
    ui?.set("offer", offerFor(turn, typed));
  }

  function renderGrid() {
    const cells = model.get("compare")?.cells || [];
    const models = model.get("models") || [];
    const shown = model.get("current")?.turn;
    grid.hidden = cells.length === 0;
    const scroller = grid.closest(".pp-drawers") ?? grid;
    const keep = scroller.scrollTop; // a re-render must not move what the student is looking at
    keepingFocus(grid, "data-cell", () => grid.replaceChildren(
      ...cells.map((cell) =>
        h(
          "button",
          {
            type: "button",
            role: "listitem",
            class: `pp-compare-cell pp-compare-${cell.status}`,
            "aria-label": cellName(cell),
            "aria-disabled": cell.image ? null : "true",
            "aria-pressed": cell.image ? String(cell.turn != null && cell.turn === shown) : null,
            title: [cell.label, cell.message, cell.cost == null ? null : formatMoney(cell.cost)].filter(Boolean).join("\n"),
            "data-cell": cell.index,
            onclick: () => pick(cell),
          },
          thumbnail(cache, cell.image, "pp-compare-thumb"),
          h("span", { class: "pp-compare-label" }, friendlyLabel(cell, models)),
          h("span", { class: "pp-compare-cost" }, cellCaption(cell)),
        ),
      ),
    ));
    scroller.scrollTop = keep;
  }

  repeats.addEventListener("input", reask);
  run.addEventListener("click", () => {
    if (run.getAttribute("aria-disabled") === "true") return;
    run.setAttribute("aria-disabled", "true"); // no second job from a double click; status re-enables
    flush(); // settings still on their way reach the kernel before the run that uses them
    send(model, messages.compare(current(), promptText()));
  });

  const stop = subscribe(model, {
    "change:compare": () => isOpen() && renderGrid(),
    "change:current": () => isOpen() && renderGrid(),
    "change:status": () => isOpen() && renderEstimate(),
    "change:error": () => isOpen() && renderEstimate(),
    // The estimate is for the current prompt and settings.
    "change:prompt": () => reask(),
    "change:params": () => reask(),
    "change:models": () => isOpen() && (renderModels(), renderQualities()),
    "change:providers": () => isOpen() && (renderModels(), renderQualities()),
  });

  return {
    button,
    el: drawer.slot,
    toggle: drawer.toggle,
    dispose() {
      drawer.dispose();
      stop();
      reask.cancel();
      requests.dispose();
    },
  };
}
