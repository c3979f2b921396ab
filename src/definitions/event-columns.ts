/**
 * Validated events of one type, column by column. The log hands a commit
 * group's events to its encoder worker this way (a typed array crosses as one
 * block of memory, where row objects are cloned value by value), and the
 * speed layer folds the same columns into its views, view by view, in tight
 * loops over typed arrays rather than field lookups on row objects.
 *
 * @module
 */
import type { Field } from './field.ts';
import type { Row, Value } from './value.ts';

/**
 * Numbers and timestamps: a Float64Array, NaN for null (validated values are
 * always finite). Booleans: a Uint8Array of 0, 1, and 2 for null. Strings: an array.
 */
export type Column = Float64Array | Uint8Array | (string | null)[];

export interface EventColumns {
  readonly count: number;
  /** One per field, in the event type's field order. */
  readonly columns: readonly Column[];
}

export const BOOLEAN_NULL = 2;

/**
 * The rows as columns.
 *
 * @example
 * ```ts
 * const { columns } = toColumns(eventType.fields, rows);
 * const amounts = columns[eventType.fields.findIndex((f) => f.name === 'amount')] as Float64Array;
 * ```
 */
export function toColumns(fields: readonly Field[], rows: readonly Row[]): EventColumns {
  return { count: rows.length, columns: fields.map((field) => column(field, rows)) };
}

/** Empty columns for `capacity` events of these fields, to be filled in place (by a validator, say). */
export function emptyColumns(fields: readonly Field[], capacity: number): Column[] {
  return fields.map((field) => newColumn(field, capacity));
}

function newColumn(field: Field, capacity: number): Column {
  switch (field.type) {
    case 'number':
    case 'timestamp':
      return new Float64Array(capacity);
    case 'boolean':
      return new Uint8Array(capacity);
    case 'string':
      return new Array<string | null>(capacity);
  }
}

/** The first `count` events of filled columns; typed arrays are views of the same memory. */
export function firstEvents(columns: readonly Column[], count: number): EventColumns {
  return {
    count,
    columns: columns.map((column) => {
      if (!Array.isArray(column)) return column.length === count ? column : column.subarray(0, count);
      column.length = count;
      return column;
    }),
  };
}

/** The events at `indexes` (ascending), as new columns. */
export function selectEvents(events: EventColumns, indexes: readonly number[]): EventColumns {
  const count = indexes.length;
  return {
    count,
    columns: events.columns.map((column) => {
      const picked = Array.isArray(column) ? new Array<string | null>(count) : column instanceof Uint8Array ? new Uint8Array(count) : new Float64Array(count);
      for (let i = 0; i < count; i++) picked[i] = column[indexes[i]!]!;
      return picked;
    }),
  };
}

/** Event `i` as a row. For tests and the few places that read an event whole. */
export function rowAt(fields: readonly Field[], events: EventColumns, i: number): Row {
  const row: Row = {};
  fields.forEach((field, f) => (row[field.name] = valueAt(events.columns[f]!, i)));
  return row;
}

/** The value a column holds at `i`, as it was in the row. */
export function valueAt(column: Column, i: number): Value {
  if (Array.isArray(column)) return column[i]!;
  const value = column[i]!;
  if (column instanceof Uint8Array) return value === BOOLEAN_NULL ? null : value === 1;
  return Number.isNaN(value) ? null : value;
}

/** Writes a normalized value at `i` of its field's column: the inverse of {@link valueAt}. */
export function storeValue(column: Column, i: number, value: Value): void {
  if (Array.isArray(column)) column[i] = value as string | null;
  else if (column instanceof Uint8Array) column[i] = value === null ? BOOLEAN_NULL : value ? 1 : 0;
  else column[i] = (value as number | null) ?? NaN;
}

function column(field: Field, rows: readonly Row[]): Column {
  const values = newColumn(field, rows.length);
  // A row logged before an optional field was declared has no value for it: null, as DuckDB reads it.
  for (let i = 0; i < rows.length; i++) storeValue(values, i, rows[i]![field.name] ?? null);
  return values;
}
