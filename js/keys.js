// Keys typed inside the widget belong to it. JupyterLab listens for keys at the document and
// binds arrows, letters, Enter and Shift+Enter to notebook commands (move cell, run cell); a
// key that bubbles out of the brush-size slider or the prompt would move the cell, or re-run
// it and replace this Studio. So keys stop at the widget root, except Escape when there is
// nothing to cancel: that one still takes the notebook back to command mode.
import { listen } from "./dom.js";

export function keepsKey(event, running) {
  return event.key !== "Escape" || running;
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
