/**
 * Writes a group's rows as the log's NDJSON payload: one line per row,
 * `{"_offset":…,field…}`, byte for byte what `JSON.stringify` would write.
 *
 * Hand-written because `JSON.stringify` spends most of its time on the
 * timestamp: an epoch-millisecond value is too large for V8's small-integer
 * fast path, and the general number-to-text conversion costs several times
 * more than everything else in the row. Every number in a row is a safe
 * integer (scaled numbers, epoch milliseconds), which this prints in two
 * small-integer halves.
 *
 * @module
 */
import { BOOLEAN_NULL, type EventColumns, type Field } from '../definitions/index.ts';

const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/** The JSON text of a safe integer (NaN, the columns' null, as `null`). */
export function integerText(value: number): string {
  if ((value | 0) === value) return `${value | 0}`;
  if (!Number.isSafeInteger(value)) return Number.isNaN(value) ? 'null' : JSON.stringify(value);
  const magnitude = Math.abs(value);
  const high = Math.floor(magnitude / 1e6);
  const low = `${(magnitude - high * 1e6) | 0}`;
  return `${value < 0 ? '-' : ''}${high}${ZEROS[6 - low.length]}${low}`;
}

/** The JSON text of a string; quoting only, unless a character needs an escape. */
export function stringText(value: string | null): string {
  if (value === null) return 'null';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Lone surrogates need no check: the validator refuses them.
    if (c < 0x20 || c === 0x22 || c === 0x5c) return JSON.stringify(value);
  }
  return `"${value}"`;
}

type Printer = (rows: EventColumns, firstOffset: number) => string;

/** One printer per event type's field list, compiled on first use. */
const printers = new WeakMap<readonly Field[], Printer>();

/** The NDJSON lines of rows `[firstOffset, firstOffset + count)`, each ending in a newline. */
export function ndjsonText(fields: readonly Field[], rows: EventColumns, firstOffset: number): string {
  let print = printers.get(fields);
  if (print === undefined) printers.set(fields, (print = compilePrinter(fields)));
  return print(rows, firstOffset);
}

/**
 * A printer for one field list, compiled to a function with each field's key
 * and formatter written out, because it runs for every logged event and the
 * loop over fields with a switch per value took a quarter longer. Field names
 * appear only as JSON string literals (definitions restrict them to letters,
 * digits and underscores anyway). Where code cannot be compiled, the loop.
 */
function compilePrinter(fields: readonly Field[]): Printer {
  const value = (f: Field, i: number): string => {
    switch (f.type) {
      case 'string':
        return `stringText(c${i}[i])`;
      case 'boolean':
        return `(c${i}[i] === ${BOOLEAN_NULL} ? 'null' : c${i}[i] === 1 ? 'true' : 'false')`;
      default:
        return `integerText(c${i}[i])`;
    }
  };
  const parts = fields.map((f, i) => `${JSON.stringify(`,${JSON.stringify(f.name)}:`)} + ${value(f, i)}`);
  const source = `'use strict';
return function print(rows, firstOffset) {
  ${fields.map((_, i) => `const c${i} = rows.columns[${i}];`).join('\n  ')}
  let text = '';
  for (let i = 0; i < rows.count; i++) {
    text += '{"_offset":' + integerText(firstOffset + i)${parts.map((p) => ` + ${p}`).join('')} + '}\\n';
  }
  return text;
};`;
  try {
    return new Function('integerText', 'stringText', source)(integerText, stringText) as Printer;
  } catch (error) {
    if (!(error instanceof EvalError)) throw error;
    return (rows, firstOffset) => loopText(fields, rows, firstOffset);
  }
}

/** The same lines, field by field with no compiled code. Exported for the test that holds both to JSON.stringify. */
export function loopText(fields: readonly Field[], rows: EventColumns, firstOffset: number): string {
  const keys = fields.map((f) => `,${JSON.stringify(f.name)}:`);
  const { columns, count } = rows;
  let text = '';
  for (let i = 0; i < count; i++) {
    let line = `{"_offset":${integerText(firstOffset + i)}`;
    for (let f = 0; f < columns.length; f++) line += keys[f]! + valueText(fields[f]!, columns[f]!, i);
    text += `${line}}\n`;
  }
  return text;
}

function valueText(field: Field, column: EventColumns['columns'][number], i: number): string {
  switch (field.type) {
    case 'number':
    case 'timestamp':
      return integerText((column as Float64Array)[i]!);
    case 'boolean': {
      const value = (column as Uint8Array)[i]!;
      return value === BOOLEAN_NULL ? 'null' : value === 1 ? 'true' : 'false';
    }
    case 'string':
      return stringText((column as (string | null)[])[i]!);
  }
}
