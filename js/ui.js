// UI-only state: what is on this screen and nowhere else (which drawers are open, whether the
// markup tool is on). It is never saved to the kernel or the notebook; synced state goes through
// the model (sync.js). Two views of one Studio may differ here and agree on everything else.

/** A tiny observable store: `get(key)`, `set(key, value)`, `on(key, fn)` → unsubscribe. */
export function createUiState(initial = {}) {
  const values = { ...initial };
  const listeners = new Map();
  return {
    get(key) {
      return values[key];
    },
    set(key, value) {
      if (values[key] === value) return;
      values[key] = value;
      for (const fn of [...(listeners.get(key) ?? [])]) fn(value);
    },
    on(key, fn) {
      if (!listeners.has(key)) listeners.set(key, new Set());
      listeners.get(key).add(fn);
      return () => listeners.get(key)?.delete(fn);
    },
    /** Which of `keys` are true now: e.g. the open drawers. */
    which(keys) {
      return keys.filter((key) => Boolean(values[key]));
    },
  };
}
