import { h } from "./dom.js";
import { currentModel, findModel, modelLabel, modelsFor, providerLabel } from "./models.js";
import { debounce, messages, send, setTraits, subscribe } from "./sync.js";
import { changedCount, splitSpecs, tipFor } from "./settings.js";

export { findModel, modelLabel, modelsFor, providerLabel }; // their home is models.js

// The prompt and the settings reach the kernel this long after the last keystroke (each sync
// costs the kernel an estimate), and at once before Generate/Edit/Compare or on leaving the box.
export const PROMPT_SYNC_MS = 300;
export const PARAMS_SYNC_MS = PROMPT_SYNC_MS;

// ---- pure logic ------------------------------------------------------------------------------

export function isValidParam(spec, value) {
  if (value == null) return true;
  if (spec.kind === "choice") return (spec.choices ?? []).includes(value);
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (spec.kind === "int" && !Number.isInteger(value)) return false;
  if (spec.min != null && value < spec.min) return false;
  if (spec.max != null && value > spec.max) return false;
  return true;
}

/**
 * Text from an input → value. null means "leave it out" (empty box); undefined means the text
 * is not a valid value for this spec, so nothing should be written.
 */
export function parseParam(spec, raw) {
  const text = String(raw ?? "").trim();
  if (text === "") return null;
  if (spec.kind === "choice") return (spec.choices ?? []).includes(text) ? text : undefined;
  const value = Number(text);
  return isValidParam(spec, value) ? value : undefined;
}

/** Params for a model: keep the current values its spec accepts, fill the rest from defaults. */
export function paramsFor(specs = [], current = {}) {
  const out = {};
  for (const spec of specs) {
    const value = current?.[spec.name];
    if (value != null && isValidParam(spec, value)) out[spec.name] = value;
    else if (spec.default != null) out[spec.name] = spec.default;
  }
  return out;
}

export function withParam(params = {}, name, value) {
  const out = { ...params };
  if (value == null) delete out[name];
  else out[name] = value;
  return out;
}

/** Picking a provider picks its first model, preferring one that is not about to shut down. */
export function selectionForProvider(models, provider, currentParams) {
  const list = modelsFor(models, provider);
  const model = list.find((m) => !m.warning) ?? list[0];
  return { provider, model: model?.id ?? "", params: paramsFor(model?.params, currentParams) };
}

export function buttonStates({ status, image_id, closed }) {
  const ready = status !== "running" && !closed;
  return { generate: ready, edit: ready && Boolean(image_id) };
}

// ---- DOM -------------------------------------------------------------------------------------

function fill(select, options, value) {
  select.replaceChildren(...options.map(([v, label]) => h("option", { value: v }, label)));
  select.value = value;
}

let moreIds = 0;

export function createControls(model) {
  const providerSelect = h("select", { class: "pp-select", "aria-label": "Provider" });
  const modelSelect = h("select", { class: "pp-select", "aria-label": "Model" });
  const warning = h("div", { class: "pp-warning", role: "note", hidden: true });
  const paramsBox = h("div", { class: "pp-params" });
  // A disclosure button (not <details>): it is a "button" to assistive tech and to tests alike.
  const moreBox = h("div", { class: "pp-params pp-more-params", id: `pp-more-${++moreIds}`, hidden: true });
  const moreSummary = h("button", { type: "button", class: "pp-more-toggle", "aria-expanded": "false", "aria-controls": moreBox.id }, "More settings");
  const more = h("div", { class: "pp-more" }, moreSummary, moreBox);
  moreSummary.addEventListener("click", () => {
    moreBox.hidden = !moreBox.hidden;
    moreSummary.setAttribute("aria-expanded", String(!moreBox.hidden));
  });
  const prompt = h("textarea", {
    class: "pp-prompt",
    "aria-label": "Prompt",
    rows: 2,
    placeholder: "Describe the image, or the change to make…  (Ctrl+Enter to generate)",
  });
  // aria-disabled, not disabled: a disabled button drops keyboard focus to <body> mid-call.
  const generate = h("button", { type: "button", class: "pp-btn pp-btn-primary", title: "Generate a new image (Ctrl+Enter)" }, "Generate");
  const edit = h("button", { type: "button", class: "pp-btn", title: "Edit the image shown, inside the mask if painted (Ctrl+Shift+Enter)" }, "Edit");
  const el = h(
    "div",
    { class: "pp-controls" },
    h(
      "div",
      { class: "pp-pickers" },
      h("label", { class: "pp-param", title: "Who makes the picture; (no key) means no API key was found" }, h("span", {}, "Provider"), providerSelect),
      h("label", { class: "pp-param", title: "Which image model; ⚠ marks one that shuts down soon" }, h("span", {}, "Model"), modelSelect),
      paramsBox,
      more,
    ),
    warning,
    prompt,
  );
  let specKey = null;
  // Between a click and the kernel's status="running" there is a round trip; a double click in
  // that gap would pay twice. Hold the buttons until status/error moves, or briefly at most.
  let lockTimer = null;
  const unlock = () => {
    clearTimeout(lockTimer);
    lockTimer = null;
    renderButtons();
  };

  const syncPrompt = debounce(() => setTraits(model, { prompt: prompt.value }), PROMPT_SYNC_MS);
  // Settings typed or picked: kept here until written, so the boxes show them meanwhile.
  let pendingParams = null;
  const syncParams = debounce(() => {
    const params = pendingParams;
    pendingParams = null;
    if (params) setTraits(model, { params });
  }, PARAMS_SYNC_MS);
  const paramsNow = () => pendingParams ?? model.get("params") ?? {};
  const flush = () => {
    syncParams.flush();
    syncPrompt.flush();
  };
  const run = (action) => {
    if (lockTimer || !buttonStates(state())[action]) return;
    flush(); // the kernel must run the text and settings on screen, not those of 300 ms ago
    send(model, messages.run(action, prompt.value));
    lockTimer = setTimeout(unlock, 1500);
    renderButtons();
  };
  const state = () => ({ status: model.get("status"), image_id: model.get("image_id"), closed: model.get("closed") });

  function renderPickers() {
    const models = model.get("models") || [];
    const provider = model.get("provider");
    fill(providerSelect, (model.get("providers") || []).map((p) => [p.name, providerLabel(p)]), provider);
    const list = modelsFor(models, provider);
    fill(modelSelect, list.map((m) => [m.id, modelLabel(m)]), model.get("model"));
    modelSelect.disabled = list.length === 0;
    const current = findModel(models, model.get("model"));
    warning.textContent = current?.warning ? `⚠ ${current.warning}` : "";
    warning.hidden = !current?.warning;
    renderParams(current?.params ?? []);
  }

  function renderParams(specs) {
    const params = paramsNow();
    const key = JSON.stringify(specs);
    const groups = splitSpecs(specs);
    if (key !== specKey) {
      specKey = key;
      paramsBox.replaceChildren(...groups.primary.map((spec) => paramField(spec)));
      moreBox.replaceChildren(...groups.more.map((spec) => paramField(spec)));
      more.hidden = groups.more.length === 0;
    }
    renderMoreCount(groups.more, params);
    for (const input of el.querySelectorAll("[data-param]")) {
      if (input === document.activeElement && input.tagName === "INPUT") continue; // don't fight typing
      const value = params[input.dataset.param];
      input.value = value == null ? "" : String(value);
      input.removeAttribute("aria-invalid");
    }
  }

  /** "More settings (2 set)": counts what is typed too, before it reaches the kernel. */
  function renderMoreCount(moreSpecs = splitSpecs(currentModel(model)?.params).more, params = paramsNow()) {
    const changed = changedCount(moreSpecs, params);
    moreSummary.textContent = changed ? `More settings (${changed} set)` : "More settings";
  }

  function paramField(spec) {
    let input;
    if (spec.kind === "choice") {
      const options = (spec.choices ?? []).map((c) => [c, c]);
      if (spec.default == null) options.unshift(["", "(default)"]);
      input = h("select", { class: "pp-select" });
      fill(input, options, "");
    } else {
      input = h("input", {
        class: "pp-number",
        type: "number",
        min: spec.min,
        max: spec.max,
        step: spec.step ?? (spec.kind === "int" ? 1 : "any"),
        placeholder: spec.default == null ? "auto" : null,
      });
    }
    input.dataset.param = spec.name;
    input.setAttribute("aria-label", spec.label || spec.name);
    const write = () => {
      const value = parseParam(spec, input.value);
      if (value === undefined) {
        input.setAttribute("aria-invalid", "true");
        return;
      }
      input.removeAttribute("aria-invalid");
      pendingParams = withParam(paramsNow(), spec.name, value);
      syncParams();
      renderMoreCount();
    };
    input.addEventListener(spec.kind === "choice" ? "change" : "input", write);
    return h("label", { class: "pp-param", title: tipFor(spec) }, h("span", {}, spec.label || spec.name), input);
  }

  function renderPrompt() {
    if (syncPrompt.pending) return; // the user's newer text is on its way to the kernel
    const value = model.get("prompt") ?? "";
    if (prompt.value !== value) prompt.value = value;
  }

  function renderButtons() {
    const states = buttonStates(state());
    generate.setAttribute("aria-disabled", String(Boolean(lockTimer) || !states.generate));
    edit.setAttribute("aria-disabled", String(Boolean(lockTimer) || !states.edit));
  }

  providerSelect.addEventListener("change", () => {
    syncParams.cancel(); // the new selection carries the settings, pending ones included
    const params = paramsNow();
    pendingParams = null;
    setTraits(model, selectionForProvider(model.get("models") || [], providerSelect.value, params));
  });
  modelSelect.addEventListener("change", () => {
    syncParams.cancel();
    const params = paramsNow();
    pendingParams = null;
    const chosen = findModel(model.get("models") || [], modelSelect.value);
    setTraits(model, { model: modelSelect.value, params: paramsFor(chosen?.params, params) });
  });
  prompt.addEventListener("input", syncPrompt);
  prompt.addEventListener("blur", () => syncPrompt.flush());
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run(event.shiftKey ? "edit" : "generate");
    }
  });
  generate.addEventListener("click", () => run("generate"));
  edit.addEventListener("click", () => run("edit"));

  const onPickers = () => renderPickers();
  const onButtons = () => renderButtons();
  const onSettled = () => lockTimer && unlock();
  // Two groups so that on "change:status" the buttons re-render before the lock is released.
  const stops = [
    subscribe(model, {
      "change:providers": onPickers,
      "change:models": onPickers,
      "change:provider": onPickers,
      "change:model": onPickers,
      "change:params": onPickers,
      "change:status": onButtons,
      "change:image_id": onButtons,
      "change:closed": onButtons,
      "change:prompt": () => renderPrompt(),
    }),
    subscribe(model, { "change:status": onSettled, "change:error": onSettled }),
  ];
  renderPickers();
  renderPrompt();
  renderButtons();

  return {
    el,
    generate,
    edit,
    promptText: () => prompt.value, // what is on screen, even before its debounced save
    prompt,
    /** Puts `text` in the prompt box and saves it (the student chose "Use this prompt"). */
    usePrompt(text) {
      syncPrompt.cancel();
      prompt.value = String(text ?? "");
      setTraits(model, { prompt: prompt.value });
      prompt.focus({ preventScroll: true });
    },
    flush, // writes what is typed or picked now, before a message that depends on it
    dispose() {
      for (const stop of stops) stop();
      flush();
      clearTimeout(lockTimer);
    },
  };
}
