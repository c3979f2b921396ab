/**
 * Writes a group's events as the log's NDJSON payload, as UTF-8 bytes: one
 * line per event, `{"_offset":…,field…}`, byte for byte what
 * `JSON.stringify` would write.
 *
 * Hand-written, and straight to bytes, because this runs for every logged
 * event. `JSON.stringify` spends most of its time turning epoch-millisecond
 * timestamps into text (too large for V8's small-integer fast path), and
 * building lines as strings left a string per value for the collector, a
 * rope to flatten and a UTF-8 pass: together about half the encoder worker's
 * time. Here digits are stored into a reused buffer, and strings are copied
 * byte by byte from their column's UTF-8 (see {@link Utf8Strings}); only a
 * string that needs an escape goes through `JSON.stringify`. Every number in
 * an event is a safe integer (scaled numbers, epoch milliseconds).
 *
 * @module
 */
import { BOOLEAN_NULL, type Field } from '../definitions/index.ts';
import { Utf8Strings, type PackedColumns, type PackedStrings } from './packed-columns.ts';

/** A safe integer takes at most 17 bytes (a sign and 16 digits); `true`, `false` and `null` fewer. */
const MAX_SCALAR_BYTES = 17;
/** In JSON a UTF-16 code unit takes at most 6 bytes (`\u001f`); a string adds its two quotes. */
const MAX_BYTES_PER_CHAR = 6;

/** The most bytes value `i` of a string column can take as JSON (`null` for -1). */
function stringBound(lengths: Int32Array, i: number): number {
  const length = lengths[i]!;
  return length < 0 ? 4 : length * MAX_BYTES_PER_CHAR + 2;
}

/** The buffer a thread writes payloads into, grown as needed and reused. */
let scratch = Buffer.allocUnsafeSlow(1 << 16);

/**
 * The NDJSON lines of events `[firstOffset, firstOffset + events.count)`,
 * each ending in a newline. A view of a buffer the next call overwrites:
 * copy it before writing again.
 *
 * @example
 * ```ts
 * const frame = encodeFrame('order', 0, events.count, ndjsonBytes(fields, packColumns(events), 0)); // copies the bytes
 * ```
 */
export function ndjsonBytes(fields: readonly Field[], events: PackedColumns, firstOffset: number): Buffer {
  let write = writers.get(fields);
  if (write === undefined) writers.set(fields, (write = compileWriter(fields)));
  // The end first: writing may grow the buffer, replacing `scratch`.
  const end = write(readable(events), firstOffset);
  return scratch.subarray(0, end);
}

/** Packed columns with each string column ready to be read as UTF-8. */
interface ReadableColumns {
  readonly count: number;
  readonly columns: readonly (Float64Array | Uint8Array | Utf8Strings)[];
}

function readable(events: PackedColumns): ReadableColumns {
  return { count: events.count, columns: events.columns.map((c) => (ArrayBuffer.isView(c) ? c : new Utf8Strings(c as PackedStrings))) };
}

type Writer = (events: ReadableColumns, firstOffset: number) => number;

const writers = new WeakMap<readonly Field[], Writer>();

/** Makes sure `scratch` has room for `bytes` more after `at`, keeping what is before `at`. */
function reserve(at: number, bytes: number): Buffer {
  if (at + bytes > scratch.length) {
    const grown = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, at + bytes));
    scratch.copy(grown, 0, 0, at);
    scratch = grown;
  }
  return scratch;
}

/** The most bytes a line can take, beyond its strings' own worst case. */
function fixedBytes(fields: readonly Field[]): number {
  return `{"_offset":}\n`.length + MAX_SCALAR_BYTES + fields.reduce((n, f) => n + `,${JSON.stringify(f.name)}:`.length + MAX_SCALAR_BYTES, 0);
}

/** Statements storing an ASCII constant at `p`, unrolled: no loop, no loads. */
function storeText(text: string): string {
  const stores = Array.from(text, (c, k) => `b[p + ${k}] = ${c.charCodeAt(0)};`);
  return `${stores.join(' ')} p += ${text.length};`;
}

/**
 * A writer for one field list, compiled to a function with each field's key
 * stored byte by byte and its formatter called directly, because a loop over
 * fields with a switch per value took a quarter longer. Field names appear
 * only inside numeric stores (definitions restrict them to letters, digits
 * and underscores anyway). Where code cannot be compiled, the loop.
 */
function compileWriter(fields: readonly Field[]): Writer {
  const value = (f: Field, i: number): string => {
    switch (f.type) {
      case 'string':
        return `p = stringBytes(b, p, c${i}, i);`;
      case 'boolean':
        return `p = booleanBytes(b, p, c${i}[i]);`;
      default:
        return `p = integerBytes(b, p, c${i}[i]);`;
    }
  };
  const strings = fields.flatMap((f, i) => (f.type === 'string' ? [`stringBound(c${i}.lengths, i)`] : []));
  const source = `'use strict';
return function write(events, firstOffset) {
  ${fields.map((_, i) => `const c${i} = events.columns[${i}];`).join('\n  ')}
  let b = scratch();
  let p = 0;
  for (let i = 0; i < events.count; i++) {
    b = reserve(p, ${fixedBytes(fields)}${strings.map((s) => ` + ${s}`).join('')});
    ${storeText('{"_offset":')}
    p = integerBytes(b, p, firstOffset + i);
    ${fields.map((f, i) => `${storeText(`,${JSON.stringify(f.name)}:`)}\n    ${value(f, i)}`).join('\n    ')}
    ${storeText('}\n')}
  }
  return p;
};`;
  try {
    return new Function('scratch', 'reserve', 'stringBound', 'integerBytes', 'stringBytes', 'booleanBytes', source)(
      () => scratch, reserve, stringBound, integerBytes, stringBytes, booleanBytes,
    ) as Writer;
  } catch (error) {
    if (!(error instanceof EvalError)) throw error;
    return (events, firstOffset) => loopWriter(fields, events, firstOffset);
  }
}

/** {@link ndjsonBytes} field by field with no compiled code. Exported for the test that holds both to JSON.stringify. */
export function loopBytes(fields: readonly Field[], events: PackedColumns, firstOffset: number): Buffer {
  const end = loopWriter(fields, readable(events), firstOffset);
  return scratch.subarray(0, end);
}

function loopWriter(fields: readonly Field[], events: ReadableColumns, firstOffset: number): number {
  const keys = fields.map((f) => Buffer.from(`,${JSON.stringify(f.name)}:`, 'latin1'));
  const open = Buffer.from('{"_offset":', 'latin1');
  const close = Buffer.from('}\n', 'latin1');
  const fixed = fixedBytes(fields);
  let p = 0;
  for (let i = 0; i < events.count; i++) {
    const strings = events.columns.reduce((n: number, c) => n + (c instanceof Utf8Strings ? stringBound(c.lengths, i) : 0), 0);
    const b = reserve(p, fixed + strings);
    p += open.copy(b, p);
    p = integerBytes(b, p, firstOffset + i);
    fields.forEach((field, f) => {
      p += keys[f]!.copy(b, p);
      const column = events.columns[f]!;
      if (field.type === 'string') p = stringBytes(b, p, column as Utf8Strings, i);
      else if (field.type === 'boolean') p = booleanBytes(b, p, (column as Uint8Array)[i]!);
      else p = integerBytes(b, p, (column as Float64Array)[i]!);
    });
    p += close.copy(b, p);
  }
  return p;
}

/** Writes `null` at `p`; returns where it ends. */
function nullBytes(b: Buffer, p: number): number {
  b[p] = 0x6e;
  b[p + 1] = 0x75;
  b[p + 2] = 0x6c;
  b[p + 3] = 0x6c;
  return p + 4;
}

/** A boolean column's value (2 is null) as JSON at `p`; returns where it ends. */
export function booleanBytes(b: Buffer, p: number, value: number): number {
  if (value === BOOLEAN_NULL) return nullBytes(b, p);
  if (value === 1) {
    b[p] = 0x74;
    b[p + 1] = 0x72;
    b[p + 2] = 0x75;
    b[p + 3] = 0x65;
    return p + 4;
  }
  b[p] = 0x66;
  b[p + 1] = 0x61;
  b[p + 2] = 0x6c;
  b[p + 3] = 0x73;
  b[p + 4] = 0x65;
  return p + 5;
}

/**
 * A safe integer as JSON at `p` (NaN, the columns' null, as `null`; -0 as
 * `0`, as JSON writes it); returns where it ends. Digits come from 32-bit
 * integer arithmetic, V8's fastest: above 2^31, in two halves split at 10^8.
 */
export function integerBytes(b: Buffer, p: number, value: number): number {
  if (value !== value) return nullBytes(b, p);
  let magnitude = value;
  if (value < 0) {
    b[p++] = 0x2d;
    magnitude = -value;
  }
  if (magnitude < 2147483648) return digits(b, p, magnitude | 0);
  const high = Math.floor(magnitude / 1e8);
  return eightDigits(b, digits(b, p, high), (magnitude - high * 1e8) | 0);
}

/** A non-negative integer below 2^31 at `p`; returns where it ends. */
function digits(b: Buffer, p: number, value: number): number {
  let end = p + 1;
  for (let bound = 10; bound <= value; bound *= 10) end++;
  let v = value;
  for (let at = end; at > p; ) {
    const next = (v / 10) | 0;
    b[--at] = 0x30 + v - next * 10;
    v = next;
  }
  return end;
}

/** A non-negative integer below 10^8 as exactly eight digits, zero-padded. */
function eightDigits(b: Buffer, p: number, value: number): number {
  let v = value;
  for (let at = p + 8; at > p; ) {
    const next = (v / 10) | 0;
    b[--at] = 0x30 + v - next * 10;
    v = next;
  }
  return p + 8;
}

/**
 * Value `i` of a string column as JSON at `p`, its UTF-8 bytes copied as
 * they are (JSON leaves non-ASCII characters alone); returns where it ends.
 * Values are written in order: each moves the column's reading position on.
 */
export function stringBytes(b: Buffer, p: number, strings: Utf8Strings, i: number): number {
  if (strings.lengths[i] === -1) {
    strings.at++;
    return nullBytes(b, p);
  }
  const u = strings.bytes;
  const end = u.length;
  let q = strings.at;
  let at = p;
  b[at++] = 0x22;
  for (; q < end; q++) {
    const c = u[q]!;
    if (c === 0) break;
    if (c < 0x20 || c === 0x22 || c === 0x5c) return p + b.write(JSON.stringify(strings.next(i)), p, 'utf8');
    b[at++] = c;
  }
  strings.at = q + 1;
  b[at++] = 0x22;
  return at;
}
