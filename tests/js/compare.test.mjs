import { test } from "node:test";
import assert from "node:assert/strict";
import { cellCaption, cellName, friendlyLabel, choice, comparableModels, estimateText, qualityChoices } from "../../js/compare.js";

const quality = (choices) => ({ name: "quality", label: "Quality", kind: "choice", choices, default: "auto" });
const models = [
  { id: "gpt-image-2", provider: "openai", label: "GPT Image 2", params: [quality(["low", "medium", "high", "auto"])] },
  { id: "gpt-image-2.5-flare", provider: "openai", label: "Flare", params: [quality(["low", "medium", "high", "auto", "xhigh", "max"])] },
  { id: "gemini-3.1-flash-image", provider: "gemini", label: "Nano Banana 2", params: [] },
  { id: "offline-sketch", provider: "offline", label: "Offline", params: [] },
];

test("the estimate reads as calls and the worst case in dollars", () => {
  assert.equal(estimateText({ calls: 6, worst_case: "1.2654" }), "6 calls, at most $1.2654");
  assert.equal(estimateText({ calls: 1, worst_case: "0" }), "1 call, at most $0.00");
  assert.equal(estimateText({ calls: 2, worst_case: null }), "2 calls, at most: unknown (a price is not on file)");
  assert.equal(estimateText({ calls: 0, worst_case: null, error: "That makes 18 calls; a comparison has at most 12." }), "That makes 18 calls; a comparison has at most 12.");
  assert.equal(estimateText(null), "");
});

test("cells are named by number, model, quality and repeat; the caption is the cost or why there is none", () => {
  const cell = { index: 3, label: "gpt-image-2 · low · #1", status: "ok", cost: "0.0105" };
  assert.equal(cellName(cell), "Cell 3: gpt-image-2 · low · #1");
  assert.equal(cellCaption(cell), "$0.0105");
  assert.equal(cellCaption({ ...cell, cost: null }), "unknown"); // never shown as free
  assert.equal(cellCaption({ ...cell, status: "skipped", error: "Budget exceeded" }), "skipped: Budget exceeded");
  assert.equal(cellCaption({ ...cell, status: "refused", error: "Refused by the provider", cost: "0.002" }), "Refused by the provider · $0.002");
  assert.equal(cellCaption({ ...cell, status: "error", error: "Rate limited", cost: null }), "Rate limited");
  assert.equal(cellCaption({ ...cell, status: "pending" }), "waiting");
});

test("only models of a provider with a key are offered, and qualities follow the picked models", () => {
  const providers = [{ name: "gemini", configured: false }, { name: "openai", configured: true }, { name: "offline", configured: true }];
  assert.deepEqual(comparableModels(models, providers).map((m) => m.id), ["gpt-image-2", "gpt-image-2.5-flare", "offline-sketch"]);
  assert.deepEqual(qualityChoices(models, ["offline-sketch"]), []);
  assert.deepEqual(qualityChoices(models, ["gpt-image-2"]), ["low", "medium", "high", "auto"]);
  assert.deepEqual(qualityChoices(models, ["gpt-image-2", "gpt-image-2.5-flare"]), ["low", "medium", "high", "auto", "xhigh", "max"]);
});

test("the choice sent to the kernel carries whole-number repeats", () => {
  assert.deepEqual(choice(["a"], ["low"], "3"), { models: ["a"], qualities: ["low"], repeats: 3 });
  assert.deepEqual(choice([], [], ""), { models: [], qualities: [], repeats: 1 });
});

test("a grid cell is labelled with the model's friendly name, its quality and repeat", () => {
  const models = [{ id: "gpt-image-2", label: "GPT Image 2" }, { id: "gemini-3-pro-image-preview", label: "Nano Banana Pro" }];
  assert.equal(friendlyLabel({ label: "gpt-image-2 · low · #2", model: "gpt-image-2", quality: "low", repeat: 2 }, models), "GPT Image 2 · low · #2");
  assert.equal(friendlyLabel({ label: "gemini-3-pro-image-preview · #1", model: "gemini-3-pro-image-preview", quality: null, repeat: 1 }, models), "Nano Banana Pro · #1");
  // A model no longer listed keeps the kernel's label (its id): never an empty cell.
  assert.equal(friendlyLabel({ label: "old-model · #1", model: "old-model", quality: null, repeat: 1 }, models), "old-model · #1");
});
