/**
 * A SQL answer, read from the rows of the JSON query its statement was
 * planned onto: each row an array of cells in the SELECT list's order
 * (names may repeat in SQL, so rows are not objects), with the columns'
 * names and types and the query's `meta`.
 *
 * @module
 */
import { quantileName, type MeasureValue, type QuantileValues } from '../definitions/index.ts';
import type { DimensionInput, QueryMeta, QueryResult, QueryRow } from '../serving/index.ts';
import type { ColumnSource, SqlColumn } from './sql-columns.ts';
import type { SqlPlan } from './sql-plan.ts';

/**
 * One cell: a dimension value, a time (ISO text, a date, or epoch seconds), a
 * measure's value (exact decimal text where a double would not print it),
 * or for a quantiles measure read whole an object such as `{ p50, p99 }`.
 *
 * @example
 * ```ts
 * const cells: SqlCell[] = ['DE', '2024-05-01T00:00:00.000Z', 1520.5, null];
 * ```
 */
export type SqlCell = DimensionInput | MeasureValue;

/**
 * What a SQL statement answers: its columns, its rows, and where they came from.
 *
 * @example
 * ```ts
 * const { columns, rows, meta }: SqlResult = await sql.run({ sql: 'SELECT country, sum(revenue) FROM revenue_by_country GROUP BY country' });
 * ```
 */
export interface SqlResult {
  readonly columns: readonly SqlColumn[];
  readonly rows: readonly (readonly SqlCell[])[];
  readonly meta: QueryMeta;
}

// SQL asks its queries in the `auto` number form, so no cell is a bigint.
function cell(row: QueryRow, source: ColumnSource): SqlCell {
  switch (source.kind) {
    case 'dimension': return (row[source.name] ?? null) as SqlCell;
    case 'time': {
      const time = row.time as string | undefined;
      if (time === undefined) return null;
      if (source.form === 'date') return time.slice(0, 10);
      return source.form === 'timestamp' ? time : Date.parse(time) / 1000;
    }
    case 'measure': {
      const value = (row[source.measure.name] ?? null) as SqlCell;
      if (source.quantile === undefined || value === null) return value;
      return (value as QuantileValues)[quantileName(source.quantile)] ?? null;
    }
  }
}

/** What an aggregate over no rows is in SQL: a count of distinct values 0, any other null. */
function emptyCell(source: ColumnSource): SqlCell {
  return source.kind === 'measure' && source.measure.type === 'countDistinct' ? 0 : null;
}

/**
 * The SQL answer of a planned statement, from its query's result.
 *
 * @example
 * ```ts
 * const answer = sqlAnswer(plan, await tandem.query(plan.query));
 * ```
 */
export function sqlAnswer(plan: SqlPlan, result: QueryResult): SqlResult {
  const found = plan.scalar && result.rows.length === 0 ? [plan.columns.map((c) => emptyCell(c.source))] : result.rows.map((row) => plan.columns.map((c) => cell(row, c.source)));
  const rows = found.slice(plan.offset);
  return { columns: plan.columns.map(({ name, type }) => ({ name, type })), rows, meta: result.meta };
}
