/**
 * Reads an input file as batches of NDJSON lines, whatever its format:
 * NDJSON is split as is (so a broken line is reported, not fatal), CSV and
 * Parquet are read by DuckDB and each row becomes one JSON line.
 *
 * @module
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { isUtf8 } from 'node:buffer';
import type { Field } from '../definitions/index.ts';
import { CliError } from './cli-error.ts';

export interface RecordBatch {
  readonly lines: string[];
  /** Lines rejected while reading (indexed within the batch; their place in `lines` is blank). */
  readonly rejected?: readonly { readonly index: number; readonly field: string; readonly error: string }[];
  /** Progress made by this batch, in the source's unit. */
  readonly progress: number;
}

export interface RecordSource {
  /** `bytes` for NDJSON, `rows` for DuckDB-read files. */
  readonly unit: 'bytes' | 'rows';
  /** How rejections are located: by file line (NDJSON, CSV), by row (Parquet) or by array element (a JSON array). */
  readonly lineLabel: 'line' | 'row' | 'element';
  /** The line or row number of the first record (a CSV header takes line 1). */
  readonly firstLine: number;
  readonly total: number;
  batches(size: number): AsyncGenerator<RecordBatch>;
}

export type FileFormat = 'ndjson' | 'csv' | 'parquet';

export function detectFormat(file: string, explicit?: string): FileFormat {
  const format = explicit ?? ({ '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.json': 'ndjson', '.csv': 'csv', '.parquet': 'parquet' } as Record<string, string>)[extname(file).toLowerCase()];
  if (format === 'ndjson' || format === 'csv' || format === 'parquet') return format;
  throw new CliError(`Cannot tell the format of ${file}; name it .ndjson, .csv or .parquet, or pass --format.`);
}

/**
 * The size of an input file in bytes, or the one-line error a missing or
 * unreadable file gets: `tandem ingest` asks it first, so a wrong path is
 * named before any server is asked about the event type.
 */
export async function inputSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    throw new CliError(`Cannot read the input file ${file}.`);
  }
}

/**
 * Opens a file. `fields` (the event type's fields, when known) decides how
 * each CSV column's text becomes a value: see {@link csvCellReader}.
 */
export async function openSource(file: string, format: FileFormat, fields?: ReadonlyMap<string, Field>): Promise<RecordSource> {
  const size = await inputSize(file);
  if (format === 'ndjson') return (await startsWithBracket(file)) ? await duckdbSource(file, 'array', new Map()) : ndjsonSource(file, size);
  return await duckdbSource(file, format, fields ?? new Map());
}

/**
 * Whether a JSON file holds one array (what the HTTP API also accepts)
 * rather than one object per line: its first character, past a byte-order
 * mark and white space, is `[`.
 */
async function startsWithBracket(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return text.startsWith('[');
  } finally {
    await handle.close();
  }
}

/** What a line that is not UTF-8 is rejected with: decoding it would change its text (and its idempotency key) silently. */
export const NOT_UTF8 = 'This line is not valid UTF-8; save the file as UTF-8.';

/**
 * NDJSON is read as bytes and split on newlines, so each line is checked for
 * UTF-8 on its own: a decoder would turn bad bytes into U+FFFD, and two keys
 * that differ only there would become one.
 */
function ndjsonSource(file: string, size: number): RecordSource {
  return {
    unit: 'bytes',
    lineLabel: 'line',
    firstLine: 1,
    total: size,
    async *batches(batchSize) {
      let batch: string[] = [];
      let rejected: { index: number; field: string; error: string }[] = [];
      let bytes = 0;
      for await (const line of byteLines(file)) {
        const text = line.at(-1) === 13 ? line.subarray(0, -1) : line;
        if (isUtf8(text)) {
          batch.push(text.toString('utf8'));
        } else {
          rejected.push({ index: batch.length, field: '', error: NOT_UTF8 });
          batch.push('');
        }
        bytes += line.length + 1;
        if (batch.length === batchSize) {
          yield { lines: batch, rejected, progress: bytes };
          batch = [];
          rejected = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) yield { lines: batch, rejected, progress: bytes };
    },
  };
}

/** The lines of a file as bytes, without their newline. */
async function* byteLines(file: string): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10)) {
      yield data.subarray(0, end);
      data = data.subarray(end + 1);
    }
    rest = data;
  }
  if (rest.length > 0) yield rest;
}

/**
 * How DuckDB reads a CSV: every cell as text, so that it guesses no types
 * (a guessed timestamp column was read in the local time zone when its
 * values mixed forms) and Tandem's own validator parses each value exactly
 * as it parses the same value over HTTP. An unquoted empty cell is NULL and
 * a quoted one ("") the empty string, as in PostgreSQL's CSV format.
 */
const CSV_OPTIONS = 'header = true, all_varchar = true, allow_quoted_nulls = false';

/** A CSV cell as a JSON value of the event; `undefined` leaves the field out of the event. */
type CellReader = (cell: string | null) => string | number | boolean | null | undefined;

/** Decimal notation, as a spreadsheet writes it: an optional sign, digits with an optional point, an optional exponent. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;
/** What the validator reads exactly as a decimal string: an optional minus, digits, an optional fraction. */
const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;
const TRUE = /^(?:true|t|yes|y|1)$/i;
const FALSE = /^(?:false|f|no|n|0)$/i;

/**
 * How a CSV cell becomes a value of `field` (a column the event type does
 * not declare keeps its text, and the validator rejects the row naming it).
 * Text that does not fit the type is passed on as a string, so that the
 * validator rejects that row alone, with the sentence the HTTP API gives.
 *
 * - string: the text as is, spaces included. A missing value (an unquoted
 *   empty cell) is the empty string for a required field and null for an
 *   optional one; a quoted empty cell is always the empty string.
 * - number: decimal notation (`19.99`, `-3`, `1e3`, `.5`, spaces around)
 *   becomes a number; plain decimals (`19.99`, `-3`) go as text, which the
 *   validator scales exactly, whatever their digits.
 * - boolean: true/false, t/f, yes/no, y/n, 1/0, in any case (what DuckDB's
 *   BOOLEAN read before).
 * - timestamp: an integer is epoch milliseconds; other text is an ISO-8601
 *   string, and one without an offset is UTC, as over HTTP.
 * - number, boolean, timestamp: a blank cell, quoted or not, is a missing
 *   value: null for an optional field, "is required" for another.
 */
export function csvCellReader(field: Field | undefined): CellReader {
  if (field === undefined) return (cell) => cell;
  const typed = (read: (text: string) => string | number | boolean): CellReader => (cell) => {
    const text = cell?.trim() ?? '';
    return text === '' ? undefined : read(text);
  };
  switch (field.type) {
    case 'string':
      return field.optional ? (cell) => cell ?? undefined : (cell) => cell ?? '';
    case 'number':
      // Plain decimal text goes on as text, which the validator reads exactly; other notations (1e3, .5, +2) as numbers.
      return typed((text) => (PLAIN_DECIMAL.test(text) ? text : DECIMAL.test(text) ? finite(text) : text));
    case 'boolean':
      return typed((text) => (TRUE.test(text) ? true : FALSE.test(text) ? false : text));
    case 'timestamp':
      return typed((text) => (INTEGER.test(text) ? finite(text) : text));
  }
}

/** The number a numeral means, or the numeral itself when it overflows a double (`1e999`), so that the validator names it. */
function finite(text: string): number | string {
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** One row as a JSON object line. Written by hand, so that a column named `__proto__` is a key like any other. */
function jsonLine(keys: readonly string[], row: readonly unknown[], readers: readonly CellReader[] | undefined): string {
  let line = '';
  for (let i = 0; i < keys.length; i++) {
    const value = readers === undefined ? row[i] : readers[i]!(row[i] as string | null);
    if (value === undefined) continue;
    line += `${line === '' ? '{' : ','}${keys[i]}${jsonValue(value)}`;
  }
  return line === '' ? '{}' : `${line}}`;
}

function jsonValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return JSON.stringify(value);
    default:
      return value === null ? 'null' : JSON.stringify(value, plainValue);
  }
}

/**
 * What DuckDB reads each format with. A JSON array's elements come as their
 * own JSON text, untouched (no types guessed), and go on as NDJSON lines do.
 */
const DUCKDB_READERS = {
  csv: `read_csv($1, ${CSV_OPTIONS})`,
  parquet: 'read_parquet($1)',
  array: `read_json_objects($1, format = 'array')`,
} as const;

async function duckdbSource(file: string, format: 'csv' | 'parquet' | 'array', fields: ReadonlyMap<string, Field>): Promise<RecordSource> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let total: number;
  const from = DUCKDB_READERS[format];
  try {
    const count = await connection.runAndReadAll(`SELECT count(*) FROM ${from}`, [file]);
    total = Number(count.getRows()[0]![0]);
  } catch (error) {
    connection.closeSync();
    instance.closeSync();
    const what = format === 'array' ? 'a JSON array' : format.toUpperCase();
    throw new CliError(`DuckDB cannot read ${file} as ${what}: ${(error as Error).message.split('\n')[0]}`);
  }
  return {
    unit: 'rows',
    lineLabel: format === 'csv' ? 'line' : format === 'array' ? 'element' : 'row',
    firstLine: format === 'csv' ? 2 : 1,
    total,
    async *batches(batchSize) {
      try {
        const result = await connection.stream(`SELECT * FROM ${from}`, [file]);
        const columns = result.columnNames();
        const keys = columns.map((name) => `${JSON.stringify(name)}:`);
        // Parquet columns are typed already; CSV cells are text, read by the field's type.
        const readers = format === 'csv' ? columns.map((name) => csvCellReader(fields.get(name))) : undefined;
        let batch: string[] = [];
        for await (const rows of result.yieldRowsJs()) {
          for (const row of rows) {
            batch.push(format === 'array' ? String(row[0]) : jsonLine(keys, row, readers));
            if (batch.length === batchSize) {
              yield { lines: batch, progress: batch.length };
              batch = [];
            }
          }
        }
        if (batch.length > 0) yield { lines: batch, progress: batch.length };
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
  };
}

/** Earliest and latest instants whose ISO string has a four-digit year. */
const FOUR_DIGIT_YEARS = [Date.parse('0000-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59.999Z')] as const;

/**
 * DuckDB hands BIGINTs over as bigints and timestamps as Dates; the ingest
 * API takes numbers and ISO strings. A Date outside the years 0000–9999 has
 * no four-digit ISO form, so it goes as epoch ms, and the validator names
 * the range it breaks.
 */
function plainValue(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  // JSON.stringify has already turned a Date into its ISO string: the holder still has the Date.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Date) {
    const t = original.getTime();
    return t >= FOUR_DIGIT_YEARS[0] && t <= FOUR_DIGIT_YEARS[1] ? value : Number.isNaN(t) ? null : t;
  }
  return value;
}
