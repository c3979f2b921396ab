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

/** The master dataset's files a view reads: one list, or (a cluster node's part) one list per log partition. */
export type ViewInput = readonly string[] | ReadonlyMap<number, readonly string[]>;

/** A partition's column in a view computed per partition: `$` never occurs in a definition's names. */
export const PARTITION_COLUMN = '$partition';

/** The rows the view reads: per partition, its files with the partition's number beside each row. */
function inputSql(input: ViewInput): string {
  const read = (files: readonly string[]) => `read_parquet([${files.map(sqlStringLiteral).join(', ')}], union_by_name = true)`;
  if (!(input instanceof Map)) return read(input as readonly string[]);
  // BY NAME: partitions' files may hold fields added at different times.
  return `(${[...input].map(([p, files]) => `SELECT CAST(${p} AS INTEGER) AS ${sqlIdentifier(PARTITION_COLUMN)}, * FROM ${read(files)}`).join(' UNION ALL BY NAME ')})`;
}

/**
 * The SQL that computes `view` into temporary table `table` from `input`
 * over offsets `[from, cutoff)`; with one list of files per partition, the
 * rows are grouped by partition too, in column {@link PARTITION_COLUMN}, so
 * that one scan gives every partition's file.
 */
export function batchViewSql(view: ViewSchema, table: string, input: ViewInput, cutoff: number, from = 0): { sql: string; params: (string | number | boolean)[] } {
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
  const keys = [...dims, ...(input instanceof Map ? [sqlIdentifier(PARTITION_COLUMN)] : [])];
  const sql = `CREATE OR REPLACE TEMP TABLE ${sqlIdentifier(table)} AS
    SELECT ${[`${time} AS "time"`, ...keys, ...aggregates.map((a, i) => `${a} AS ${sqlIdentifier(names[i]!)}`)].join(', ')}
    FROM (SELECT ${['*', ...rowInputs].join(', ')} FROM ${inputSql(input)}
      WHERE _offset >= CAST(? AS BIGINT) AND _offset < CAST(? AS BIGINT) AND (${filter.sql}))
    GROUP BY ${['1', ...keys.map((_, i) => String(i + 2))].join(', ')}`;
  return { sql, params: [String(from), String(cutoff), ...filter.params] };
}
