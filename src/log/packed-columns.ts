/**
 * Columns packed for the trip to the encoder worker. Typed arrays cross as
 * blocks of memory, but an array of strings is cloned string by string, and
 * for a group of events that took longer than encoding the group. A string
 * column therefore crosses as one string, its values joined by NUL (which the
 * validator refuses in a string), with the nulls marked on the side.
 *
 * @module
 */
import type { Column, EventColumns } from '../definitions/index.ts';

const SEPARATOR = '\u0000';

/** A string column as one string; `nulls[i]` is 1 where value `i` is null (omitted when none is). */
export interface PackedStrings {
  readonly joined: string;
  readonly nulls: Uint8Array | undefined;
}

export interface PackedColumns {
  readonly count: number;
  readonly columns: readonly (Float64Array | Uint8Array | PackedStrings)[];
}

export function packColumns(events: EventColumns): PackedColumns {
  return { count: events.count, columns: events.columns.map((column) => (Array.isArray(column) ? packStrings(column, events.count) : column)) };
}

export function unpackColumns(packed: PackedColumns): EventColumns {
  return { count: packed.count, columns: packed.columns.map((column): Column => (isPacked(column) ? unpackStrings(column, packed.count) : column)) };
}

function isPacked(column: Float64Array | Uint8Array | PackedStrings): column is PackedStrings {
  return !ArrayBuffer.isView(column);
}

function packStrings(values: readonly (string | null)[], count: number): PackedStrings {
  let nulls: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    if (values[i] === null) (nulls ??= new Uint8Array(count))[i] = 1;
  }
  // join writes null as an empty string; `nulls` tells the two apart.
  return { joined: values.join(SEPARATOR), nulls };
}

function unpackStrings(packed: PackedStrings, count: number): (string | null)[] {
  const values: (string | null)[] = count === 0 ? [] : packed.joined.split(SEPARATOR);
  const nulls = packed.nulls;
  if (nulls !== undefined) for (let i = 0; i < count; i++) if (nulls[i] === 1) values[i] = null;
  return values;
}
