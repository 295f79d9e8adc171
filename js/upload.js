import { h, listen } from "./dom.js";
import { messages, send } from "./sync.js";

// Same limit and formats the kernel enforces (images.py); checked here too so a huge file or one
// the kernel will refuse never crosses the websocket.
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
export const UPLOAD_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/** First image among Files / DataTransferItems (drag & drop and paste give either). */
export function pickImageFile(list) {
  for (const item of Array.from(list ?? [])) {
    const file = typeof item.getAsFile === "function" ? (item.kind === "file" ? item.getAsFile() : null) : item;
    if (file && String(file.type).startsWith("image/")) return file;
  }
  return null;
}

export function uploadProblem(file) {
  if (!file) return "That is not an image file.";
  // An empty type (some drops and pastes) is left to the kernel, which reads the bytes themselves.
  if (file.type && !UPLOAD_TYPES.includes(file.type)) {
    return `${file.name || "That image"} is ${file.type}; use PNG, JPEG, WebP or GIF.`;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return `${file.name || "The image"} is ${(file.size / 2 ** 20).toFixed(1)} MB; the limit is 20 MB.`;
  }
  return null;
}

export function uploadName(file) {
  if (file?.name) return file.name;
  const ext = String(file?.type || "image/png").split("/")[1] || "png";
  return `pasted.${ext}`;
}

export async function uploadFile(model, file, report = () => {}) {
  const problem = uploadProblem(file);
  report(problem);
  if (problem) return false;
  send(model, messages.upload(uploadName(file)), [await file.arrayBuffer()]);
  return true;
}

/** Upload button + hidden input, drop onto `dropTarget`, paste anywhere inside `root`. */
export function createUpload({ model, root, dropTarget, report }) {
  const input = h("input", { type: "file", accept: UPLOAD_TYPES.join(","), hidden: true, "aria-hidden": "true" });
  const button = h("button", { type: "button", class: "pp-btn" }, "Upload image");
  let depth = 0; // dragenter/leave fire for every child; count them to know when we really left

  const take = (file) => uploadFile(model, file, report);
  const onPick = () => {
    const file = input.files?.[0];
    input.value = "";
    if (file) take(file);
  };
  const onEnter = (event) => {
    if (!event.dataTransfer?.types?.includes("Files")) return;
    event.preventDefault();
    depth += 1;
    dropTarget.classList.add("pp-dragging");
  };
  const onOver = (event) => {
    if (!event.dataTransfer?.types?.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  };
  const onLeave = () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dropTarget.classList.remove("pp-dragging");
  };
  const onDrop = (event) => {
    event.preventDefault();
    depth = 0;
    dropTarget.classList.remove("pp-dragging");
    const file = pickImageFile(event.dataTransfer?.files);
    if (file || event.dataTransfer?.files?.length) take(file);
  };
  const onPaste = (event) => {
    // Text pastes into the prompt must keep working: only claim pastes that carry an image.
    const file = pickImageFile(event.clipboardData?.items ?? event.clipboardData?.files);
    if (!file) return;
    event.preventDefault();
    take(file);
  };

  button.addEventListener("click", () => input.click());
  input.addEventListener("change", onPick);
  const stops = [
    listen(dropTarget, { dragenter: onEnter, dragover: onOver, dragleave: onLeave, drop: onDrop }),
    listen(root, { paste: onPaste }),
  ];

  return {
    button,
    input,
    dispose() {
      for (const stop of stops) stop();
    },
  };
}
