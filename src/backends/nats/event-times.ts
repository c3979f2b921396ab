/**
 * The latest event time in an archived Parquet object, as retention asks:
 * read once when a range is archived and recorded in its file entry
 * (`shared-manifest.ts`), and read from the object itself for one archived
 * before that was recorded.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdentifier, sqlStringLiteral, type Catalog } from '../../definitions/index.ts';

/** The latest time of `eventType`'s events in the Parquet file `path` (ms since the epoch); null when it holds none, or the type is unknown. */
export async function maxEventTime(connection: DuckDBConnection, catalog: Catalog, eventType: string, path: string): Promise<number | null> {
  const time = catalog.eventTypes.get(eventType)?.time.name;
  if (time === undefined) return null;
  const read = await connection.runAndReadAll(`SELECT epoch_ms(max(${sqlIdentifier(time)})) FROM read_parquet(${sqlStringLiteral(path)})`);
  const value = read.getRows()[0]?.[0];
  return value === null || value === undefined ? null : Number(value);
}
