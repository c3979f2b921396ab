/**
 * A Parquet file copied without the rows a condition matches: how erasure
 * writes a file again (issue #31), shared by the embedded master dataset,
 * the cluster's archive and the frozen parts of views that keep their
 * aggregates.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlStringLiteral } from './names.ts';

/**
 * Copies the Parquet file `source` to `target` without the rows `where`
 * matches (its values bound from `params`), rows in their order; resolves
 * with the rows written.
 *
 * @example
 * ```ts
 * const { sql, params } = filterSql(predicate.where);
 * const rows = await copyWithout(connection, 'in.parquet', 'out.parquet', sql, params);
 * ```
 */
export async function copyWithout(
  connection: DuckDBConnection, source: string, target: string, where: string, params: readonly (string | boolean | number)[],
): Promise<number> {
  // `IS NOT TRUE`, not `NOT`: a row whose field is null matches no value, and `NOT (null)` would drop it too.
  const prepared = await connection.prepare(
    `COPY (SELECT * FROM read_parquet(${sqlStringLiteral(source)}) WHERE (${where}) IS NOT TRUE) TO ${sqlStringLiteral(target)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  try {
    prepared.bind([...params]);
    return Number((await prepared.runAndReadAll()).getRows()[0]?.[0] ?? 0);
  } finally {
    prepared.destroySync();
  }
}
