// Money, one way. The kernel sends amounts as decimal strings (nothing lost to floats); every
// dollar figure on screen goes through formatMoney, the same rule as promptpaint.money.format
// in Python: "$" and the amount rounded half up to the micro-dollar, trailing zeros trimmed to
// no fewer than two decimals ("$0.0678", "$0.30", "$12.00", "$0.000002"); "unknown" for none.

const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?$/;
const PLACES = 6;

/** A decimal string (or number) as [negative, micro-dollars as a BigInt], or null if it is not one. */
export function toMicros(value) {
  if (value == null || value === "") return null;
  const match = DECIMAL.exec(String(value).trim());
  if (!match || (match[2] === "" && !match[3])) return null;
  const [, sign, whole, frac = ""] = match;
  const padded = frac.padEnd(PLACES + 1, "0");
  let micros = BigInt(whole || "0") * 10n ** BigInt(PLACES) + BigInt(padded.slice(0, PLACES));
  if (padded[PLACES] >= "5") micros += 1n; // half up, away from zero, as Python's ROUND_HALF_UP
  return [sign === "-" && micros !== 0n, micros];
}

/** "$0.0134"; "unknown" for null/undefined/"" (never $0); anything else that is no number as it came. */
export function formatMoney(value) {
  if (value == null || value === "") return "unknown";
  const parsed = toMicros(value);
  if (!parsed) return String(value);
  const [negative, micros] = parsed;
  const unit = 10n ** BigInt(PLACES);
  const frac = String(micros % unit).padStart(PLACES, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${negative ? "-" : ""}$${micros / unit}.${frac}`;
}

/** `value` split over `n` (e.g. a call's cost per image), as a decimal string; null when unknown. */
export function divideMoney(value, n) {
  const parsed = toMicros(value);
  const count = BigInt(Math.trunc(Number(n)) || 0);
  if (!parsed || count <= 0n) return null;
  const [negative, micros] = parsed;
  // Rounded half up at the micro-dollar, the unit formatMoney shows.
  const each = (micros * 2n + count) / (count * 2n);
  const unit = 10n ** BigInt(PLACES);
  return `${negative ? "-" : ""}${each / unit}.${String(each % unit).padStart(PLACES, "0")}`;
}

/** Whether an amount is more than zero (a billed cancelled call); false when unknown. */
export function isPositive(value) {
  const parsed = toMicros(value);
  return Boolean(parsed && !parsed[0] && parsed[1] > 0n);
}
