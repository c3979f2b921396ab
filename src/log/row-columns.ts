/**
 * A group's rows of one event type, column by column. This is how rows cross
 * to the encoder worker: a typed array is copied as one block of memory, while
 * an array of row objects is cloned value by value, which costs the main
 * thread about as much as encoding the rows itself.
 *
 * @module
 */
import type { Field, Row } from '../definitions/index.ts';

/**
 * Numbers and timestamps: a Float64Array, NaN for null (validated values are
 * always finite). Booleans: a Uint8Array of 0, 1, and 2 for null. Strings: an array.
 */
export type Column = Float64Array | Uint8Array | (string | null)[];

export interface RowColumns {
  readonly count: number;
  /** One per field, in the event type's field order. */
  readonly columns: readonly Column[];
}

export const BOOLEAN_NULL = 2;

/** The rows as columns; also sets each row's `_offset`, counting from `firstOffset`. */
export function toColumns(fields: readonly Field[], rows: readonly Row[], firstOffset: number): RowColumns {
  const count = rows.length;
  for (let i = 0; i < count; i++) rows[i]!._offset = firstOffset + i;
  return { count, columns: fields.map((field) => column(field, rows)) };
}

function column(field: Field, rows: readonly Row[]): Column {
  const name = field.name;
  const count = rows.length;
  switch (field.type) {
    case 'number':
    case 'timestamp': {
      const values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = (rows[i]![name] as number | null) ?? NaN;
      return values;
    }
    case 'boolean': {
      const values = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        const value = rows[i]![name];
        values[i] = value === null ? BOOLEAN_NULL : value === true ? 1 : 0;
      }
      return values;
    }
    case 'string': {
      const values = new Array<string | null>(count);
      for (let i = 0; i < count; i++) values[i] = rows[i]![name] as string | null;
      return values;
    }
  }
}
