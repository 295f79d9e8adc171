import { h } from "./dom.js";
import { subscribe } from "./sync.js";

/**
 * Costs arrive as decimal strings so nothing is lost to floats; format them as strings too.
 * null/undefined/"" → "unknown".
 */
export function formatUSD(value) {
  if (value == null || value === "") return "unknown";
  const text = String(value).trim();
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return text;
  const [, sign, whole, frac = ""] = match;
  const digits = frac.replace(/0+$/, "");
  const shown = digits.length >= 2 ? digits : digits.padEnd(2, "0");
  const isZero = /^0*$/.test(whole) && /^0*$/.test(frac);
  return `${sign && !isZero ? "-" : ""}$${whole.replace(/^0+(?=\d)/, "") || "0"}.${shown}`;
}

export function costRows(costs = {}) {
  const rows = [
    ["Last call", formatUSD(costs.last)],
    ["This widget", formatUSD(costs.widget)],
    ["All time", formatUSD(costs.all_time)],
  ];
  if (costs.budget_left != null) rows.push(["Budget left", formatUSD(costs.budget_left)]);
  rows.push(["Next call (est.)", formatUSD(costs.estimate)]);
  return rows;
}

export function createCostPanel(model) {
  const list = h("dl", { class: "pp-cost-list" });
  const note = h("div", { class: "pp-cost-note" });
  const el = h("section", { class: "pp-cost", "aria-label": "Cost" }, list, note);

  function render() {
    const costs = model.get("costs") || {};
    list.replaceChildren(
      ...costRows(costs).map(([label, value]) =>
        h("div", { class: "pp-cost-row" }, h("dt", {}, label), h("dd", {}, value)),
      ),
    );
    note.textContent = costs.estimate_note || "";
    note.hidden = !costs.estimate_note;
  }
  render();
  return { el, dispose: subscribe(model, { "change:costs": () => render() }) };
}
