// Tiny element builder so the UI modules read as structure rather than createElement noise.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// `hidden` attribute toggling; CSS gives [hidden] display:none under .promptpaint.
export function show(el, visible) {
  el.hidden = !visible;
}

/**
 * Adds every `{ type: fn }` listener to `target`; returns one function that removes them all,
 * so a dispose() cannot drift out of step with what was added.
 */
export function listen(target, handlers) {
  const entries = Object.entries(handlers);
  for (const [type, fn] of entries) target.addEventListener(type, fn);
  return () => {
    for (const [type, fn] of entries) target.removeEventListener(type, fn);
  };
}

/**
 * Runs `rerender()` (which replaces `container`'s children) and then gives focus to the new
 * element whose `attr` matches the one that had it: a keyboard user who picks a card or a result
 * keeps their place instead of dropping to <body>.
 */
export function keepingFocus(container, attr, rerender) {
  const active = document.activeElement;
  const key = container.contains(active) ? active.getAttribute(attr) : null;
  rerender();
  if (key == null || container.contains(document.activeElement)) return;
  for (const el of container.querySelectorAll(`[${attr}]`)) {
    if (el.getAttribute(attr) === key) return el.focus({ preventScroll: true });
  }
}
