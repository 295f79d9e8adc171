// Which image, which prompt: captions, card marks, send-to-edit, download names, Past images.
import { test } from "node:test";
import assert from "node:assert/strict";
import { historyItems, offerFor, restoreFor, turnMark } from "../../js/history.js";
import { threadOf } from "../../js/thread.js";
import { captionFor } from "../../js/caption.js";
import { filterPast, formatWhen, pastLine } from "../../js/past.js";
import { downloadName, slug } from "../../js/sync.js";
import { maskToLayer } from "../../js/brush.js";

const turn = (id, parent, extra = {}) => ({
  id, parent, kind: parent == null ? "generate" : "edit", prompt: `p${id}`, provider: "openai",
  model: "gpt-image-2", params: {}, images: [`sha${id}`], cost: "0.01", text: null, offline: false, ...extra,
});

const models = [
  { id: "gpt-image-2", provider: "openai", params: [
    { name: "size", kind: "choice", choices: ["1024x1024", "1536x1024"], default: "1024x1024" },
    { name: "quality", kind: "choice", choices: ["low", "auto"], default: "auto" },
    { name: "n", kind: "int", min: 1, max: 10, default: 1 },
  ] },
  { id: "gemini-3.1-flash-image", provider: "gemini", params: [{ name: "temperature", kind: "float", min: 0, max: 2, default: null }] },
];

test("caption: which turn, where it came from, its prompt", () => {
  const turns = [turn(1, null, { prompt: "a fox" }), turn(4, 1, { prompt: "give the fox\n a blue hat" })];
  assert.equal(captionFor(turns, { turn: 4, index: 0 }).text, "Editing #4 · edit of #1 · ‘give the fox a blue hat’");
  assert.equal(captionFor(turns, { turn: 1 }).text, "Editing #1 · generated · ‘a fox’");
  const many = [turn(2, null, { images: ["a", "b", "c"], prompt: "x" })];
  assert.equal(captionFor(many, { turn: 2, index: 2 }).head, "Editing #2 (image 3 of 3)");
  const upload = [turn(3, null, { kind: "upload", prompt: "(uploaded photo.jpg)" })];
  assert.equal(captionFor(upload, { turn: 3 }).text, "Editing #3 · uploaded photo.jpg");
  assert.equal(captionFor([turn(5, 1, { cancelled: true, prompt: "n" })], { turn: 5 }).text, "Editing #5 · edit of #1 · ‘n’ · cancelled");
  const opened = [turn(6, null, { kind: "open", prompt: "a red barn", cost: "0" })];
  assert.equal(captionFor(opened, { turn: 6 }).text, "Editing #6 · from Past images · ‘a red barn’");
  assert.equal(historyItems(opened)[0].cost, "", "bringing an image back costs nothing");
  assert.equal(captionFor(turns, {}), null);
});

test("cards: cancelled and refused marks, per-image cost when n > 1", () => {
  assert.equal(turnMark(turn(1, null, { cancelled: true, cost: "0.0300" })), "cancelled — billed $0.03");
  assert.equal(turnMark(turn(1, null, { cancelled: true, cost: null })), "cancelled — cost unknown");
  assert.equal(turnMark(turn(1, null, { cancelled: true, cost: "0" })), "cancelled — not billed");
  assert.equal(turnMark(turn(1, null, { refused: true, images: [] })), "refused");
  assert.equal(turnMark(turn(1, null)), null);
  const [one, three] = historyItems([turn(1, null), turn(2, 1, { images: ["a", "b", "c"], cost: "0.0600" })]);
  assert.equal(one.each, null);
  assert.equal(three.each, "$0.02 each");
  assert.equal(three.cost, "$0.06");
  assert.match(three.title, /^#2 edit\np2\ngpt-image-2\n\$0\.06$/);
});

test("send to edit restores prompt, provider, model and the settings the model accepts", () => {
  const t = turn(3, 1, { prompt: "night", params: { size: "1536x1024", quality: "low", n: 2, bogus: 1 } });
  assert.deepEqual(restoreFor(t, models), {
    current: { turn: 3, index: 0 },
    prompt: "night",
    provider: "openai",
    model: "gpt-image-2",
    params: { size: "1536x1024", quality: "low", n: 2 },
  });
  const g = turn(4, null, { provider: "gemini", model: "gemini-3.1-flash-image", params: { temperature: 0.4 } });
  assert.deepEqual(restoreFor(g, models).params, { temperature: 0.4 });
  assert.equal(restoreFor(g, models).provider, "gemini");
  // Uploads, and models no longer offered, bring back the image only.
  assert.deepEqual(restoreFor(turn(5, null, { kind: "upload" }), models), { current: { turn: 5, index: 0 } });
  assert.deepEqual(restoreFor(turn(6, null, { model: "dall-e-2" }), models), { current: { turn: 6, index: 0 } });
});

test("downloads are named from the prompt plus a short hash", () => {
  assert.equal(slug("A red fox in the snow, watercolour!"), "a-red-fox-in-the-snow-watercolour");
  assert.equal(slug("Crème brûlée über alles"), "creme-brulee-uber-alles");
  assert.equal(slug("a very long prompt that goes on and on about many foxes and hats"), "a-very-long-prompt-that-goes-on-and-on");
  assert.equal(slug("狐狸"), "");
  assert.equal(downloadName("0123456789abcdef", "image/png", "A red fox"), "a-red-fox-01234567.png");
  assert.equal(downloadName("0123456789abcdef", "image/webp", "../../etc/passwd"), "etc-passwd-01234567.webp");
  assert.equal(downloadName("0123456789abcdef", "image/jpeg", "狐狸"), "promptpaint-01234567.jpg");
});

test("Past images: newest first, every word must match, one line of facts", () => {
  const items = [
    { id: "a", prompt: "a red barn", model: "gpt-image-2", provider: "openai", cost: "0.0536", at: "2026-11-20T09:15:00Z", kind: "generate" },
    { id: "b", prompt: "a blue lake", model: "gemini-3.1-flash-image", provider: "gemini", cost: null, at: "2026-11-25T18:40:00Z", kind: "edit" },
    { id: "c", prompt: "(uploaded cat.png)", model: "", provider: "upload", cost: "0", at: "2026-11-22T10:00:00Z", kind: "upload" },
  ];
  assert.deepEqual(filterPast(items).map((i) => i.id), ["b", "c", "a"]);
  assert.deepEqual(filterPast(items, "RED barn").map((i) => i.id), ["a"]);
  assert.deepEqual(filterPast(items, "gemini lake").map((i) => i.id), ["b"]);
  assert.deepEqual(filterPast(items, "red lake"), []);
  assert.match(pastLine(items[0]), /^gpt-image-2 · \$0\.0536 · 2026-11-2\d \d\d:\d\d$/);
  assert.match(pastLine(items[1]), /^gemini-3.1-flash-image · unknown · /);
  assert.match(pastLine(items[2]), /^2026-11-2\d \d\d:\d\d$/);
  assert.match(pastLine({ ...items[0], images: 2 }), /^gpt-image-2 · \$0\.0536 for 2 images · /);
  assert.equal(formatWhen("not a date"), "not a date");
});

test("a kernel mask becomes the brush layer: RGBA by its alpha, L by its grey", () => {
  const rgba = new Uint8ClampedArray([255, 255, 255, 200, 0, 0, 0, 0]);
  assert.deepEqual([...maskToLayer(rgba, [1, 2, 3])], [1, 2, 3, 200, 1, 2, 3, 0]);
  const grey = new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255]);
  assert.deepEqual([...maskToLayer(grey, [1, 2, 3])], [1, 2, 3, 255, 1, 2, 3, 0]);
});

test("a card's prompt fills an empty box but is only offered over typed text", () => {
  const t = turn(3, 1, { prompt: "night", params: {} });
  assert.equal(restoreFor(t, models, 0, "").prompt, "night");
  assert.equal("prompt" in restoreFor(t, models, 0, "a castle I was typing"), false);
  assert.equal(restoreFor(t, models, 0, "a castle").model, "gpt-image-2"); // settings still come back
  assert.deepEqual(offerFor(t, "a castle"), { turn: 3, prompt: "night" });
  assert.equal(offerFor(t, ""), null); // nothing typed: it was filled, nothing to offer
  assert.equal(offerFor(t, " night "), null); // the same text
  assert.equal(offerFor(turn(5, null, { kind: "upload" }), "x"), null);
});

test("the thread is the current branch, oldest first, with replies and costs in words", () => {
  const turns = [
    turn(1, null, { prompt: "a fox", cost: "0.04" }),
    turn(2, 1, { prompt: "blue hat", cost: null, text: "Here is the fox with a hat." }),
    turn(3, 1, { prompt: "red scarf (other branch)" }),
    turn(4, 2, { prompt: "night", offline: true }),
    turn(5, null, { kind: "upload", prompt: "(photo.jpg)" }),
  ];
  const thread = threadOf(turns, { turn: 4 });
  assert.deepEqual(thread.map((e) => e.id), [1, 2, 4]);
  assert.equal(thread[0].cost, "$0.04");
  assert.equal(thread[1].cost, "unknown");
  assert.equal(thread[1].reply, "Here is the fox with a hat.");
  assert.equal(thread[2].cost, "$0.00 (offline)");
  assert.equal(thread[2].current, true);
  assert.deepEqual(threadOf(turns, { turn: 5 }).map((e) => [e.instruction, e.cost]), [["", ""]]);
  assert.deepEqual(threadOf(turns, {}), []);
});
