/**
 * SQL for a batch view, generated from the view definition: the same
 * definition the speed layer folds in JavaScript. Identifiers come from the
 * definitions only; filter values and the cutoff are bound parameters.
 *
 * @module
 */
import { bucketSql, filterSql, scaledIntegerSql, sqlIdentifier, sqlStringLiteral, type Field, type ViewSchema } from '../definitions/index.ts';

/**
 * The value a measure aggregates, in the speed layer's normalized form: the
 * scaled integer (a DECIMAL(18, s) times 10^s, exact) for numbers, epoch ms for
 * timestamps. Integer states read back into JavaScript without decimal objects.
 */
function measureInput(field: Field | undefined): string {
  if (field === undefined) return '';
  const column = sqlIdentifier(field.name);
  if (field.type === 'timestamp') return `epoch_ms(${column})`;
  if (field.type === 'number') return scaledIntegerSql(column, field.scale);
  return column;
}

/** Names of a view table's state columns: `$` never occurs in a definition's names, so they cannot clash. */
export function stateColumns(view: ViewSchema): string[] {
  return view.measures.flatMap((m) => m.monoid.sqlAggregates('x').map((_, i) => `${m.name}$${i}`));
}

export function batchViewSql(view: ViewSchema, table: string, parquetFiles: readonly string[], cutoff: number, from = 0): { sql: string; params: (string | number | boolean)[] } {
  const time = bucketSql(view.granularity, sqlIdentifier(view.eventType.time.name));
  const dims = view.dimensions.map((d) => sqlIdentifier(d.name));
  const names = stateColumns(view);
  // A sketch's hash or bucket is computed once per row, in the inner select, and its aggregates read the column.
  const rowInputs: string[] = [];
  const aggregates = view.measures.flatMap((m, i) => {
    const input = measureInput(m.field);
    const perRow = m.monoid.sqlRowInputs?.(input) ?? [];
    const columns = perRow.map((expression, j) => {
      const name = sqlIdentifier(`$r${i}_${j}`);
      rowInputs.push(`${expression} AS ${name}`);
      return name;
    });
    return m.monoid.sqlAggregates(input, perRow.length === 0 ? undefined : columns);
  });
  const filter = filterSql(view.filter);
  const files = parquetFiles.map(sqlStringLiteral).join(', ');
  const sql = `CREATE OR REPLACE TEMP TABLE ${sqlIdentifier(table)} AS
    SELECT ${[`${time} AS "time"`, ...dims, ...aggregates.map((a, i) => `${a} AS ${sqlIdentifier(names[i]!)}`)].join(', ')}
    FROM (SELECT ${['*', ...rowInputs].join(', ')} FROM read_parquet([${files}], union_by_name = true)
      WHERE _offset >= CAST(? AS BIGINT) AND _offset < CAST(? AS BIGINT) AND (${filter.sql}))
    GROUP BY ${['1', ...dims.map((_, i) => String(i + 2))].join(', ')}`;
  return { sql, params: [String(from), String(cutoff), ...filter.params] };
}
