import { h, keepingFocus, listen } from "./dom.js";
import { createRequests, send, subscribe } from "./sync.js";
import { thumbnail } from "./thumbs.js";
import { pickImageFile, uploadName, uploadProblem, UPLOAD_TYPES } from "./upload.js";

// Reference images (docs/widget-protocol.md, `references`): chips under the prompt for the
// pictures the next Generate or Edit sends beside it. The kernel holds the list; this view adds
// (file picker, paste or drop onto the region, or the image shown) and removes.
export const referenceMessages = {
  add: (name) => ({ kind: "reference", name: String(name || "image") }),
  use: (id) => ({ kind: "reference", id }),
  remove: (id) => ({ kind: "remove_reference", id }),
  save: (request) => ({ kind: "save", request }),
};

/** What the region says of its chips: the count against nothing, or a hint. */
export function referencesSummary(refs = []) {
  if (!refs.length) return "Add pictures the next Generate or Edit should follow (a subject, a style).";
  return `${refs.length} reference image${refs.length === 1 ? "" : "s"}, sent with the next Generate or Edit.`;
}

export function createReferences({ model, cache, report = () => {} }) {
  const input = h("input", { type: "file", accept: UPLOAD_TYPES.join(","), multiple: true, hidden: true, "aria-hidden": "true" });
  const addBtn = h("button", { type: "button", class: "pp-btn pp-btn-small", title: "Add reference images (or paste or drop them here)" }, "Add reference");
  const useBtn = h("button", { type: "button", class: "pp-btn pp-btn-small", title: "Send the image shown as a reference with the next call" }, "Use as reference");
  const hint = h("span", { class: "pp-ref-hint" });
  const chips = h("div", { class: "pp-ref-chips", role: "list" });
  const el = h("section", { class: "pp-references", "aria-label": "References", tabindex: "-1" },
    h("div", { class: "pp-ref-head" }, addBtn, useBtn, hint, input), chips);

  async function take(files) {
    for (const file of files) {
      const problem = uploadProblem(file);
      if (problem) {
        report(problem);
        continue;
      }
      send(model, referenceMessages.add(uploadName(file)), [await file.arrayBuffer()]);
    }
  }
  const images = (list) => Array.from(list ?? []).map((item) => (item.kind === "file" ? item.getAsFile() : item))
    .filter((f) => f && String(f.type).startsWith("image/"));

  function render() {
    const refs = model.get("references") || [];
    const shown = model.get("image_id") || "";
    hint.textContent = referencesSummary(refs);
    useBtn.disabled = !shown || refs.some((r) => r.id === shown);
    keepingFocus(chips, "data-ref", () => chips.replaceChildren(
      ...refs.map((ref) => h("span", { class: "pp-ref-chip", role: "listitem", "data-ref": ref.id, title: ref.name },
        thumbnail(cache, ref.id, "pp-ref-thumb"),
        h("span", { class: "pp-ref-name" }, ref.name),
        h("button", { type: "button", class: "pp-ref-remove", "aria-label": `Remove reference ${ref.name}`, "data-ref": ref.id,
          onclick: () => send(model, referenceMessages.remove(ref.id)) }, "×"))),
    ));
  }

  addBtn.addEventListener("click", () => input.click());
  useBtn.addEventListener("click", () => {
    const shown = model.get("image_id");
    if (shown) send(model, referenceMessages.use(shown));
  });
  input.addEventListener("change", () => {
    const files = Array.from(input.files ?? []);
    input.value = "";
    take(files);
  });
  const stops = [
    listen(el, {
      dragover: (e) => {
        if (!e.dataTransfer?.types?.includes("Files")) return;
        e.preventDefault();
        e.stopPropagation(); // a drop here is a reference, not the image to edit
      },
      drop: (e) => {
        if (!e.dataTransfer?.files?.length) return;
        e.preventDefault();
        e.stopPropagation();
        take(images(e.dataTransfer.files));
      },
      paste: (e) => {
        const file = pickImageFile(e.clipboardData?.items ?? e.clipboardData?.files);
        if (!file) return;
        e.preventDefault();
        e.stopPropagation(); // not also the upload of the image to edit
        take([file]);
      },
    }),
    subscribe(model, { "change:references": render, "change:image_id": render }),
  ];
  render();
  return { el, dispose() { for (const stop of stops) stop(); } };
}

/** The Save button: the kernel writes the image shown beside the notebook and says where. */
export function createSave({ model, report = () => {} }) {
  const button = h("button", { type: "button", class: "pp-btn pp-btn-small", title: "Save the image beside the notebook (on the kernel's machine), with how it was made inside" }, "Save");
  const requests = createRequests(model, { kind: "saved" });
  const render = () => { button.disabled = !model.get("image_id"); };
  button.addEventListener("click", async () => {
    try {
      await requests.ask((request) => send(model, referenceMessages.save(request)));
    } catch (err) {
      report(`Could not save the image: ${err.message}`);
    }
  });
  const stop = subscribe(model, { "change:image_id": render });
  render();
  return { button, dispose() { stop(); requests.dispose(); } };
}
