import { h, listen } from "./dom.js";
import { subscribe } from "./sync.js";
import { fitScale, fitView, panBy, toggleZoom, zoomAt, zoomText } from "./zoom.js";

// ---- pure logic ------------------------------------------------------------------------------

/**
 * The image an edit started from, for before/after: the turn's `source` (sha) when the kernel
 * records it, else its parent's image (the first, when the parent made several). null when the
 * shown turn is not an edit of an image still in the history.
 */
export function beforeFor(turns = [], current = {}) {
  const turn = turns.find((t) => t.id === current?.turn);
  if (!turn || turn.kind !== "edit") return null;
  if (turn.source) return turn.source;
  const parent = turns.find((t) => t.id === turn.parent);
  return parent?.images?.[0] ?? null;
}

/** Every other image of the history (compare cells included), newest first, for "Side by side". */
export function sideChoices(turns = [], shown = "") {
  const out = [];
  for (const t of [...turns].reverse()) {
    const images = t.images ?? [];
    images.forEach((sha, i) => {
      if (sha === shown || out.some((o) => o.sha === sha)) return;
      const which = images.length > 1 ? ` (${i + 1} of ${images.length})` : "";
      const prompt = String(t.prompt ?? "").replace(/\s+/g, " ").trim();
      out.push({ sha, label: `#${t.id}${which} ${t.kind ?? ""}${prompt ? ` · ${prompt.slice(0, 60)}` : ""}` });
    });
  }
  return out;
}

// ---- DOM -------------------------------------------------------------------------------------

/**
 * The large viewer: the current image over the whole widget, click to zoom (fit ↔ 100 % at the
 * point clicked), drag to pan, a before/after slider for an edit, and a second image side by
 * side. In the document only while open; Escape or ✕ closes it. Nothing here reaches the kernel.
 */
export function createLightbox({ model, cache, root }) {
  const openBtn = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-haspopup": "dialog", title: "Look closely: zoom, before/after, side by side (V)" }, "View");
  const fitBtn = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-pressed": "true" }, "Fit");
  const fullBtn = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-pressed": "false" }, "100 %");
  const readout = h("span", { class: "pp-lb-readout", "aria-live": "polite" });
  const baBtn = h("button", { type: "button", class: "pp-btn pp-btn-small", "aria-pressed": "false", title: "The edit's source image against its result" }, "Before/after");
  const sideSelect = h("select", { "aria-label": "Side by side with", class: "pp-lb-side" });
  const close = h("button", { type: "button", class: "pp-btn pp-btn-quiet", "aria-label": "Close viewer", title: "Close (Esc)" }, "✕");
  const slider = h("input", { type: "range", min: "0", max: "100", value: "50", "aria-label": "Before/after" });
  const sliderRow = h("label", { class: "pp-lb-slider", hidden: true }, h("span", {}, "Before"), slider, h("span", {}, "After"));
  const mainImg = h("img", { class: "pp-lb-img", alt: "Current image", draggable: "false" });
  const beforeImg = h("img", { class: "pp-lb-img pp-lb-before", alt: "Before the edit", draggable: "false", hidden: true });
  const otherImg = h("img", { class: "pp-lb-img", alt: "Side-by-side image", draggable: "false" });
  const pane = h("div", { class: "pp-lb-pane", "aria-label": "Zoomed image" }, mainImg, beforeImg);
  const otherPane = h("div", { class: "pp-lb-pane", "aria-label": "Second image", hidden: true }, otherImg);
  const body = h("div", { class: "pp-lb-body" }, pane, otherPane);
  const el = h(
    "section",
    { class: "pp-lightbox", role: "dialog", "aria-label": "Viewer", tabindex: "-1" },
    h("div", { class: "pp-lb-head" }, fitBtn, fullBtn, readout, baBtn, sideSelect, h("span", { class: "pp-spacer" }), close),
    body,
    sliderRow,
  );

  let view = { scale: 1, x: 0, y: 0 };
  let size = [0, 0];
  let mode = { ba: false, side: "" };
  let drag = null;
  let observer = null;
  const isOpen = () => el.isConnected;
  const room = () => [pane.clientWidth, pane.clientHeight];

  function place() {
    const [w, hgt] = size;
    const t = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
    for (const img of [mainImg, beforeImg, otherImg]) {
      img.style.width = `${w}px`;
      img.style.height = `${hgt}px`;
      img.style.transform = t;
    }
    beforeImg.style.clipPath = `inset(0 ${100 - Number(slider.value)}% 0 0)`;
    const fit = fitScale(w, hgt, ...room());
    readout.textContent = w ? zoomText(view, fit) : "";
    fitBtn.setAttribute("aria-pressed", String(Math.abs(view.scale - fit) < 1e-6));
    fullBtn.setAttribute("aria-pressed", String(Math.abs(view.scale - 1) < 1e-6));
  }
  const refit = () => {
    view = fitView(...size, ...room());
    place();
  };

  async function load(img, sha) {
    if (!sha) return img.removeAttribute("src");
    const entry = await cache.get(sha);
    const next = new Image();
    next.src = entry.url;
    await next.decode();
    img.src = entry.url;
    return [next.naturalWidth, next.naturalHeight];
  }

  async function fill() {
    const sha = model.get("image_id");
    const before = beforeFor(model.get("turns") || [], model.get("current") || {});
    baBtn.hidden = !before;
    if (!before) mode.ba = false;
    const choices = sideChoices(model.get("turns") || [], sha);
    if (!choices.some((c) => c.sha === mode.side)) mode.side = "";
    sideSelect.replaceChildren(h("option", { value: "" }, "Side by side: off"),
      ...choices.map((c) => h("option", { value: c.sha }, c.label)));
    sideSelect.value = mode.side;
    sideSelect.hidden = choices.length === 0;
    renderModes();
    try {
      const dims = await load(mainImg, sha);
      if (dims) size = dims;
      await Promise.all([load(beforeImg, mode.ba ? before : ""), load(otherImg, mode.side)]);
    } catch (err) {
      readout.textContent = `Could not show the image: ${err.message}`;
      return;
    }
    refit();
  }

  function renderModes() {
    baBtn.setAttribute("aria-pressed", String(mode.ba));
    beforeImg.hidden = !mode.ba;
    sliderRow.hidden = !mode.ba;
    otherPane.hidden = !mode.side;
    body.classList.toggle("pp-lb-two", Boolean(mode.side));
  }

  function open() {
    if (isOpen()) return;
    root.append(el);
    openBtn.setAttribute("aria-expanded", "true");
    observer = new ResizeObserver(() => refit());
    observer.observe(pane);
    fill();
    fitBtn.focus({ preventScroll: true });
  }
  function shut() {
    if (!isOpen()) return;
    observer?.disconnect();
    el.remove();
    openBtn.setAttribute("aria-expanded", "false");
    openBtn.focus({ preventScroll: true });
  }

  function point(event, target) {
    const r = target.getBoundingClientRect();
    return [event.clientX - r.left, event.clientY - r.top];
  }
  const paneEvents = (target) => ({
    pointerdown: (event) => {
      if (event.button !== 0) return;
      target.setPointerCapture?.(event.pointerId);
      el.focus({ preventScroll: true }); // keys (Escape) stay with the viewer
      drag = { x: event.clientX, y: event.clientY, moved: false, start: view };
    },
    pointermove: (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      drag.moved = true;
      view = panBy(drag.start, dx, dy, ...size, ...room());
      place();
    },
    pointerup: (event) => {
      if (drag && !drag.moved) {
        view = toggleZoom(view, ...point(event, target), ...size, ...room());
        place();
      }
      drag = null;
    },
    pointercancel: () => (drag = null),
  });

  const stops = [
    listen(openBtn, { click: open }),
    listen(close, { click: shut }),
    listen(fitBtn, { click: refit }),
    listen(fullBtn, { click: () => ((view = zoomAt(view, 1, ...room().map((v) => v / 2), ...size, ...room())), place()) }),
    listen(baBtn, { click: () => ((mode.ba = !mode.ba), fill()) }),
    listen(sideSelect, { change: () => ((mode.side = sideSelect.value), fill()) }),
    listen(slider, { input: place }),
    listen(pane, paneEvents(pane)),
    listen(otherPane, paneEvents(otherPane)),
    listen(el, {
      keydown: (event) => {
        if (event.key !== "Escape") return;
        event.stopPropagation();
        shut();
      },
    }),
    listen(root, {
      keydown: (event) => {
        const t = event.target;
        if (event.key !== "v" || event.ctrlKey || event.metaKey || event.altKey) return;
        if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
        if (!model.get("image_id")) return;
        event.preventDefault();
        isOpen() ? shut() : open();
      },
    }),
    subscribe(model, {
      "change:image_id": () => isOpen() && (model.get("image_id") ? fill() : shut()),
      "change:turns": () => isOpen() && fill(),
    }),
  ];
  const renderButton = () => (openBtn.disabled = !model.get("image_id"));
  stops.push(subscribe(model, { "change:image_id": renderButton }));
  renderButton();

  return {
    button: openBtn,
    el,
    open,
    shut,
    dispose() {
      for (const stop of stops) stop();
      observer?.disconnect();
      el.remove();
    },
  };
}
