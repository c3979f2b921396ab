/** Renders rows as an aligned text table: numbers right-aligned, the columns in first-seen order. */
export function formatTable(rows: readonly Readonly<Record<string, unknown>>[]): string {
  const columns = columnsOf(rows);
  return formatGrid(columns, rows.map((row) => columns.map((c) => row[c])));
}

/** The column names of rows, in first-seen order: a row may lack a column another has. */
export function columnsOf(rows: readonly Readonly<Record<string, unknown>>[]): string[] {
  return [...new Set(rows.flatMap((row) => Object.keys(row)))];
}

/** Renders rows of cells under column names (which may repeat, as in SQL) as an aligned text table: numbers right-aligned. */
export function formatGrid(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return '(no rows)';
  const cells = rows.map((row) => columns.map((_, i) => cell(row[i])));
  const numeric = columns.map((_, i) => rows.every((row) => typeof row[i] !== 'string' || /^-?\d+(\.\d+)?$/.test(row[i] as string)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
