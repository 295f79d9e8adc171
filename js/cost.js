import { h } from "./dom.js";
import { subscribe } from "./sync.js";

const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?$/;

/**
 * Costs arrive as decimal strings so nothing is lost to floats; format them as strings too.
 * The exact figure ("$0.0134"), shown on hover. null/undefined/"" → "unknown", never $0.
 */
export function formatUSD(value) {
  if (value == null || value === "") return "unknown";
  const text = String(value).trim();
  const match = DECIMAL.exec(text);
  if (!match) return text;
  const [, sign, whole, frac = ""] = match;
  const digits = frac.replace(/0+$/, "");
  const shown = digits.length >= 2 ? digits : digits.padEnd(2, "0");
  const isZero = /^0*$/.test(whole) && /^0*$/.test(frac);
  return `${sign && !isZero ? "-" : ""}$${whole.replace(/^0+(?=\d)/, "") || "0"}.${shown}`;
}

/**
 * Cents, as a student reads a price: "$0.05". Rounded half up in decimal (no float drift); an
 * amount that is not zero but rounds to zero reads "<$0.01" so it never looks free.
 */
export function formatCents(value) {
  if (value == null || value === "") return "unknown";
  const match = DECIMAL.exec(String(value).trim());
  if (!match) return String(value);
  const [, sign, whole, frac = ""] = match;
  const padded = frac.padEnd(3, "0");
  let cents = BigInt(whole || "0") * 100n + BigInt(padded.slice(0, 2));
  if (padded[2] >= "5") cents += 1n;
  const nonZero = /[1-9]/.test(whole + frac);
  if (cents === 0n) return nonZero ? (sign ? "-<$0.01" : "<$0.01") : "$0.00";
  const dollars = cents / 100n;
  const rest = String(cents % 100n).padStart(2, "0");
  return `${sign ? "-" : ""}$${dollars}.${rest}`;
}

/** "typically $0.05, at most $0.21"; a single figure when the two agree; "unknown" without a price. */
export function nextCallText(costs = {}) {
  const worst = costs.estimate;
  if (worst == null || worst === "") return "unknown";
  const typical = costs.estimate_typical;
  const most = formatCents(worst);
  if (typical == null || typical === "" || formatCents(typical) === most) return most;
  return `typically ${formatCents(typical)}, at most ${most}`;
}

/** Before the widget's first call there is no "last call": a dash, not "unknown" and not $0. */
function lastCall(costs) {
  return costs.calls === 0 && costs.last == null ? { text: "—", exact: "No call yet" } : money(costs.last);
}

function money(value) {
  return { text: formatCents(value), exact: value == null || value === "" ? "Not known: the provider reported no usage, or the price is unknown" : formatUSD(value) };
}

/** [label, shown text, exact text for the tooltip] rows of the Cost panel. */
export function costRows(costs = {}) {
  const rows = [
    ["Last call", lastCall(costs)],
    ["This widget", money(costs.widget)],
    ["All time", money(costs.all_time)],
  ];
  if (costs.budget_left != null) rows.push(["Budget left", money(costs.budget_left)]);
  const exact = costs.estimate == null ? "No price known for this model and these settings"
    : `at most ${formatUSD(costs.estimate)}` + (costs.estimate_typical != null ? `, typically ${formatUSD(costs.estimate_typical)}` : "");
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
