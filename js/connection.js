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
// Kernel states after which this kernel's widgets are gone: the new process knows none of them.
const DOWN = ["restarting", "autorestarting", "dead"];

/**
 * Calls `onChange(lost)` when the connection is lost or comes back. ipywidgets' model fires
 * `comm:close` (comm closed) and `destroy` (model closed) for good, and `comm_live_update` when
 * the kernel restarts or the socket drops. Where the host marks the view's element with
 * `jupyter-widgets-disconnected`, that class says which way it went (checked on the next tick:
 * our handler may run before the host's). Where it does not (anywidget in JupyterLab 4 and
 * Notebook 7, measured), the model only goes live when it is made, so an update means lost;
 * a custom message from the kernel afterwards proves it is back.
 */
export function watchConnection(model, el, onChange) {
  let lost = false;
  let timer = null;
  let hostMarks = false; // seen the host's class at least once: trust it both ways
  const set = (next) => {
    if (next === lost) return;
    lost = next;
    onChange(lost);
  };
  const check = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const marked = Boolean(el.closest?.(`.${HOST_DISCONNECTED}`));
      hostMarks ||= marked;
      set(hostMarks ? marked : true);
    }, 0);
  };
  const unsubscribe = subscribe(model, {
    "comm:close": () => set(true),
    destroy: () => set(true),
    comm_live_update: check,
    "msg:custom": () => !hostMarks && set(false),
  });
  // JupyterLab 4 / Notebook 7 (measured with anywidget): a restart need not reach the view as
  // any model event, so also listen to the kernel itself where the host's widget manager
  // exposes it (a Lumino signal): "restarting" means this kernel's widgets are gone.
  const kernel = model.widget_manager?.kernel;
  const onStatus = (_, status) => {
    if (DOWN.includes(status)) set(true);
  };
  const onDisposed = () => set(true);
  kernel?.statusChanged?.connect?.(onStatus);
  kernel?.disposed?.connect?.(onDisposed);
  return {
    get lost() {
      return lost;
    },
    dispose() {
      clearTimeout(timer);
      unsubscribe();
      kernel?.statusChanged?.disconnect?.(onStatus);
      kernel?.disposed?.disconnect?.(onDisposed);
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
