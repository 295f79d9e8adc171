import { test } from "node:test";
import assert from "node:assert/strict";
import { elapsedSeconds, errorView, formatElapsed, retryLeft } from "../../js/status.js";
import { costRows, formatUSD } from "../../js/cost.js";

test("elapsed seconds from an epoch-seconds start", () => {
  assert.equal(elapsedSeconds(0, 5_000_000), 0);
  assert.equal(elapsedSeconds(1000, 1_012_900), 12);
  assert.equal(elapsedSeconds(2000, 1_000_000), 0); // clock skew never shows negative
});

test("elapsed formatting", () => {
  assert.equal(formatElapsed(0), "0 s");
  assert.equal(formatElapsed(59.9), "59 s");
  assert.equal(formatElapsed(60), "1:00");
  assert.equal(formatElapsed(125), "2:05");
});

test("retry countdown", () => {
  assert.equal(retryLeft(null, 0, 1000), null);
  assert.equal(retryLeft(12, 0, 0), 12);
  assert.equal(retryLeft(12, 0, 2500), 10);
  assert.equal(retryLeft(12, 0, 60_000), 0);
});

test("error view shows message and hint, never a traceback", () => {
  assert.equal(errorView({}), null);
  assert.equal(errorView(null), null);
  const view = errorView({
    kind: "RateLimited",
    message: "Too many requests\nTraceback (most recent call last):\n  File x",
    hint: "wait",
    retry_after: 12.0,
    traceback: "Traceback ...",
  });
  assert.deepEqual(view, { kind: "RateLimited", message: "Too many requests", hint: "wait", retryAfter: 12 });
  assert.equal(errorView({ message: "boom" }).kind, "Error");
  assert.equal(errorView({ kind: "X", message: "m", retry_after: null }).retryAfter, null);
});

test("USD formatting keeps the decimal string's precision", () => {
  assert.equal(formatUSD("0.0134"), "$0.0134");
  assert.equal(formatUSD("1.2345"), "$1.2345");
  assert.equal(formatUSD("0"), "$0.00");
  assert.equal(formatUSD("1.5"), "$1.50");
  assert.equal(formatUSD("0.0400"), "$0.04");
  assert.equal(formatUSD("-0.10"), "-$0.10");
  assert.equal(formatUSD("-0.00"), "$0.00");
  assert.equal(formatUSD(".5"), "$0.50");
  assert.equal(formatUSD(null), "unknown");
  assert.equal(formatUSD(undefined), "unknown");
});

test("cost rows: budget only when set, unknown estimate", () => {
  const rows = costRows({ last: "0.0134", widget: "0.0402", all_time: "1.2345", budget_left: null, estimate: null });
  assert.deepEqual(rows, [
    ["Last call", "$0.0134"],
    ["This widget", "$0.0402"],
    ["All time", "$1.2345"],
    ["Next call (est.)", "unknown"],
  ]);
  const withBudget = costRows({ last: "0", widget: "0", all_time: "0", budget_left: "0.9598", estimate: "0.067" });
  assert.deepEqual(withBudget[3], ["Budget left", "$0.9598"]);
  assert.deepEqual(withBudget[4], ["Next call (est.)", "$0.067"]);
});
