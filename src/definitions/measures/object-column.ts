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
}

/**
 * A column of sketch states, one object per slot, created on the slot's
 * first value: the sketches' own arrays are what costs memory, so a slot
 * without values costs a null. Folding an event in allocates only when a
 * sketch grows.
 */
export class ObjectColumn<S> implements StateColumn<S> {
  #states: (S | null)[] = [];

  constructor(private readonly kind: ObjectState<S>) {}

  grow(capacity: number): void {
    while (this.#states.length < capacity) this.#states.push(null);
  }

  #at(slot: number): S {
    return (this.#states[slot] ??= this.kind.create());
  }

  add(slot: number, value: unknown): void {
    if (this.kind.isNull([value], 0)) return;
    this.kind.addAt(this.#at(slot), [value], 0);
  }

  addMany(slots: Int32Array, count: number, values: unknown): void {
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (slot === -1 || this.kind.isNull(values, i)) continue;
      this.kind.addAt(this.#at(slot), values, i);
    }
  }

  merge(slot: number, state: S): void {
    const held = this.#states[slot];
    // A state merged into an empty slot is copied: the source (another table's slot) must stay its own.
    if (held === null || held === undefined) this.#states[slot] = this.kind.clone(state);
    else this.kind.merge(held, state);
  }

  foldInto(into: S, slot: number): S {
    const held = this.#states[slot];
    if (held !== null && held !== undefined) this.kind.merge(into, held);
    return into;
  }

  get(slot: number): S {
    return this.#states[slot] ?? this.kind.create();
  }

  mergeFrom(source: StateColumn<S>, targets: Int32Array, count: number): void {
    mergeEach(this, source, targets, count);
  }
}
