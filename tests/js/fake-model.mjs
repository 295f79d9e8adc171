// Minimal stand-in for anywidget's model: traits, change events, custom messages both ways.
export class FakeModel {
  constructor(state = {}) {
    this.state = { ...state };
    this.handlers = new Map();
    this.sent = []; // [{ content, buffers }]
    this.saves = 0;
  }
  get(name) {
    return this.state[name];
  }
  set(name, value) {
    this.state[name] = value;
    this.emit(`change:${name}`, value);
  }
  save_changes() {
    this.saves += 1;
  }
  send(content, callbacks, buffers = []) {
    this.sent.push({ content, buffers });
  }
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
  }
  off(event, fn) {
    this.handlers.get(event)?.delete(fn);
  }
  emit(event, ...args) {
    for (const fn of [...(this.handlers.get(event) ?? [])]) fn(...args);
  }
  /** What the kernel side would do: a custom message with DataView buffers. */
  pySend(content, buffers = []) {
    this.emit("msg:custom", content, buffers.map((b) => new DataView(b instanceof ArrayBuffer ? b : b.buffer)));
  }
  listenerCount() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}
