import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buttonStates,
  buttonTitle,
  isValidParam,
  modelLabel,
  modelsFor,
  paramsFor,
  parseParam,
  providerLabel,
  selectionForProvider,
  withParam,
} from "../../js/controls.js";

const SIZE = { name: "size", label: "Size", kind: "choice", choices: ["1024x1024", "1536x1024"], default: "1024x1024" };
const N = { name: "n", label: "Images", kind: "int", min: 1, max: 10, default: 1 };
const SEED = { name: "seed", label: "Seed", kind: "int", min: 0, max: 2147483647, default: null };
const TEMP = { name: "temperature", label: "Temperature", kind: "float", min: 0, max: 2, step: 0.1, default: null };
const MODELS = [
  { id: "gpt-image-2", provider: "openai", label: "GPT Image 2", warning: null, mask: true, params: [SIZE, N, SEED] },
  { id: "old", provider: "gemini", label: "Old", warning: "shuts down 2026-12-01", mask: false, params: [TEMP] },
  { id: "new", provider: "gemini", label: "New", warning: null, mask: false, params: [TEMP, N] },
];

test("models are filtered by provider", () => {
  assert.deepEqual(modelsFor(MODELS, "gemini").map((m) => m.id), ["old", "new"]);
  assert.deepEqual(modelsFor(MODELS, "offline"), []);
  assert.deepEqual(modelsFor(undefined, "x"), []);
});

test("labels mark missing keys and shutdown warnings", () => {
  assert.equal(providerLabel({ name: "openai", label: "OpenAI", configured: false }), "OpenAI (no key)");
  assert.equal(providerLabel({ name: "offline", label: "Offline", configured: true }), "Offline");
  assert.equal(modelLabel(MODELS[1]), "Old ⚠");
  assert.equal(modelLabel(MODELS[0]), "GPT Image 2");
});

test("spec defaults become values; null defaults are left out", () => {
  assert.deepEqual(paramsFor([SIZE, N, SEED]), { size: "1024x1024", n: 1 });
  assert.deepEqual(paramsFor([TEMP]), {});
});

test("switching model keeps values the new spec accepts and drops the rest", () => {
  const current = { size: "1536x1024", n: 4, seed: 7, quality: "low" };
  assert.deepEqual(paramsFor([SIZE, N, SEED], current), { size: "1536x1024", n: 4, seed: 7 });
  assert.deepEqual(paramsFor([TEMP, N], { n: 40, temperature: 0.5 }), { temperature: 0.5, n: 1 });
});

test("input text parses per kind; empty means not sent, junk means do not write", () => {
  assert.equal(parseParam(SEED, ""), null);
  assert.equal(parseParam(SEED, "  "), null);
  assert.equal(parseParam(SEED, "42"), 42);
  assert.equal(parseParam(SEED, "4.5"), undefined);
  assert.equal(parseParam(SEED, "-1"), undefined);
  assert.equal(parseParam(N, "11"), undefined);
  assert.equal(parseParam(TEMP, "0.7"), 0.7);
  assert.equal(parseParam(TEMP, "abc"), undefined);
  assert.equal(parseParam(SIZE, "1536x1024"), "1536x1024");
  assert.equal(parseParam(SIZE, "7x7"), undefined);
  assert.equal(parseParam(SIZE, ""), null);
});

test("validity follows min, max and kind", () => {
  assert.ok(isValidParam(N, 10));
  assert.ok(!isValidParam(N, 0));
  assert.ok(!isValidParam(N, 1.5));
  assert.ok(isValidParam(TEMP, 1.5));
  assert.ok(!isValidParam(TEMP, NaN));
  assert.ok(isValidParam(SEED, null));
});

test("withParam returns a new object and removes cleared keys", () => {
  const before = { n: 1, seed: 3 };
  const after = withParam(before, "seed", null);
  assert.deepEqual(after, { n: 1 });
  assert.deepEqual(before, { n: 1, seed: 3 });
  assert.notEqual(withParam(before, "n", 2), before);
  assert.deepEqual(withParam(before, "n", 2), { n: 2, seed: 3 });
});

test("choosing a provider picks a model without a shutdown warning", () => {
  assert.deepEqual(selectionForProvider(MODELS, "gemini", { n: 2 }), {
    provider: "gemini",
    model: "new",
    params: { n: 2 },
  });
  assert.deepEqual(selectionForProvider(MODELS, "offline", {}), { provider: "offline", model: "", params: {} });
});

test("buttons are disabled while running; Edit needs an image", () => {
  assert.deepEqual(buttonStates({ status: "idle", image_id: "" }), { generate: true, edit: false });
  assert.deepEqual(buttonStates({ status: "idle", image_id: "abc" }), { generate: true, edit: true });
  assert.deepEqual(buttonStates({ status: "running", image_id: "abc" }), { generate: false, edit: false });
  assert.deepEqual(buttonStates({ status: "idle", image_id: "abc", closed: "replaced" }), { generate: false, edit: false });
});

test("a button says before the click why its next call would be refused", () => {
  const costs = { refused: { generate: null, edit: "This call could cost up to $0.29, and this budget of $0.29 has $0.27 left." } };
  assert.equal(buttonTitle(costs, "generate", "Generate a new image"), "Generate a new image");
  assert.equal(buttonTitle(costs, "edit", "Edit"), `Would be refused: ${costs.refused.edit}`);
  assert.equal(buttonTitle(undefined, "edit", "Edit"), "Edit");
});
