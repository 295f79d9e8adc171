import { h } from "./dom.js";
import { messages, send, subscribe } from "./sync.js";

// ---- pure logic ------------------------------------------------------------------------------

export function elapsedSeconds(startedAt, nowMs = Date.now()) {
  if (!startedAt) return 0;
  return Math.max(0, Math.floor(nowMs / 1000 - startedAt));
}

export function formatElapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

export function retryLeft(retryAfter, sinceMs, nowMs = Date.now()) {
  if (retryAfter == null) return null;
  return Math.max(0, Math.ceil(retryAfter - (nowMs - sinceMs) / 1000));
}

/** "RateLimited" → "Rate limited": the words a class name stands for, for kernels without `title`. */
export function humanize(kind) {
  const words = String(kind || "Error")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const URL_RE = /https?:\/\/[^\s<>"'`]+/g;

/** Text → [{text} | {url}] pieces, so URLs in an error become links and nothing else is HTML. */
export function linkify(text) {
  const source = String(text ?? "");
  const out = [];
  let at = 0;
  for (const match of source.matchAll(URL_RE)) {
    // A sentence's full stop or a closing bracket is not part of the address.
    const url = match[0].replace(/[.,;:!?)\]]+$/, "");
    if (match.index > at) out.push({ text: source.slice(at, match.index) });
    out.push({ url });
    at = match.index + url.length;
  }
  if (at < source.length) out.push({ text: source.slice(at) });
  return out;
}

/** "Rate limited — retrying in 3 s (attempt 2 of 3)", counting down from when the wait began. */
export function retryText(retry, nowMs = Date.now()) {
  if (!retry || retry.attempt == null) return "";
  const waited = retry.at ? (nowMs / 1000 - retry.at) : 0;
  const left = Math.max(0, Math.ceil(Number(retry.delay || 0) - waited));
  const when = left > 0 ? `retrying in ${left} s` : "retrying now";
  const of = retry.attempts ? ` of ${retry.attempts}` : "";
  return `${retry.title || humanize(retry.kind)} — ${when} (attempt ${retry.attempt}${of})`;
}

/** What a replaced or closed Studio says instead of running anything. */
export function closedText(closed) {
  if (!closed) return "";
  if (closed === "replaced") {
    return "This Studio was replaced: the cell ran again and made a new one below. This copy runs nothing; use the new one.";
  }
  return "This Studio is closed and runs nothing. Run the cell again for a new one.";
}

/** The user sees the message and hint only: a Python traceback helps no one in the card. */
export function errorView(error) {
  if (!error || !error.message && !error.kind) return null;
  const message = String(error.message ?? "").split(/\n?Traceback \(most recent call last\)/)[0].trim();
  return {
    kind: error.kind || "Error",
    title: error.title || humanize(error.kind),
    message,
    hint: error.hint || "",
    retryAfter: typeof error.retry_after === "number" ? error.retry_after : null,
    successor: typeof error.successor === "string" && error.successor ? error.successor : null,
  };
}

// ---- DOM -------------------------------------------------------------------------------------

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => (button.textContent = "Copy"), 1500);
}

function fillLinked(el, text) {
  el.replaceChildren(
    ...linkify(text).map((part) =>
      part.url ? h("a", { href: part.url, target: "_blank", rel: "noopener noreferrer" }, part.url) : part.text,
    ),
  );
}

export function createStatus(model, { ui } = {}) {
  const elapsed = h("span", { class: "pp-elapsed", "aria-live": "off" });
  const doing = h("span", { class: "pp-doing" }, "Working…");
  const cancel = h("button", { type: "button", class: "pp-btn", title: "Stop waiting for this call (Esc)" }, "Cancel");
  const running = h(
    "div",
    { class: "pp-running", role: "status", hidden: true },
    h("span", { class: "pp-spinner", "aria-hidden": "true" }),
    doing,
    elapsed,
    cancel,
  );
  const banner = h("div", { class: "pp-banner", role: "alert", hidden: true });
  const notice = h("div", { class: "pp-notice", role: "status", hidden: true });
  const local = h("div", { class: "pp-notice pp-local-error", role: "alert", hidden: true });

  const errKind = h("strong", { class: "pp-error-kind" });
  const errMessage = h("div", { class: "pp-error-message" });
  const errHint = h("div", { class: "pp-error-hint" });
  const errRetry = h("div", { class: "pp-error-retry" });
  // A model the provider no longer serves: one click puts the successor in the model picker.
  const useSuccessor = h("button", { type: "button", class: "pp-btn pp-use-successor", hidden: true });
  const dismiss = h("button", { type: "button", class: "pp-btn pp-btn-quiet", "aria-label": "Dismiss" }, "✕");
  const errorCard = h(
    "div",
    { class: "pp-error", role: "alert", hidden: true },
    h("div", { class: "pp-error-head" }, errKind, dismiss),
    errMessage,
    errHint,
    errRetry,
    useSuccessor,
  );

  const showCode = h("button", { type: "button", class: "pp-btn", "aria-expanded": "false" }, "Show code");
  const codePanel = h("section", { class: "pp-code", "aria-label": "Code", hidden: true });

  let errorShownAt = 0;
  let dismissedKey = null;
  let timer = null;

  function tick() {
    const isRunning = model.get("status") === "running";
    elapsed.textContent = isRunning ? formatElapsed(elapsedSeconds(model.get("started_at"))) : "";
    const retrying = isRunning ? retryText(model.get("retry")) : "";
    doing.textContent = retrying || "Working…";
    running.classList.toggle("pp-retrying", Boolean(retrying));
    const view = errorView(model.get("error"));
    const left = view && !errorCard.hidden ? retryLeft(view.retryAfter, errorShownAt) : null;
    errRetry.textContent = left == null ? "" : left > 0 ? `Retry in ${left} s` : "You can retry now.";
    errRetry.hidden = left == null;
    // The 1 s timer only runs while something on screen is counting.
    const counting = isRunning || (left != null && left > 0);
    if (counting && !timer) timer = setInterval(tick, 1000);
    if (!counting && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  let lastStatus = model.get("status");
  function renderRunning() {
    const status = model.get("status");
    // A notice belongs to the call it describes ("Cancelled…"): the next call clears it, here
    // at once as in the kernel, whose own clearing may reach this view after the status.
    if (status === "running" && lastStatus !== "running") notice.hidden = true;
    lastStatus = status;
    running.hidden = status !== "running";
    tick();
  }

  function renderError() {
    const error = model.get("error") || {};
    const view = errorView(error);
    const key = JSON.stringify(error);
    if (key !== dismissedKey) dismissedKey = null;
    errorCard.hidden = !view || dismissedKey === key;
    if (view) {
      errKind.textContent = view.title;
      errKind.title = view.kind;
      fillLinked(errMessage, view.message);
      fillLinked(errHint, view.hint);
      errHint.hidden = !view.hint;
      const offered = view.successor && (model.get("models") || []).some((m) => m.id === view.successor);
      useSuccessor.hidden = !offered;
      useSuccessor.textContent = offered ? `Use ${view.successor}` : "";
      useSuccessor.dataset.model = offered ? view.successor : "";
      errorShownAt = Date.now();
    }
    tick();
  }

  function renderBanner() {
    const text = closedText(model.get("closed"));
    banner.textContent = text;
    banner.hidden = !text;
  }

  function renderNotice() {
    const text = model.get("notice") || "";
    notice.textContent = text;
    notice.hidden = !text;
  }

  function renderCode() {
    const code = model.get("code") || {};
    const blocks = [
      ["promptpaint — runs as pasted, keeps the budget and the ledger", code.promptpaint],
      ["curl", code.curl],
      ["Python", code.python],
    ].filter(([, text]) => text);
    codePanel.replaceChildren(
      ...(blocks.length
        ? blocks.map(([label, text]) => {
            const copy = h("button", { type: "button", class: "pp-btn pp-btn-small" }, "Copy");
            copy.addEventListener("click", () => copyText(text, copy));
            return h(
              "div",
              { class: "pp-code-block" },
              h("div", { class: "pp-code-head" }, h("span", {}, label), copy),
              h("pre", {}, text),
            );
          })
        : [h("div", { class: "pp-muted" }, "No call made yet.")]),
    );
  }

  cancel.addEventListener("click", () => send(model, messages.cancel()));
  useSuccessor.addEventListener("click", () => {
    // Through the model picker itself, so the parameters follow the new model as on any pick.
    const root = errorCard.getRootNode();
    const picker = [...root.querySelectorAll('select[aria-label="Model"]')].find((s) =>
      [...s.options].some((o) => o.value === useSuccessor.dataset.model));
    if (!picker) return;
    picker.value = useSuccessor.dataset.model;
    picker.dispatchEvent(new Event("change"));
    dismiss.click();
  });
  dismiss.addEventListener("click", () => {
    dismissedKey = JSON.stringify(model.get("error") || {});
    errorCard.hidden = true;
    tick();
  });
  showCode.addEventListener("click", () => {
    const open = codePanel.hidden;
    codePanel.hidden = !open;
    showCode.setAttribute("aria-expanded", String(open));
    ui?.set("drawer:code", open); // UI-only: which panels this view has open
  });

  const unsubscribe = subscribe(model, {
    "change:status": renderRunning,
    "change:started_at": renderRunning,
    "change:retry": renderRunning,
    "change:closed": renderBanner,
    "change:error": renderError,
    "change:notice": renderNotice,
    "change:code": renderCode,
  });
  renderRunning();
  renderBanner();
  renderError();
  renderNotice();
  renderCode();

  return {
    running,
    banner,
    notice,
    errorCard,
    showCode,
    codePanel,
    local,
    /** Front-end-only problems (e.g. a file too big to send) that never reach the kernel. */
    report(text) {
      local.textContent = text || "";
      local.hidden = !text;
    },
    dispose() {
      unsubscribe();
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
