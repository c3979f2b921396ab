/**
 * A history file as DuckDB reads it, checked: one SQL relation with, per
 * row, its offset, its row number in the file, the first problem the live
 * validator would name (NULL for a good row) and each field normalized as
 * the master dataset stores it. Parquet columns have one type each, so
 * their checks are chosen once per column; a JSON value's kind and a CSV
 * cell's reading (`cli/record-source.ts`, `csvCellReader`) are decided row
 * by row.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdentifier, sqlStringLiteral, type EventTypeSchema, type Field } from '../definitions/index.ts';
import { valueCheck, type InputKind } from './history-checks.ts';
import { HistoryFileError } from './history-errors.ts';

/** The formats a history import reads. */
export type HistoryFormat = 'parquet' | 'csv' | 'ndjson' | 'json';

/** One way a field's input may come, and the condition under which it does. */
interface Branch {
  readonly when: string;
  readonly kind: InputKind;
  readonly v: string;
}

/** How a row gives a field's value: absent, null, or one of some branches. */
interface FieldInput {
  readonly missing: string;
  readonly isNull: string;
  readonly branches: readonly Branch[];
}

const READERS: Record<HistoryFormat, (path: string) => string> = {
  parquet: (path) => `read_parquet(${sqlStringLiteral(path)}, file_row_number = true)`,
  csv: (path) => `read_csv(${sqlStringLiteral(path)}, header = true, all_varchar = true, allow_quoted_nulls = false)`,
  ndjson: (path) => `read_json_objects(${sqlStringLiteral(path)}, format = 'newline_delimited')`,
  json: (path) => `read_json_objects(${sqlStringLiteral(path)}, format = 'array')`,
};

/** The format a file's name says, or undefined. */
export function formatOf(path: string): HistoryFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

function kindOfColumn(type: string): InputKind {
  if (type === 'VARCHAR') return 'string';
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(type)) return 'integer';
  if (type === 'FLOAT' || type === 'DOUBLE') return 'double';
  if (type.startsWith('DECIMAL')) return 'decimal';
  if (type === 'BOOLEAN') return 'boolean';
  if (type.startsWith('TIMESTAMP') || type === 'DATE') return 'timestamp';
  return 'other';
}

/** Column names and DuckDB types of the file, as its reader gives them. */
async function columnsOf(connection: DuckDBConnection, from: string, path: string): Promise<Map<string, string>> {
  const read = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`).catch((error: unknown) => {
    throw new HistoryFileError(path, `DuckDB cannot read it: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  });
  return new Map(read.getRows().map((row) => [String(row[0]), String(row[1])]));
}

function parquetInput(field: Field, types: ReadonlyMap<string, string>): FieldInput {
  const type = types.get(field.name);
  if (type === undefined) return { missing: 'true', isNull: 'false', branches: [] };
  const column = sqlIdentifier(field.name);
  return { missing: 'false', isNull: `${column} IS NULL`, branches: [{ when: 'true', kind: kindOfColumn(type), v: column }] };
}

function jsonInput(field: Field): FieldInput {
  const path = sqlStringLiteral(`$.${field.name}`);
  const type = `json_type(json, ${path})`;
  const text = `(json ->> ${path})`;
  return {
    missing: `${type} IS NULL`,
    isNull: `${type} = 'NULL'`,
    branches: [
      { when: `${type} = 'VARCHAR'`, kind: 'string', v: text },
      { when: `${type} IN ('BIGINT', 'UBIGINT')`, kind: 'integer', v: `TRY_CAST(${text} AS HUGEINT)` },
      { when: `${type} = 'DOUBLE'`, kind: 'double', v: `CAST(${text} AS DOUBLE)` },
      { when: `${type} = 'BOOLEAN'`, kind: 'boolean', v: `CAST(${text} AS BOOLEAN)` },
      { when: 'true', kind: 'other', v: text },
    ],
  };
}

/** `csvCellReader`: a cell's text read by the field's type; text that fits no reading goes on as text, which the checks refuse. */
function csvInput(field: Field, columns: ReadonlyMap<string, string>): FieldInput {
  if (!columns.has(field.name)) return { missing: 'true', isNull: 'false', branches: [] };
  const cell = sqlIdentifier(field.name);
  const t = `trim(${cell})`;
  const blank = `(${cell} IS NULL OR ${t} = '')`;
  switch (field.type) {
    case 'string':
      return field.optional
        ? { missing: `${cell} IS NULL`, isNull: 'false', branches: [{ when: 'true', kind: 'string', v: cell }] }
        : { missing: 'false', isNull: 'false', branches: [{ when: 'true', kind: 'string', v: `coalesce(${cell}, '')` }] };
    case 'number': {
      const plain = `regexp_full_match(${t}, '-?[0-9]+(\\.[0-9]+)?')`;
      const numeral = `regexp_full_match(${t}, '(?i)[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)(e[+-]?[0-9]+)?') AND isfinite(TRY_CAST(${t} AS DOUBLE))`;
      return { missing: blank, isNull: 'false', branches: [
        { when: plain, kind: 'string', v: t },
        { when: numeral, kind: 'double', v: `TRY_CAST(${t} AS DOUBLE)` },
        { when: 'true', kind: 'string', v: t },
      ] };
    }
    case 'boolean':
      return { missing: blank, isNull: 'false', branches: [
        { when: `regexp_full_match(${t}, '(?i)true|t|yes|y|1')`, kind: 'boolean', v: 'true' },
        { when: `regexp_full_match(${t}, '(?i)false|f|no|n|0')`, kind: 'boolean', v: 'false' },
        { when: 'true', kind: 'string', v: t },
      ] };
    case 'timestamp':
      return { missing: blank, isNull: 'false', branches: [
        { when: `regexp_full_match(${t}, '[+-]?[0-9]+')`, kind: 'double', v: `TRY_CAST(${t} AS DOUBLE)` },
        { when: 'true', kind: 'string', v: t },
      ] };
  }
}

/** The field's problem and value over its input's branches. */
function fieldSql(field: Field, input: FieldInput): { problem: string; value: string } {
  const absent = (text: string) => (field.optional ? 'NULL' : sqlStringLiteral(`Field '${field.name}' ${text}.`));
  const checks = input.branches.map((b) => ({ when: b.when, ...valueCheck(field, b.kind, b.v) }));
  const only = checks.length === 1 && checks[0]!.when === 'true' ? checks[0] : undefined;
  const problems = only?.problem ?? `CASE ${checks.map((c) => `WHEN ${c.when} THEN ${c.problem}`).join(' ')} END`;
  const values = only?.value ?? `CASE ${checks.map((c) => `WHEN ${c.when} THEN ${c.value}`).join(' ')} END`;
  if (checks.length === 0) return { problem: absent('is required'), value: 'NULL' };
  return {
    problem: `CASE WHEN ${input.missing} THEN ${absent('is required')} WHEN ${input.isNull} THEN ${absent('must not be null')} ELSE ${problems} END`,
    value: `CASE WHEN ${input.missing} OR ${input.isNull} THEN NULL ELSE ${values} END`,
  };
}

/** Undeclared columns (or JSON keys): a problem for every row, unless the event type ignores them. */
function undeclaredSql(schema: EventTypeSchema, format: HistoryFormat, columns: ReadonlyMap<string, string>): string {
  if (schema.undeclaredFields === 'ignore') return 'NULL';
  const sentence = (name: string) => `'Field ''' || left(${name}, 64) || ''' is not declared by event type ''${schema.name}''.'`;
  if (format === 'ndjson' || format === 'json') {
    const declared = `[${schema.fields.map((f) => sqlStringLiteral(f.name)).join(', ')}]`;
    return sentence(`list_filter(json_keys(json), k -> NOT list_contains(${declared}, k))[1]`);
  }
  const extra = [...columns.keys()].find((name) => name !== 'file_row_number' && !schema.fieldsByName.has(name));
  return extra === undefined ? 'NULL' : sentence(sqlStringLiteral(extra));
}

/** The checked relation of one file: `_offset` (from `first`), `_row` (from 1), `_problem`, then each field normalized. */
export interface CheckedSource {
  readonly sql: string;
  /** Rows in the file. */
  readonly rows: number;
}

/**
 * The SQL of the file's checked rows, offsets counted from `first` in file
 * order (a rejected row keeps its offset unused, so the numbering never
 * depends on what was refused).
 *
 * @example
 * ```ts
 * const checked = await checkedSource(connection, schema, 'orders.parquet', 'parquet', 1_000);
 * await connection.run(`SELECT count(*) FROM (${checked.sql}) WHERE _problem IS NULL`);
 * ```
 */
export async function checkedSource(connection: DuckDBConnection, schema: EventTypeSchema, path: string, format: HistoryFormat, first: number): Promise<CheckedSource> {
  const from = READERS[format](path);
  const columns = await columnsOf(connection, from, path);
  const rows = await rowCount(connection, from, format, path);
  const input = (field: Field) => (format === 'parquet' ? parquetInput(field, columns) : format === 'csv' ? csvInput(field, columns) : jsonInput(field));
  const fields = schema.fields.map((field) => ({ field, ...fieldSql(field, input(field)) }));
  const notObject = format === 'ndjson' || format === 'json' ? [`CASE WHEN json_type(json) <> 'OBJECT' THEN 'An event must be a JSON object.' END`] : [];
  const problem = `coalesce(${[...notObject, ...fields.map((f) => f.problem), undeclaredSql(schema, format, columns)].join(', ')})`;
  // Parquet numbers its rows itself, in parallel; the text formats are numbered as read.
  const index = format === 'parquet' ? 'file_row_number' : '(row_number() OVER () - 1)';
  const values = fields.map((f) => `${f.value} AS ${sqlIdentifier(f.field.name)}`).join(', ');
  return { sql: `SELECT ${first} + ${index} AS _offset, ${index} + 1 AS _row, ${problem} AS _problem, ${values} FROM ${from}`, rows };
}

async function rowCount(connection: DuckDBConnection, from: string, format: HistoryFormat, path: string): Promise<number> {
  // A Parquet file's footer holds its row count; the text formats are counted by a read.
  const sql = format === 'parquet' ? `SELECT sum(num_rows) FROM parquet_file_metadata(${sqlStringLiteral(path)})` : `SELECT count(*) FROM ${from}`;
  const read = await connection.runAndReadAll(sql).catch((error: unknown) => {
    throw new HistoryFileError(path, `DuckDB cannot read it: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  });
  return Number(read.getRows()[0]![0] ?? 0);
}
