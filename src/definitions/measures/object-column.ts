import { mergeEach, type StateColumn } from './measure.ts';

/** How a column of object states makes, grows and merges them. */
export interface ObjectState<S> {
  create(): S;
  /** Merges `from` into `into` (which it may change); `from` is not changed. */
  merge(into: S, from: S): void;
  clone(state: S): S;
  /** Folds the value at `i` of `column` into `state`. */
  addAt(state: S, column: unknown, i: number): void;
  /** Whether the value at `i` of `column` is null (skipped). */
  isNull(column: unknown, i: number): boolean;
  /** Heap bytes a state holds, about. */
  bytes(state: S): number;
}

/** An object's header and its place in the slot array: what a state costs besides its arrays. */
const STATE_OVERHEAD = 64;

/**
 * A column of sketch states, one object per slot, created on the slot's
 * first value: the sketches' own arrays are what costs memory, so a slot
 * without values costs a null. Folding an event in allocates only when a
 * sketch grows.
 */
export class ObjectColumn<S> implements StateColumn<S> {
  #states: (S | null)[] = [];
  #bytes = 0;

  constructor(private readonly kind: ObjectState<S>) {}

  grow(capacity: number): void {
    while (this.#states.length < capacity) this.#states.push(null);
  }

  #at(slot: number): S {
    let state = this.#states[slot];
    if (state === null || state === undefined) {
      state = this.#states[slot] = this.kind.create();
      this.#bytes += STATE_OVERHEAD + this.kind.bytes(state);
    }
    return state;
  }

  get extraBytes(): number {
    return this.#bytes;
  }

  /** Runs `change` on the slot's state, keeping the byte count current. */
  #update(state: S, change: () => void): void {
    const before = this.kind.bytes(state);
    change();
    this.#bytes += this.kind.bytes(state) - before;
  }

  add(slot: number, value: unknown): void {
    if (this.kind.isNull([value], 0)) return;
    const state = this.#at(slot);
    this.#update(state, () => this.kind.addAt(state, [value], 0));
  }

  addMany(slots: Int32Array, count: number, values: unknown): void {
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (slot === -1 || this.kind.isNull(values, i)) continue;
      const state = this.#at(slot);
      this.#update(state, () => this.kind.addAt(state, values, i));
    }
  }

  merge(slot: number, state: S): void {
    const held = this.#states[slot];
    // A state merged into an empty slot is copied: the source (another table's slot) must stay its own.
    if (held === null || held === undefined) {
      const copy = (this.#states[slot] = this.kind.clone(state));
      this.#bytes += STATE_OVERHEAD + this.kind.bytes(copy);
    } else {
      this.#update(held, () => this.kind.merge(held, state));
    }
  }

  adopt(slot: number, state: S): void {
    const held = this.#states[slot];
    if (held !== null && held !== undefined) return this.merge(slot, state);
    this.#states[slot] = state;
    this.#bytes += STATE_OVERHEAD + this.kind.bytes(state);
  }

  foldInto(into: S, slot: number): S {
    const held = this.#states[slot];
    if (held !== null && held !== undefined) this.kind.merge(into, held);
    return into;
  }

  get(slot: number): S {
    return this.#states[slot] ?? this.kind.create();
  }

  mergeFrom(source: StateColumn<S>, targets: Int32Array, count: number, slots?: Int32Array): void {
    mergeEach(this, source, targets, count, slots);
  }
}
