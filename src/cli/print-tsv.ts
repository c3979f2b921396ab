/**
 * Renders rows as tab-separated values for `cut`, `awk` and spreadsheets:
 * a header of column names, then one line per row, lines ending in LF and
 * no final line break (the caller prints one). A tab, a line break or a
 * backslash in a cell is written as `\t`, `\n`, `\r` or `\\`, as
 * PostgreSQL's text format and ClickHouse's TabSeparated write them, so
 * every row stays one line and every cell one field. A null is an empty
 * cell, an object (a quantiles measure) its JSON.
 *
 * @example
 * ```ts
 * formatTsv(['city', 'note'], [['Köln', 'a\tb'], ['Paris', null]]);
 * // 'city\tnote\nKöln\ta\\tb\nParis\t'
 * ```
 */
export function formatTsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [columns, ...rows].map((row) => columns.map((_, i) => tsvCell(row[i])).join('\t')).join('\n');
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function tsvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!);
}
