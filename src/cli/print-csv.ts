/**
 * Renders rows as CSV, quoted as RFC 4180 says, with lines ending in LF as
 * `psql --csv` ends them: a header of column names, then one line per row,
 * without a final line break (the caller prints one). A null is an empty
 * cell, an object (a quantiles measure) its JSON; a cell holding a comma, a
 * quote, a line break or edge spaces is quoted, its quotes doubled.
 *
 * @example
 * ```ts
 * formatCsv(['country', 'revenue'], [['DE', 12.5], ['Côte "d"', null]]);
 * // 'country,revenue\nDE,12.5\n"Côte ""d""",'
 * ```
 */
export function formatCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [columns, ...rows].map((row) => columns.map((_, i) => csvCell(row[i])).join(',')).join('\n');
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
