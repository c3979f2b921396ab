/**
 * Columns packed for the log's encoder. Typed arrays cross to the worker as
 * blocks of memory, but an array of strings is cloned string by string, and
 * for a group of events that took longer than encoding the group. A string
 * column therefore crosses as one string, its values joined by NUL (which the
 * validator refuses in a string), with each value's length on the side.
 *
 * The encoder never splits the joined string back into values: it turns it
 * into UTF-8 once and copies each value's bytes (see {@link Utf8Strings}),
 * which cost the worker half as much as rebuilding the strings.
 *
 * @module
 */
import type { EventColumns } from '../definitions/index.ts';

const SEPARATOR = '\u0000';

/** A string column as one string; `lengths[i]` is value `i`'s length in UTF-16 code units, -1 for null. */
export interface PackedStrings {
  readonly joined: string;
  readonly lengths: Int32Array;
}

export interface PackedColumns {
  readonly count: number;
  readonly columns: readonly (Float64Array | Uint8Array | PackedStrings)[];
}

/**
 * The columns packed. Throws a RangeError if a string column is too long to
 * join into one string (V8 caps a string's length); {@link packInParts} does not.
 */
export function packColumns(events: EventColumns): PackedColumns {
  return { count: events.count, columns: events.columns.map((column) => (Array.isArray(column) ? packStrings(column, events.count) : column)) };
}

/** The columns packed in as few consecutive parts as V8's string length allows: one, but for gigabytes of text. */
export function packInParts(events: EventColumns): PackedColumns[] {
  try {
    return [packColumns(events)];
  } catch (error) {
    if (!(error instanceof RangeError) || events.count < 2) throw error;
    const half = events.count >> 1;
    return [...packInParts(sliceEvents(events, 0, half)), ...packInParts(sliceEvents(events, half, events.count))];
  }
}

function sliceEvents(events: EventColumns, start: number, end: number): EventColumns {
  return { count: end - start, columns: events.columns.map((column) => (Array.isArray(column) ? column.slice(start, end) : column.subarray(start, end))) };
}

function packStrings(values: readonly (string | null)[], count: number): PackedStrings {
  const lengths = new Int32Array(count);
  for (let i = 0; i < count; i++) lengths[i] = values[i]?.length ?? -1;
  // join writes null as an empty string; `lengths` tells the two apart.
  return { joined: values.length === count ? values.join(SEPARATOR) : values.slice(0, count).join(SEPARATOR), lengths };
}

/**
 * A packed string column as UTF-8, read value by value: a value's bytes run
 * from {@link at} to the next 0 byte (UTF-8 writes NUL, the separator, as 0,
 * and no other character has a 0 byte).
 */
export class Utf8Strings {
  readonly bytes: Buffer;
  readonly lengths: Int32Array;
  /** Where the next value's bytes start. */
  at = 0;

  constructor(packed: PackedStrings) {
    this.bytes = Buffer.from(packed.joined, 'utf8');
    this.lengths = packed.lengths;
  }

  /** Value `i` as a string; reading it moves {@link at} past it. Values are read in order. */
  next(i: number): string | null {
    const start = this.at;
    const stop = this.#stop(start);
    this.at = stop + 1;
    return this.lengths[i] === -1 ? null : this.bytes.toString('utf8', start, stop);
  }

  #stop(start: number): number {
    const stop = this.bytes.indexOf(0, start);
    return stop === -1 ? this.bytes.length : stop;
  }
}

/** Packed columns read back as columns: for tests, and for anything that needs the values themselves. */
export function unpackColumns(packed: PackedColumns): EventColumns {
  return {
    count: packed.count,
    columns: packed.columns.map((column) => {
      if (ArrayBuffer.isView(column)) return column;
      const strings = new Utf8Strings(column);
      return Array.from({ length: packed.count }, (_, i) => strings.next(i));
    }),
  };
}
