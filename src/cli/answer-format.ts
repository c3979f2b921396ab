/**
 * The ways `tandem query` and `tandem sql` print an answer: an aligned
 * table for people, and JSON, CSV, TSV or NDJSON for scripts and
 * spreadsheets. Values are printed as the server sent them: a count or sum
 * past 2^53 arrives as text and stays exact in every format.
 *
 * @module
 */
import type { QueryResult } from '../serving/query.ts';
import { formatCsv } from './print-csv.ts';
import { columnsOf, formatGrid } from './print-table.ts';
import { formatTsv } from './print-tsv.ts';

/** Every value of `--format`, the default first. */
export const ANSWER_FORMATS = ['table', 'json', 'csv', 'tsv', 'ndjson'] as const;

export type AnswerFormat = (typeof ANSWER_FORMATS)[number];

/** An answer's rows as cells under column names (which may repeat, as in SQL), and the whole answer `json` prints. */
export interface AnswerCells {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
  readonly whole: unknown;
}

/**
 * An answer's rows in `format`, without a final line break; empty when CSV,
 * TSV or NDJSON has no column to print (a query answer with no row knows
 * none; a SQL answer knows its columns, and prints their header). The
 * table's note on where the answer came from is not part of it: `json`
 * holds the whole answer, meta included, and the others only rows. An
 * NDJSON line is one object per row, keyed by column name; a name that
 * repeats gets `_2`, `_3`, … so no column is lost.
 *
 * @example
 * ```ts
 * formatCells({ columns: ['country', 'revenue'], rows: [['DE', '9007199254740993']], whole: answer }, 'csv');
 * // 'country,revenue\nDE,9007199254740993'
 * ```
 */
export function formatCells(answer: AnswerCells, format: AnswerFormat): string {
  const { columns, rows } = answer;
  switch (format) {
    case 'table': return formatGrid(columns, rows);
    case 'json': return JSON.stringify(answer.whole, null, 2);
    case 'ndjson': return ndjsonLines(columns, rows);
    case 'csv': return columns.length === 0 ? '' : formatCsv(columns, rows);
    case 'tsv': return columns.length === 0 ? '' : formatTsv(columns, rows);
  }
}

/**
 * A query answer (rows as objects) in `format`: its columns in first-seen
 * order, as {@link formatCells} prints them.
 *
 * @example
 * ```ts
 * formatAnswer({ rows: [{ country: 'DE', revenue: '9007199254740993' }], meta }, 'csv');
 * // 'country,revenue\nDE,9007199254740993'
 * ```
 */
export function formatAnswer(result: QueryResult, format: AnswerFormat): string {
  const columns = columnsOf(result.rows);
  return formatCells({ columns, rows: result.rows.map((row) => columns.map((c) => row[c])), whole: result }, format);
}

/** One JSON object per row; a cell a row lacks (undefined) is left out of its object, as a query row lacks it. */
function ndjsonLines(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const keys = distinctNames(columns);
  return rows.map((row) => JSON.stringify(Object.fromEntries(keys.map((key, i) => [key, row[i]])))).join('\n');
}

/** `columns` with each repeat of a name renamed `name_2`, `name_3`, … (skipping names taken), so an object keeps every column. */
export function distinctNames(columns: readonly string[]): string[] {
  const taken = new Set(columns);
  const seen = new Set<string>();
  return columns.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let n = 2;
    while (taken.has(`${name}_${n}`)) n++;
    const renamed = `${name}_${n}`;
    taken.add(renamed);
    return renamed;
  });
}
