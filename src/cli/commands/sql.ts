/**
 * `tandem sql "SELECT …"`: one SQL statement over a running server's views,
 * printed as a table, or as JSON, CSV, TSV or NDJSON for scripts, by the
 * formatter `tandem query` prints with. Like the other client
 * commands it loads nothing but the HTTP client.
 *
 * @module
 */
import type { SqlResult } from '../../sql/index.ts';
import { ApiClient } from '../api-client.ts';
import { formatCells, type AnswerFormat } from '../answer-format.ts';
import { printMeta, type ServerOptions } from './server-commands.ts';

export interface SqlOptions extends ServerOptions {
  format: AnswerFormat;
  /** The values of $1, $2, …, as typed: JSON (a number, true, null, "text"), else the text itself. */
  param?: string[];
}

/** A parameter as typed on the command line: JSON when it parses as a number, boolean, null or quoted text, else the text itself. */
export function parameterValue(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return value === null || ['number', 'boolean', 'string'].includes(typeof value) ? value : text;
  } catch {
    return text;
  }
}

export async function sql(statement: string, options: SqlOptions): Promise<void> {
  const params = (options.param ?? []).map(parameterValue);
  const result = await new ApiClient(options.url, options.apiKey).postJson<SqlResult>('/v1/sql', { sql: statement, params });
  const printed = formatCells({ columns: result.columns.map((c) => c.name), rows: result.rows, whole: result }, options.format);
  if (printed !== '') console.log(printed);
  // Only the table, read by people, gets the note; the other formats are read by programs.
  if (options.format === 'table') printMeta(result.rows.length, result.meta);
}
