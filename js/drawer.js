import { h, listen } from "./dom.js";
import { createUiState } from "./ui.js";

/**
 * A drawer (Past images, Compare): `button` opens and closes it, `close` and Escape close it and
 * give focus back to `button`. The panel is in the document only while open, so its labels never
 * shadow the settings' for anyone finding controls by name. Whether it is open is UI-only state
 * (`ui`, key `drawer:<name>`). `onOpen()` fills it; `canEscape()` false leaves Escape to others.
 */
export function createDrawer({ name, button, panel, close, ui = createUiState(), onOpen = () => {}, canEscape = () => true }) {
  const slot = h("div", { class: `pp-${name}-slot` });
  const key = `drawer:${name}`;
  const isOpen = () => panel.isConnected;

  function toggle(open = !isOpen()) {
    button.setAttribute("aria-expanded", String(open));
    ui.set(key, open);
    if (!open) return panel.remove();
    slot.append(panel);
    onOpen();
  }
  function shut() {
    toggle(false);
    button.focus(); // the panel (and what had focus in it) is gone; focus goes back where it came from
  }

  const stops = [
    listen(button, { click: () => toggle() }),
    listen(close, { click: shut }),
    listen(panel, {
      keydown: (event) => {
        if (event.key !== "Escape" || !canEscape()) return;
        event.stopPropagation(); // closing the drawer is all this Escape does
        shut();
      },
    }),
  ];
  return {
    slot,
    isOpen,
    toggle,
    shut,
    dispose() {
      for (const stop of stops) stop();
    },
  };
}
