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

export const MEASURE_TYPES = ['count', 'sum', 'min', 'max', 'avg'] as const;
export type MeasureType = (typeof MEASURE_TYPES)[number];

/** What a query returns for a measure. A sum too large for a double comes back as exact decimal text. */
export type MeasureValue = number | string | null;

/** A plain value read back from SQL after the batch layer unwraps DuckDB's types (DECIMAL becomes its scaled bigint). */
export type SqlScalar = bigint | number | string | boolean | null;

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
  add(state: S, value: number | null): S;
  merge(into: S, from: S): S;
  result(state: S): MeasureValue;
  encode(state: S): EncodedState;
  decode(encoded: EncodedState): S;
  /** SQL aggregates over `input` (the field's value as a scaled integer or epoch ms), one per state column. */
  sqlAggregates(input: string): readonly string[];
  /** The state from the SQL aggregates' values, in the order of {@link sqlAggregates}. */
  fromSql(values: readonly SqlScalar[]): S;
}

export function sqlToNumber(value: SqlScalar, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`Expected a number for ${what}, got ${typeof value}.`);
}
