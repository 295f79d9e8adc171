import { test } from "node:test";
import assert from "node:assert/strict";
import { changedCount, splitSpecs, tipFor, TIPS } from "../../js/settings.js";
import { keepsKey } from "../../js/keys.js";

const spec = (name, extra = {}) => ({ name, label: name, kind: "choice", choices: [], default: null, ...extra });
const openai = ["size", "quality", "n", "background", "output_format", "output_compression", "moderation", "input_fidelity"];
const gemini = ["aspect_ratio", "image_size", "seed", "temperature", "top_p"];

test("first screen: size, quality, images; the rest under More settings", () => {
  const o = splitSpecs(openai.map((n) => spec(n)));
  assert.deepEqual(o.primary.map((s) => s.name), ["size", "quality", "n"]);
  assert.deepEqual(o.more.map((s) => s.name), ["background", "output_format", "output_compression", "moderation", "input_fidelity"]);
  const g = splitSpecs(gemini.map((n) => spec(n)));
  assert.deepEqual(g.primary.map((s) => s.name), ["aspect_ratio", "image_size"]);
  assert.deepEqual(g.more.map((s) => s.name), ["seed", "temperature", "top_p"]);
});

test("every offered parameter has a one-line tooltip", () => {
  for (const name of [...openai, ...gemini]) {
    const tip = tipFor(spec(name));
    assert.ok(TIPS[name], `${name} has a tip`);
    assert.ok(!tip.includes("\n") && tip.length < 110, `${name}: one short line`);
  }
  assert.equal(tipFor({ name: "mystery", label: "Mystery" }), "Mystery");
});

test("the closed disclosure counts settings that differ from their defaults", () => {
  const more = [spec("background"), spec("output_compression", { kind: "int", default: null }), spec("moderation", { default: "auto" })];
  assert.equal(changedCount(more, {}), 0);
  assert.equal(changedCount(more, { moderation: "auto" }), 0);
  assert.equal(changedCount(more, { background: "transparent", output_compression: 50, size: "1024x1024" }), 2);
});

test("keys stay inside the widget, except Escape with nothing to cancel", () => {
  assert.equal(keepsKey({ key: "ArrowRight" }, false), true);
  assert.equal(keepsKey({ key: "Enter" }, false), true);
  assert.equal(keepsKey({ key: "Escape" }, false), false);
  assert.equal(keepsKey({ key: "Escape" }, true), true);
  // Ctrl/Cmd combinations the widget or a text box uses stay; the notebook's own (save) go through.
  assert.equal(keepsKey({ key: "Enter", ctrlKey: true }, false), true);
  assert.equal(keepsKey({ key: "Z", ctrlKey: true, shiftKey: true }, false), true);
  assert.equal(keepsKey({ key: "a", metaKey: true }, false), true);
  assert.equal(keepsKey({ key: "s", ctrlKey: true }, false), false);
  assert.equal(keepsKey({ key: "b", ctrlKey: true }, false), false);
});
