/**
 * Reads an input file as batches of NDJSON lines, whatever its format:
 * NDJSON is split as is (so a broken line is reported, not fatal), CSV and
 * Parquet are read by DuckDB and each row becomes one JSON line.
 *
 * @module
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { sqlStringLiteral, type FieldType } from '../definitions/index.ts';
import { CliError } from './cli-error.ts';

export interface RecordBatch {
  readonly lines: string[];
  /** Progress made by this batch, in the source's unit. */
  readonly progress: number;
}

export interface RecordSource {
  /** `bytes` for NDJSON, `rows` for DuckDB-read files. */
  readonly unit: 'bytes' | 'rows';
  /** How rejections are located: by file line (NDJSON, CSV) or by row (Parquet). */
  readonly lineLabel: 'line' | 'row';
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
 * Opens a file. `fields` (the event type's field types, when known) types CSV
 * columns by the schema rather than by DuckDB's guess, so that an id column
 * of digits stays a string.
 */
export async function openSource(file: string, format: FileFormat, fields?: ReadonlyMap<string, FieldType>): Promise<RecordSource> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new CliError(`Cannot read the input file ${file}.`);
  }
  return format === 'ndjson' ? ndjsonSource(file, size) : await duckdbSource(file, format, fields ?? new Map());
}

function ndjsonSource(file: string, size: number): RecordSource {
  return {
    unit: 'bytes',
    lineLabel: 'line',
    firstLine: 1,
    total: size,
    async *batches(batchSize) {
      const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
      let batch: string[] = [];
      let bytes = 0;
      for await (const line of lines) {
        batch.push(line);
        bytes += Buffer.byteLength(line) + 1;
        if (batch.length === batchSize) {
          yield { lines: batch, progress: bytes };
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) yield { lines: batch, progress: bytes };
    },
  };
}

/** CSV column types by field type. Timestamps are left to DuckDB's detection: ISO text and epoch numbers both work. */
const CSV_TYPES: Partial<Record<FieldType, string>> = { string: 'VARCHAR', boolean: 'BOOLEAN', number: 'DOUBLE' };

/** The `types` option for read_csv: only columns the header has (DuckDB rejects others). Names come from the config. */
async function csvTypes(connection: DuckDBConnection, file: string, fields: ReadonlyMap<string, FieldType>): Promise<string> {
  const header = await connection.runAndReadAll('SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv($1, header = true))', [file]);
  const columns = new Set(header.getRows().map((r) => String(r[0])));
  const typed = [...fields].filter(([name, type]) => columns.has(name) && CSV_TYPES[type] !== undefined);
  if (typed.length === 0) return '';
  return `, types = {${typed.map(([name, type]) => `${sqlStringLiteral(name)}: '${CSV_TYPES[type]}'`).join(', ')}}`;
}

async function duckdbSource(file: string, format: 'csv' | 'parquet', fields: ReadonlyMap<string, FieldType>): Promise<RecordSource> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let total: number;
  let from: string;
  try {
    from = format === 'csv' ? `read_csv($1, header = true${await csvTypes(connection, file, fields)})` : 'read_parquet($1)';
    const count = await connection.runAndReadAll(`SELECT count(*) FROM ${from}`, [file]);
    total = Number(count.getRows()[0]![0]);
  } catch (error) {
    connection.closeSync();
    instance.closeSync();
    throw new CliError(`DuckDB cannot read ${file} as ${format.toUpperCase()}: ${(error as Error).message.split('\n')[0]}`);
  }
  return {
    unit: 'rows',
    lineLabel: format === 'csv' ? 'line' : 'row',
    firstLine: format === 'csv' ? 2 : 1,
    total,
    async *batches(batchSize) {
      try {
        const result = await connection.stream(`SELECT * FROM ${from}`, [file]);
        let batch: string[] = [];
        for await (const rows of result.yieldRowObjectJs()) {
          for (const row of rows) {
            batch.push(JSON.stringify(row, plainValue));
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

/** DuckDB hands timestamps over as Dates and BIGINTs as bigints; the ingest API takes ISO strings and numbers. */
function plainValue(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}
