import { addScaled, canonical, fromScaled, type ScaledInt } from '../scaled-number.ts';
import { grownFloat64, mergeEach, type EncodedState, type Measure, type SqlScalar, type StateColumn } from './measure.ts';

export function encodeScaled(value: ScaledInt): EncodedState {
  return typeof value === 'bigint' ? value.toString() : value;
}

export function decodeScaled(encoded: EncodedState): ScaledInt {
  return typeof encoded === 'string' ? canonical(BigInt(encoded)) : Number(encoded);
}

export function scaledFromSql(value: SqlScalar): ScaledInt {
  if (value === null) return 0;
  if (typeof value === 'bigint') return canonical(value);
  if (typeof value === 'number') return value;
  throw new TypeError(`Expected an integer sum from SQL, got ${typeof value}.`);
}

/**
 * Exact scaled sums, one per slot. A sum lives in a Float64Array while it is a
 * safe integer; one that outgrows that moves to a bigint on the side and its
 * array element becomes NaN, so the common case never allocates.
 */
export class ScaledSumColumn implements StateColumn<ScaledInt> {
  #sums = new Float64Array(0);
  readonly #big = new Map<number, bigint>();

  grow(capacity: number): void {
    this.#sums = grownFloat64(this.#sums, capacity);
  }

  add(slot: number, value: number | null): void {
    if (value !== null) this.merge(slot, value);
  }

  addMany(slots: Int32Array, count: number, values: Float64Array | undefined): void {
    const sums = this.#sums;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      const value = values![i]!;
      if (slot === -1 || Number.isNaN(value)) continue;
      const sum = sums[slot]! + value;
      if (Number.isSafeInteger(sum)) sums[slot] = sum;
      else this.merge(slot, value);
    }
  }

  /** A sum's SQL state is the sum of the scaled values: folded in as {@link addMany} folds values (a null sum adds nothing). */
  mergeSqlColumns(slots: Int32Array, count: number, [sums]: readonly Float64Array[]): void {
    this.addMany(slots, count, sums);
  }

  merge(slot: number, state: ScaledInt): void {
    if (typeof state === 'number') {
      const sum = this.#sums[slot]! + state;
      // Rounding is monotonic, so a safe result means the exact sum was safe too; NaN marks a bigint slot.
      if (Number.isSafeInteger(sum)) {
        this.#sums[slot] = sum;
        return;
      }
    }
    const total = addScaled(this.get(slot), state);
    if (typeof total === 'number') {
      this.#sums[slot] = total;
      this.#big.delete(slot);
    } else {
      this.#sums[slot] = Number.NaN;
      this.#big.set(slot, total);
    }
  }

  foldInto(into: ScaledInt, slot: number): ScaledInt {
    return addScaled(into, this.get(slot));
  }

  get(slot: number): ScaledInt {
    const sum = this.#sums[slot]!;
    return Number.isNaN(sum) ? this.#big.get(slot)! : sum;
  }

  mergeFrom(source: StateColumn<ScaledInt>, targets: Int32Array, count: number, slots?: Int32Array): void {
    if (!(source instanceof ScaledSumColumn)) return mergeEach(this, source, targets, count, slots);
    const from = source.#sums;
    const to = this.#sums;
    for (let i = 0; i < count; i++) {
      const target = targets[i]!;
      if (target === -1) continue;
      const s = slots === undefined ? i : slots[i]!;
      // Both are integers, so the bounds alone tell a safe sum (rounding is monotonic); a bigint on either side is NaN here and fails them.
      const sum = to[target]! + from[s]!;
      if (sum <= Number.MAX_SAFE_INTEGER && sum >= Number.MIN_SAFE_INTEGER) to[target] = sum;
      else this.merge(target, source.get(s));
    }
  }
}

/** `sum` of a number field, exact at the field's scale. Missing values add nothing. */
export function sumMeasure(scale: number): Measure<ScaledInt> {
  return {
    type: 'sum',
    empty: () => 0,
    add: (state, value) => (value === null ? state : addScaled(state, value as number)),
    merge: (into, from) => addScaled(into, from),
    result: (state) => fromScaled(state, scale),
    encode: encodeScaled,
    decode: decodeScaled,
    sql: (input) => ({ subKeys: [], partials: [`sum(${input})`], states: ([sum]) => [`sum(${sum})`] }),
    fromSql: ([sum]) => scaledFromSql(sum ?? null),
    column: () => new ScaledSumColumn(),
  };
}
