import { test } from "node:test";
import assert from "node:assert/strict";
import { divideMoney, formatMoney, isPositive } from "../../js/money.js";

test("one money format: $ and the amount, zeros trimmed to at least 2 decimals, at most 6", () => {
  assert.equal(formatMoney("0.0134"), "$0.0134");
  assert.equal(formatMoney("0.067800000"), "$0.0678");
  assert.equal(formatMoney("1.2345"), "$1.2345");
  assert.equal(formatMoney("0"), "$0.00");
  assert.equal(formatMoney("12"), "$12.00");
  assert.equal(formatMoney("1.5"), "$1.50");
  assert.equal(formatMoney("0.0400"), "$0.04");
  assert.equal(formatMoney("0.000002"), "$0.000002");
  assert.equal(formatMoney("0.1234565"), "$0.123457"); // half up at the micro-dollar, in decimal
  assert.equal(formatMoney("0.1234564"), "$0.123456");
  assert.equal(formatMoney("0.0000004"), "$0.00");
  assert.equal(formatMoney("0.9999995"), "$1.00");
  assert.equal(formatMoney("-0.10"), "-$0.10");
  assert.equal(formatMoney("-0.00"), "$0.00");
  assert.equal(formatMoney(".5"), "$0.50");
  assert.equal(formatMoney(0.25), "$0.25");
  assert.equal(formatMoney(null), "unknown");
  assert.equal(formatMoney(undefined), "unknown");
  assert.equal(formatMoney(""), "unknown");
});

test("a call's cost split over its images stays decimal, and a billed amount is positive", () => {
  assert.equal(divideMoney("0.0600", 3), "0.020000");
  assert.equal(formatMoney(divideMoney("0.1", 3)), "$0.033333");
  assert.equal(formatMoney(divideMoney("0.000005", 2)), "$0.000003"); // half up
  assert.equal(divideMoney(null, 2), null);
  assert.equal(divideMoney("0.1", 0), null);
  assert.equal(isPositive("0.0300"), true);
  assert.equal(isPositive("0"), false);
  assert.equal(isPositive(null), false);
  assert.equal(isPositive("-0.01"), false);
});
