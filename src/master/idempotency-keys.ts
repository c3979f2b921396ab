import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { sqlIdentifier, sqlStringLiteral, type Catalog, type EventTypeSchema } from '../definitions/index.ts';
import type { IdempotencyIndex } from '../log/index.ts';
import { CorruptMasterFileError } from './errors.ts';
import type { MasterSource } from './master-layout.ts';

/**
 * Loads the idempotency keys already in the Parquet part of the master
 * dataset, so duplicates stay caught across restarts. With a window, only the
 * latest keys are read, oldest first, as the index would have added them.
 *
 * A file that cannot be read is reported to `onDamaged` and skipped, so the
 * engine still starts and serves its published views; the next batch run
 * checks every file and refuses to run until it is restored.
 */
export async function loadIdempotencyKeys(
  connection: DuckDBConnection,
  catalog: Catalog,
  sources: ReadonlyMap<string, MasterSource>,
  keys: IdempotencyIndex,
  onDamaged: (error: CorruptMasterFileError) => void,
): Promise<void> {
  for (const eventType of catalog.eventTypes.values()) {
    const source = sources.get(eventType.name);
    if (eventType.idempotencyKey === undefined || source === undefined || source.files.length === 0) continue;
    const readable = await readableFiles(connection, source.files, onDamaged);
    if (readable.length === 0) continue;
    await addKeys(connection, keysSql(eventType, readable, keys.windowOf(eventType.name)), (key) => keys.add(eventType.name, key));
  }
}

/**
 * Passes each key the query selects to `add`, a chunk at a time, read
 * straight off DuckDB's string vector: turning the rows into JavaScript
 * first (one array per row) made a reopen spend seconds per million keys
 * converting and collecting them. The result is materialized, not
 * streamed: a cluster node runs other statements on the same connection,
 * and a streamed result read between them can end early, which lost keys.
 */
async function addKeys(connection: DuckDBConnection, sql: string, add: (key: string) => void): Promise<void> {
  const result = await connection.run(sql);
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const keys = chunk.getColumnVector(0) as DuckDBVector<string | null>;
    const rows = chunk.rowCount;
    for (let row = 0; row < rows; row++) {
      const key = keys.getItem(row);
      if (key !== null) add(key);
    }
  }
}

function keysSql(eventType: EventTypeSchema, files: readonly string[], window: number | undefined): string {
  const column = sqlIdentifier(eventType.idempotencyKey!.name);
  const parquet = `read_parquet([${files.map(sqlStringLiteral).join(', ')}], union_by_name = true)`;
  // The window is a whole number from the validated definitions, never request text.
  return window === undefined
    ? `SELECT ${column} FROM ${parquet}`
    : `SELECT ${column} FROM (SELECT ${column}, _offset FROM ${parquet} ORDER BY _offset DESC LIMIT ${Math.trunc(window)}) ORDER BY _offset`;
}

/** The files DuckDB can open; each one that it cannot is reported, by name. */
async function readableFiles(connection: DuckDBConnection, files: readonly string[], onDamaged: (error: CorruptMasterFileError) => void): Promise<string[]> {
  const readable: string[] = [];
  for (const file of files) {
    try {
      await connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlStringLiteral(file)})`);
      readable.push(file);
    } catch (error) {
      onDamaged(new CorruptMasterFileError(file, existsSync(file) ? 'DuckDB cannot read it as Parquet' : 'it is missing', { cause: error }));
    }
  }
  return readable;
}
