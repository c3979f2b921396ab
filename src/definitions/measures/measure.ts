/**
 * The measure abstraction: a commutative monoid over a serialisable state,
 * with one JavaScript fold (speed layer) and one SQL aggregate (batch layer)
 * that must produce identical states.
 *
 * State need not be a number: a sketch (HyperLogLog registers, a top-K table)
 * fits the same shape, since `merge` and the SQL columns carry whatever the
 * state is made of.
 *
 * @module
 */
import type { Column } from '../event-columns.ts';

export const MEASURE_TYPES = ['count', 'sum', 'min', 'max', 'avg', 'countDistinct', 'quantiles'] as const;
/**
 * The kinds of measure a view may define.
 *
 * @example
 * ```ts
 * const type: MeasureType = 'avg';
 * ```
 */
export type MeasureType = (typeof MEASURE_TYPES)[number];

/** A sketch measure's settings, as the definitions give them (checked by the catalog). */
export interface MeasureOptions {
  /** `countDistinct`: registers are 2^precision. */
  readonly precision?: number;
  /** `quantiles`: the quantiles an answer holds by default. */
  readonly quantiles?: readonly number[];
  /** `quantiles`: the guaranteed relative error. */
  readonly relativeAccuracy?: number;
}

/**
 * What a query returns for a measure. A sum too large for a double comes
 * back as exact decimal text; `quantiles` as an object of quantiles.
 *
 * @example
 * ```ts
 * const revenue: MeasureValue = rows[0]!.revenue; // a number, exact decimal text past 2^53, or null
 * ```
 */
export type MeasureValue = number | string | null | QuantileValues;

/**
 * The answer of a `quantiles` measure: one entry per quantile, named `p50`,
 * `p99`, `p99.9`, in the field's units; null for a group without values.
 *
 * @example
 * ```ts
 * const { p50, p99 } = rows[0]!.latency as QuantileValues;
 * ```
 */
export type QuantileValues = Readonly<Record<string, number | string | null>>;

/** A plain value read back from SQL after the batch layer unwraps DuckDB's types (DECIMAL becomes its scaled bigint). */
export type SqlScalar = bigint | number | string | boolean | null;

/**
 * How the batch layer computes a measure's states, in up to two GROUP BYs.
 * A view one of whose measures has {@link subKeys} (a sketch) groups the
 * rows first by key and every such measure's sub-keys, with the
 * {@link partials}, then by key alone, with the {@link states} over them:
 * the first step folds equal values of a key (one hash per distinct value
 * instead of one per row, one count per bucket) before the second collects
 * them. A view without sub-keys groups once, and its partials are its
 * states: a measure without sub-keys gives partials of the very form and
 * types of its states.
 */
export interface MeasureSql {
  /** Expressions over a row that the first step groups by besides the key: a sketch's value or bucket; none for a number measure. */
  readonly subKeys: readonly string[];
  /** Aggregates of the first step. */
  readonly partials: readonly string[];
  /** The state columns: aggregates of the second step over the columns of {@link partials} and {@link subKeys}, of the same types as the partials where there are no sub-keys. */
  states(partials: readonly string[], subKeys: readonly string[]): readonly string[];
}

/** JSON-safe encoding of a state. */
export type EncodedState = number | string | null | readonly EncodedState[];

/**
 * A measure's monoid. `empty` is the identity and `merge` is associative and
 * commutative; `add` folds one event's value in. `add` and `merge` may reuse
 * their first argument and return it; they never change the second.
 */
export interface Measure<S = unknown> {
  readonly type: MeasureType;
  empty(): S;
  add(state: S, value: number | string | boolean | null): S;
  merge(into: S, from: S): S;
  result(state: S): MeasureValue;
  /** For a sketch: its state as a query with `states` gets it: type, parameters and base64 bytes. */
  stateResult?(state: S): MeasureValue;
  /** For `quantiles`: the answer for other quantiles than the defined ones. */
  resultFor?(state: S, quantiles: readonly number[]): MeasureValue;
  encode(state: S): EncodedState;
  decode(encoded: EncodedState): S;
  /**
   * The SQL that computes the measure's states in the batch layer, over
   * `input` (the field's value as a scaled integer or epoch ms). A row whose
   * input is NULL must add nothing, as {@link add} of null does: that is
   * how a measure's filter skips a row. `count` has no field: its input is
   * `''` to count every row, or an expression NULL on the rows to skip.
   */
  sql(input: string): MeasureSql;
  /** The state from the SQL states' values, in the order of {@link MeasureSql.states}. */
  fromSql(values: readonly SqlScalar[]): S;
  /** A column of states, one per slot of an aggregate table; each new slot holds {@link empty}. */
  column(): StateColumn<S>;
}

/**
 * The states of one measure for every (series, bucket) of a table, kept
 * column-wise so that folding an event in allocates nothing: numeric states
 * live in typed arrays, one element per slot.
 */
export interface StateColumn<S = unknown> {
  /** Makes room for slots below `capacity`; slots that were not there hold the empty state. */
  grow(capacity: number): void;
  /** Folds one event's value into the slot's state. */
  add(slot: number, value: number | string | boolean | null): void;
  /**
   * Folds `count` events in at once, as {@link add} would one by one: event
   * `i` goes to `slots[i]` (skipped if -1) with value `values[i]` (NaN for
   * null; no values for a measure without a field).
   */
  addMany(slots: Int32Array, count: number, values: Column | undefined): void;
  /** Merges a state into the slot's state. */
  merge(slot: number, state: S): void;
  /**
   * Merges a state that nothing else holds (one {@link Measure.fromSql} just
   * made) into the slot's state: an empty slot keeps it as it is, without
   * the copy {@link merge} makes of a state another table owns. Absent where
   * merge copies nothing.
   */
  adopt?(slot: number, state: S): void;
  /**
   * Merges `count` states as SQL gave them ({@link MeasureSql.states}'
   * values), state `i` into `slots[i]` (skipped if -1): `columns[c][i]` is
   * its value of aggregate `c`, as a double (NaN for null). Only for a
   * measure whose states are numbers; how a batch view loads a chunk of rows
   * at once, where {@link merge} would take one state object per row.
   */
  mergeSqlColumns?(slots: Int32Array, count: number, columns: readonly Float64Array[]): void;
  /** Merges the slot's state into `into` (an accumulator the caller owns) and returns the result. */
  foldInto(into: S, slot: number): S;
  /** The slot's state as a value of its own. */
  get(slot: number): S;
  /**
   * Merges slot `s` of `source`, a column of the same measure, into slot
   * `targets[s]` of this one (skipped if -1), for every `s` below `count`:
   * how a roll-up over many slots (a leaderboard) merges a table, in one
   * pass over typed arrays where the states are numbers. With `slots`,
   * element `i` of `targets` is for source slot `slots[i]` instead: how a
   * roll-up merges only the slots of some buckets, without a pass over the
   * rest.
   */
  mergeFrom(source: StateColumn<S>, targets: Int32Array, count: number, slots?: Int32Array): void;
  /** Heap bytes the states hold beyond a slot's fixed cost (a sketch's arrays), for the speed layer's bound; 0 or absent for numbers. */
  readonly extraBytes?: number;
}

/** {@link StateColumn.mergeFrom} state by state: right for any column, and the fallback of the numeric ones. */
export function mergeEach<S>(into: StateColumn<S>, source: StateColumn<S>, targets: Int32Array, count: number, slots?: Int32Array): void {
  for (let i = 0; i < count; i++) {
    const target = targets[i]!;
    if (target !== -1) into.merge(target, source.get(slots === undefined ? i : slots[i]!));
  }
}

/** Adds `counts[i]` into `to[slots[i]]` for every `i` below `count` whose slot is not -1 (a null count, NaN, adds nothing): counts, exact while below 2^53. */
export function addCounts(to: Float64Array, slots: Int32Array, count: number, counts: Float64Array): void {
  for (let i = 0; i < count; i++) {
    const slot = slots[i]!;
    const n = counts[i]!;
    if (slot !== -1 && n === n) to[slot]! += n;
  }
}

/** Adds `from[s]` into `to[targets[s]]` for every `s` below `count` whose target is not -1 (or with `slots`, `from[slots[i]]` into `to[targets[i]]`): counts, exact while below 2^53. */
export function addInto(to: Float64Array, from: Float64Array, targets: Int32Array, count: number, slots?: Int32Array): void {
  // Two loops, so that the whole-table pass, the hot one, reads sequentially with no branch on `slots`.
  if (slots === undefined) {
    for (let s = 0; s < count; s++) {
      const target = targets[s]!;
      if (target !== -1) to[target]! += from[s]!;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const target = targets[i]!;
      if (target !== -1) to[target]! += from[slots[i]!]!;
    }
  }
}

/** A copy of `array` with room for `capacity` elements, the new ones set to `fill`. */
export function grownFloat64(array: Float64Array<ArrayBuffer>, capacity: number, fill = 0): Float64Array<ArrayBuffer> {
  if (capacity <= array.length) return array;
  const next = new Float64Array(capacity);
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}

export function sqlToNumber(value: SqlScalar, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`Expected a number for ${what}, got ${typeof value}.`);
}
