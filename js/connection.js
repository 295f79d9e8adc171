import { subscribe } from "./sync.js";

// Whether this view still talks to a live kernel. After Kernel → Restart (or when the widget's
// comm closes) the old view would otherwise look alive while typing and Generate do nothing.

/** What a view whose kernel is gone says, in words, with the way back. */
export const LOST_TEXT =
  "This Studio lost its kernel (it was restarted, stopped or the widget was closed), so it can no longer " +
  "run anything and nothing you change here is kept. To get it back, run the cell again; " +
  "your earlier images stay in Past images.";

// ipywidgets marks the view's element with this class while its model's comm is not live.
const HOST_DISCONNECTED = "jupyter-widgets-disconnected";

/**
 * Calls `onChange(lost)` when the connection is lost or comes back. ipywidgets' model fires
 * `comm:close` (comm closed) and `destroy` (model closed) for good, and `comm_live_update` when
 * the kernel restarts or the socket drops or returns; the class it puts on the host element says
 * which (our handler may run before ipywidgets' own, hence the check on the next tick).
 */
export function watchConnection(model, el, onChange) {
  let lost = false;
  let timer = null;
  const set = (next) => {
    if (next === lost) return;
    lost = next;
    onChange(lost);
  };
  const check = () => {
    clearTimeout(timer);
    timer = setTimeout(() => set(Boolean(el.closest?.(`.${HOST_DISCONNECTED}`))), 0);
  };
  const unsubscribe = subscribe(model, {
    "comm:close": () => set(true),
    destroy: () => set(true),
    comm_live_update: check,
  });
  return {
    get lost() {
      return lost;
    },
    dispose() {
      clearTimeout(timer);
      unsubscribe();
    },
  };
}

/** Disables every control under `container` (and makes it inert), remembering what it changed. */
export function freeze(container, frozen) {
  container.inert = frozen;
  container.classList.toggle("pp-frozen", frozen);
  for (const control of container.querySelectorAll("button, input, select, textarea")) {
    if (frozen) {
      if (control.disabled) continue;
      control.dataset.ppFrozen = "1";
      control.disabled = true;
    } else if (control.dataset.ppFrozen) {
      delete control.dataset.ppFrozen;
      control.disabled = false;
    }
  }
}
