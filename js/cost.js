import { h } from "./dom.js";
import { formatMoney } from "./money.js";
import { subscribe } from "./sync.js";

/** "typically $0.0523, at most $0.21"; a single figure when the two agree; "unknown" without a price. */
export function nextCallText(costs = {}) {
  const worst = costs.estimate;
  if (worst == null || worst === "") return "unknown";
  const typical = costs.estimate_typical;
  const most = formatMoney(worst);
  if (typical == null || typical === "" || formatMoney(typical) === most) return most;
  return `typically ${formatMoney(typical)}, at most ${most}`;
}

/** Before the widget's first call there is no "last call": a dash, not "unknown" and not $0. */
function lastCall(costs) {
  return costs.calls === 0 && costs.last == null ? { text: "—", exact: "No call yet" } : money(costs.last);
}

/** The figure, and what its tooltip says (why, when the amount is unknown). */
function money(value) {
  const unknown = value == null || value === "";
  return { text: formatMoney(value), exact: unknown ? "Not known: the provider reported no usage, or the price is unknown" : formatMoney(value) };
}

/**
 * A known total with the calls of unknown cost beside it ("$0.12 + 2 unknown"): a call that may
 * have been billed must never read as if it were free.
 */
export function withUnknown(value, unknownCalls, why) {
  const n = Number(unknownCalls) || 0;
  if (!n) return value;
  const calls = `${n} call${n === 1 ? "" : "s"} of unknown cost`;
  return { text: `${value.text} + ${n} unknown`, exact: why || `${value.exact} known; ${calls}` };
}

/** [label, shown text, exact text for the tooltip] rows of the Cost panel. */
export function costRows(costs = {}) {
  const rows = [
    ["Last call", lastCall(costs)],
    ["This widget", withUnknown(money(costs.widget), costs.widget_unknown)],
    ["All time", withUnknown(money(costs.all_time), costs.all_time_unknown, costs.all_time_note)],
  ];
  if (costs.budget_left != null) rows.push(["Budget left", money(costs.budget_left)]);
  const exact = costs.estimate == null ? "No price known for this model and these settings"
    : `at most ${formatMoney(costs.estimate)}` + (costs.estimate_typical != null ? `, typically ${formatMoney(costs.estimate_typical)}` : "");
  rows.push(["Next call", { text: nextCallText(costs), exact }]);
  return rows.map(([label, value]) => [label, value.text, value.exact]);
}

export function createCostPanel(model) {
  const list = h("dl", { class: "pp-cost-list" });
  const note = h("div", { class: "pp-cost-note" });
  const el = h("section", { class: "pp-cost", "aria-label": "Cost" }, list, note);

  function render() {
    const costs = model.get("costs") || {};
    list.replaceChildren(
      ...costRows(costs).map(([label, value, exact]) =>
        h("div", { class: "pp-cost-row" }, h("dt", {}, label), h("dd", { title: exact }, value)),
      ),
    );
    note.textContent = costs.estimate_note || "";
    note.hidden = !costs.estimate_note;
  }
  render();
  return { el, dispose: subscribe(model, { "change:costs": () => render() }) };
}
