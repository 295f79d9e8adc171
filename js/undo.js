// The mask layers' undo history (kept apart from brush.js so each module stays one job).

/** Snapshots are full RGBA copies, so cap the stack by memory rather than by count alone. */
export function undoLimit(width, height, budgetBytes = 256 * 2 ** 20) {
  const bytes = Math.max(1, width * height * 4);
  return Math.max(3, Math.min(50, Math.floor(budgetBytes / bytes)));
}

/** Linear undo history of mask states; a state is whatever the caller stores (null = blank). */
export class UndoStack {
  constructor(initial = null, limit = 50) {
    this.limit = Math.max(2, limit);
    this.reset(initial);
  }
  reset(initial = null) {
    this.states = [initial];
    this.index = 0;
  }
  get current() {
    return this.states[this.index];
  }
  get canUndo() {
    return this.index > 0;
  }
  get canRedo() {
    return this.index < this.states.length - 1;
  }
  push(state) {
    this.states.splice(this.index + 1);
    this.states.push(state);
    if (this.states.length > this.limit) this.states.shift();
    this.index = this.states.length - 1;
  }
  undo() {
    if (this.canUndo) this.index -= 1;
    return this.current;
  }
  redo() {
    if (this.canRedo) this.index += 1;
    return this.current;
  }
}
