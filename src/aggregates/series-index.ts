/**
 * Numbers the series (combinations of dimension values) of an aggregate
 * table, so the rest of the table can work with small integers.
 *
 * @module
 */
import { valueAt, type Column, type Value } from '../definitions/index.ts';
import { LargeMap } from '../util/large-map.ts';

/**
 * An injective key for dimension values. Strings never hold NUL (the event
 * validator refuses it), so NUL separates the parts, and each non-null part
 * starts with a type letter while null is the empty part.
 */
export function seriesKey(values: readonly Value[]): string {
  let key = '';
  for (let i = 0; i < values.length; i++) key += (i === 0 ? '' : '\u0000') + keyPart(values[i]!);
  return key;
}

function keyPart(v: Value): string {
  switch (typeof v) {
    case 'string':
      return `s${v}`;
    case 'number':
      return `n${v}`;
    case 'boolean':
      return v ? 't' : 'f';
    default:
      return '';
  }
}

/**
 * Heap bytes a series costs beyond its values: its dimension array and its
 * entry in the map of keys (with the map's spare room). Rounded up from
 * V8's object layout; what the memory bound needs is the right order of
 * magnitude, and the strings, which grow without bound, counted in full.
 */
const SERIES_OVERHEAD = 96;
/** A V8 string's header. */
const STRING_HEADER = 16;

/** Bytes V8 holds for a string: one per character if every one fits in Latin-1, else two. */
export function stringBytes(text: string): number {
  // eslint-disable-next-line no-control-regex -- the test is for any character past Latin-1
  return STRING_HEADER + (/[^\u0000-\u00ff]/.test(text) ? 2 * text.length : text.length);
}

function valueBytes(value: Value): number {
  return typeof value === 'string' ? stringBytes(value) : 0;
}

export class SeriesIndex {
  /**
   * Keyed by the value itself for one dimension (a Map tells 1, '1', true and
   * null apart), else by {@link seriesKey}. A view keyed by user can pass the
   * 2^24 entries one V8 Map holds, hence a {@link LargeMap}.
   */
  readonly #ids = new LargeMap<Value, number>();
  readonly #dims: (readonly Value[])[] = [];
  #bytes = 0;

  constructor(readonly names: readonly string[]) {}

  /** An estimate of the heap the series take: their keys, dimension values and entries. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#dims.length;
  }

  /** The dimension values of series `id`, in the view's dimension order. */
  dims(id: number): readonly Value[] {
    return this.#dims[id]!;
  }

  /** The id of a series, or -1 if the table has none with these values. */
  find(dims: readonly Value[]): number {
    return this.#ids.get(this.#key(dims)) ?? -1;
  }

  /** The id of a series, numbering it if new. */
  intern(dims: readonly Value[]): number {
    const key = this.#key(dims);
    return this.#ids.get(key) ?? this.#add(key, dims);
  }

  /**
   * The ids of the series of the first `count` events of some columns,
   * written to `out` and numbering new series; `dims` are the columns of the
   * view's dimensions, in order. Allocates nothing for a series already known. With
   * `skipping`, events whose `out` already holds -1 are left out.
   */
  internColumns(dims: readonly Column[], count: number, out: Int32Array, skipping: boolean): void {
    if (dims.length === 0) {
      for (let i = 0; i < count; i++) if (!skipping || out[i] !== -1) out[i] = this.#dims.length === 1 ? 0 : this.#add('', []);
    } else if (dims.length === 1) {
      const column = dims[0]!;
      for (let i = 0; i < count; i++) {
        if (skipping && out[i] === -1) continue;
        const value = valueAt(column, i);
        out[i] = this.#ids.get(value) ?? this.#add(value, [value]);
      }
    } else {
      for (let i = 0; i < count; i++) {
        if (skipping && out[i] === -1) continue;
        let key = '';
        for (let d = 0; d < dims.length; d++) key += (d === 0 ? '' : '\u0000') + keyPart(valueAt(dims[d]!, i));
        out[i] = this.#ids.get(key) ?? this.#add(key, dims.map((column) => valueAt(column, i)));
      }
    }
  }

  #key(dims: readonly Value[]): Value {
    return dims.length === 1 ? dims[0]! : seriesKey(dims);
  }

  #add(key: Value, dims: readonly Value[]): number {
    let bytes = SERIES_OVERHEAD + 8 * dims.length;
    for (const value of dims) bytes += valueBytes(value);
    // With several dimensions the key is one more string, their values joined.
    if (dims.length > 1) bytes += valueBytes(key);
    this.#bytes += bytes;
    const id = this.#dims.length;
    this.#dims.push(dims);
    this.#ids.insert(key, id);
    return id;
  }
}
