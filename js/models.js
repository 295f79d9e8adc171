// Lookups in the `models` / `providers` traits the kernel sends: one place for each question.

export function modelsFor(models = [], provider) {
  return models.filter((m) => m.provider === provider);
}

export function findModel(models = [], id) {
  return (models || []).find((m) => m.id === id);
}

/** The entry of the model chosen now, or undefined. */
export function currentModel(model) {
  return findModel(model.get("models") || [], model.get("model"));
}

/** Models of a provider with a key (the kernel refuses the others), in the `models` trait's order. */
export function configuredModels(models = [], providers = []) {
  const ready = new Set(providers.filter((p) => p.configured).map((p) => p.name));
  return models.filter((m) => ready.has(m.provider));
}

/** The spec of parameter `name` of a model entry, or undefined. */
export function paramSpec(entry, name) {
  return (entry?.params || []).find((p) => p.name === name);
}

export function providerLabel(p) {
  return `${p.label || p.name}${p.configured === false ? " (no key)" : ""}`;
}

export function modelLabel(m) {
  return `${m.label || m.id}${m.warning ? " ⚠" : ""}`;
}
