/**
 * The ways `tandem query` prints an answer: an aligned table for people,
 * and JSON, CSV, TSV or NDJSON for scripts and spreadsheets. Values are
 * printed as the server sent them: a count or sum past 2^53 arrives as
 * text and stays exact in every format.
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

/**
 * An answer's rows in `format`, without a final line break; empty when CSV,
 * TSV or NDJSON has no row to print (with no row, no column is known
 * either). The table's note on where the answer came from is not part of it:
 * `json` holds the whole answer, meta included, and the others only rows.
 *
 * @example
 * ```ts
 * formatAnswer({ rows: [{ country: 'DE', revenue: '9007199254740993' }], meta }, 'csv');
 * // 'country,revenue\nDE,9007199254740993'
 * ```
 */
export function formatAnswer(result: QueryResult, format: AnswerFormat): string {
  const rows = result.rows;
  const columns = columnsOf(rows);
  const cells = () => rows.map((row) => columns.map((c) => row[c]));
  switch (format) {
    case 'table': return formatGrid(columns, cells());
    case 'json': return JSON.stringify(result, null, 2);
    case 'ndjson': return rows.map((row) => JSON.stringify(row)).join('\n');
    case 'csv': return rows.length === 0 ? '' : formatCsv(columns, cells());
    case 'tsv': return rows.length === 0 ? '' : formatTsv(columns, cells());
  }
}
