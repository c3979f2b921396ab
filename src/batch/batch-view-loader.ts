import type { DuckDBConnection } from '@duckdb/node-api';
import { AggregateTable, sqlIdentifier, type States, type ViewSchema } from '../definitions/index.ts';
import { viewColumns } from './batch-sql.ts';
import { toDimensionValue, toSqlScalar } from './duckdb-values.ts';

/**
 * Reads a batch view (a temporary table or a Parquet file, given as a SQL
 * source) into an in-memory table, turning each row's state columns back into
 * the measures' monoid states.
 */
export async function loadViewTable(connection: DuckDBConnection, view: ViewSchema, source: string): Promise<AggregateTable> {
  const columns = viewColumns(view).map(sqlIdentifier).join(', ');
  const reader = await connection.runAndReadAll(`SELECT ${columns} FROM ${source}`);
  const table = new AggregateTable(view);
  const dimCount = view.dimensions.length;
  const widths = view.measures.map((m) => m.monoid.sqlAggregates('x').length);
  for (const row of reader.getRows()) {
    const dims = row.slice(1, 1 + dimCount).map(toDimensionValue);
    const states: States = [];
    let at = 1 + dimCount;
    view.measures.forEach((m, i) => {
      states.push(m.monoid.fromSql(row.slice(at, at + widths[i]!).map(toSqlScalar)));
      at += widths[i]!;
    });
    table.mergeStates(dims, Number(row[0]), states);
  }
  return table;
}
