import { test } from "node:test";
import assert from "node:assert/strict";
import { closedText, elapsedSeconds, errorView, formatElapsed, humanize, linkify, retryLeft, retryText } from "../../js/status.js";
import { costRows, nextCallText } from "../../js/cost.js";

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
  assert.deepEqual(view, { kind: "RateLimited", title: "Rate limited", message: "Too many requests", hint: "wait", retryAfter: 12, successor: null });
  assert.equal(errorView({ kind: "BudgetExceeded", title: "Budget exceeded", message: "m" }).title, "Budget exceeded");
  assert.equal(errorView({ message: "boom" }).kind, "Error");
  assert.equal(errorView({ kind: "X", message: "m", retry_after: null }).retryAfter, null);
  // a model the provider no longer serves: the card offers its successor for the model picker
  assert.equal(errorView({ kind: "ModelUnavailable", message: "m", successor: "gpt-image-2" }).successor, "gpt-image-2");
  assert.equal(errorView({ kind: "ModelUnavailable", message: "m", successor: 3 }).successor, null);
});


test("error titles in words when the kernel sends only the class name", () => {
  assert.equal(humanize("RateLimited"), "Rate limited");
  assert.equal(humanize("AuthError"), "Auth error");
  assert.equal(humanize("HTTPError"), "Http error");
  assert.equal(humanize(""), "Error");
});

test("URLs in an error become link pieces, trailing punctuation stays text", () => {
  assert.deepEqual(linkify("See https://platform.openai.com/account/billing. Then retry."), [
    { text: "See " },
    { url: "https://platform.openai.com/account/billing" },
    { text: ". Then retry." },
  ]);
  assert.deepEqual(linkify("(docs: http://x.test/a?b=1)"), [{ text: "(docs: " }, { url: "http://x.test/a?b=1" }, { text: ")" }]);
  assert.deepEqual(linkify("javascript:alert(1) and ftp://x"), [{ text: "javascript:alert(1) and ftp://x" }]);
  assert.deepEqual(linkify(""), []);
});

test("retry status counts down from when the wait began", () => {
  const retry = { title: "Rate limited", delay: 3, attempt: 2, attempts: 3, at: 1000 };
  assert.equal(retryText(retry, 1000_000), "Rate limited — retrying in 3 s (attempt 2 of 3)");
  assert.equal(retryText(retry, 1001_200), "Rate limited — retrying in 2 s (attempt 2 of 3)");
  assert.equal(retryText(retry, 1009_000), "Rate limited — retrying now (attempt 2 of 3)");
  assert.equal(retryText({}, 0), "");
  assert.equal(retryText(null, 0), "");
});

test("a replaced or closed Studio says so", () => {
  assert.equal(closedText(""), "");
  assert.match(closedText("replaced"), /replaced.*runs nothing/);
  assert.match(closedText("closed"), /closed and runs nothing/);
});


test("next call: typically and at most, or one figure, or unknown", () => {
  assert.equal(nextCallText({ estimate: "0.2108", estimate_typical: "0.0536" }), "typically $0.0536, at most $0.2108");
  assert.equal(nextCallText({ estimate: "0.011", estimate_typical: "0.011" }), "$0.011");
  assert.equal(nextCallText({ estimate: "0.011" }), "$0.011");
  assert.equal(nextCallText({ estimate: null, estimate_typical: null }), "unknown");
});

test("cost rows: a dash before any call, unknown after one of unknown cost, exact figure on hover", () => {
  const first = costRows({ last: null, widget: "0", all_time: "1.2345", budget_left: null, estimate: "0.21", estimate_typical: "0.05", calls: 0 });
  assert.deepEqual(first.map(([label, text]) => [label, text]), [
    ["Last call", "—"],
    ["This widget", "$0.00"],
    ["All time", "$1.2345"],
    ["Next call", "typically $0.05, at most $0.21"],
  ]);
  assert.equal(first[2][2], "$1.2345");
  const unknown = costRows({ last: null, widget: "0.0402", all_time: "1.2345", budget_left: "0.9598", estimate: null, calls: 2 });
  assert.deepEqual(unknown[0].slice(0, 2), ["Last call", "unknown"]);
  assert.deepEqual(unknown[3].slice(0, 3), ["Budget left", "$0.9598", "$0.9598"]);
  assert.deepEqual(unknown[4].slice(0, 2), ["Next call", "unknown"]);
});

test("cost rows: calls of unknown cost stand beside the known total, never folded in as $0", () => {
  const rows = costRows({
    last: null, widget: "0.05", widget_unknown: 2, all_time: "1.2345", all_time_unknown: 3,
    all_time_note: "$1.2345 known; 3 calls of unknown cost, up to $0.63 reserved", estimate: "0.21", calls: 3,
  });
  assert.deepEqual(rows[1], ["This widget", "$0.05 + 2 unknown", "$0.05 known; 2 calls of unknown cost"]);
  assert.deepEqual(rows[2], ["All time", "$1.2345 + 3 unknown", "$1.2345 known; 3 calls of unknown cost, up to $0.63 reserved"]);
  const none = costRows({ widget: "0.05", widget_unknown: 0, all_time: "1", all_time_unknown: 0, calls: 1 });
  assert.equal(none[1][1], "$0.05");
  assert.equal(none[2][1], "$1.00");
});
