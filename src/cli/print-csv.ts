/**
 * Renders rows as CSV (RFC 4180): a header of column names, then one line
 * per row. A null is an empty cell, an object (a quantiles measure) its
 * JSON; a cell holding a comma, a quote, a line break or edge spaces is
 * quoted, its quotes doubled.
 *
 * @example
 * ```ts
 * formatCsv(['country', 'revenue'], [['DE', 12.5], ['Côte "d"', null]]);
 * // 'country,revenue\r\nDE,12.5\r\n"Côte ""d""",\r\n'
 * ```
 */
export function formatCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [columns, ...rows].map((row) => columns.map((_, i) => csvCell(row[i])).join(',')).join('\r\n') + '\r\n';
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
