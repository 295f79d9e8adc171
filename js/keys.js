// Keys typed inside the widget belong to it. JupyterLab listens for keys at the document and
// binds arrows, letters, Enter and Shift+Enter to notebook commands (move cell, run cell); a
// key that bubbles out of the brush-size slider or the prompt would move the cell, or re-run
// it and replace this Studio. So keys stop at the widget root, except Escape when there is
// nothing to cancel: that one still takes the notebook back to command mode.
import { listen } from "./dom.js";

// With Ctrl/Cmd, only the combinations the widget or its text boxes use stay inside (run,
// undo/redo, select/copy/cut/paste, word jumps); the rest (Ctrl+S to save the notebook, the
// command palette) still reach JupyterLab.
const OWN_WITH_MODIFIER = new Set(["enter", "z", "y", "a", "c", "v", "x", "arrowleft", "arrowright", "arrowup", "arrowdown", "home", "end", "backspace", "delete"]);

export function keepsKey(event, running) {
  if (event.key === "Escape") return running;
  if (event.ctrlKey || event.metaKey) return OWN_WITH_MODIFIER.has(String(event.key).toLowerCase());
  return true;
}

/** Stops key events at `root`; Escape while a call runs cancels it. Returns the remover. */
export function containKeys(root, { isRunning, cancel }) {
  const stop = (event) => {
    if (!keepsKey(event, isRunning())) return;
    event.stopPropagation();
    if (event.type === "keydown" && event.key === "Escape") {
      event.preventDefault();
      cancel();
    }
  };
  return listen(root, { keydown: stop, keyup: stop, keypress: stop });
}
