import type { DuckDBConnection } from '@duckdb/node-api';
import type { BatchSource } from '../batch/index.ts';
import { sqlIdentifier, sqlStringLiteral, type Catalog } from '../definitions/index.ts';
import type { EventLog } from '../log/index.ts';

/**
 * Loads the idempotency keys already in the Parquet part of the master
 * dataset, so duplicates stay caught across restarts. With a window, only the
 * latest keys are read, oldest first, as the index would have added them.
 */
export async function loadIdempotencyKeys(
  connection: DuckDBConnection,
  catalog: Catalog,
  sources: ReadonlyMap<string, BatchSource>,
  keys: EventLog['keys'],
): Promise<void> {
  for (const eventType of catalog.eventTypes.values()) {
    const key = eventType.idempotencyKey;
    const source = sources.get(eventType.name);
    if (key === undefined || source === undefined || source.files.length === 0) continue;
    const files = source.files.map(sqlStringLiteral).join(', ');
    const column = sqlIdentifier(key.name);
    const parquet = `read_parquet([${files}], union_by_name = true)`;
    // The window is a whole number from the validated definitions, never request text.
    const window = keys.windowOf(eventType.name);
    const sql = window === undefined
      ? `SELECT ${column} FROM ${parquet}`
      : `SELECT ${column} FROM (SELECT ${column}, _offset FROM ${parquet} ORDER BY _offset DESC LIMIT ${Math.trunc(window)}) ORDER BY _offset`;
    const reader = await connection.runAndReadAll(sql);
    for (const [value] of reader.getRows()) keys.add(eventType.name, value as string);
  }
}
