/**
 * A history file cut into a cluster's partitions: checked by the live rules
 * in SQL (`checkedSource`, as the embedded import), each good row placed in
 * the partition a live event with its values would go to, and each
 * partition's rows written, in file order, as Parquet files of at most
 * {@link OFFSET_PER_MESSAGE} rows (one history message each, whose
 * sequence gives a row its offset), with a JSON file of their keys.
 *
 * Routing runs in JavaScript over the routing column alone, through the
 * same {@link keyPartition} as live events, so it cannot drift from it;
 * the rows themselves never leave DuckDB.
 *
 * @module
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBVector } from '@duckdb/node-api';
import { join } from 'node:path';
import { sqlIdentifier, sqlStringLiteral, type EventTypeSchema, type Field } from '../../definitions/index.ts';
import { checkedSource, HistoryImportUnsupportedError, rejections, type HistoryFormat } from '../../master/index.ts';
import { OFFSET_PER_MESSAGE } from './partition-archive.ts';
import { keyPartition } from './partition-router.ts';
import { HistoryRowsMisplacedError } from './errors.ts';

/** One staged chunk: its rows' Parquet file and, for a keyed type, its keys' JSON file. */
export interface StagedChunk {
  readonly partition: number;
  readonly chunk: number;
  readonly rows: number;
  readonly file: string;
  readonly keysFile?: string;
}

/** What staging a file found. */
export interface StagedFile {
  /** Rows in the file. */
  readonly rows: number;
  readonly rejected: number;
  readonly firstRejections: readonly { readonly row: number; readonly error: string }[];
  readonly chunks: readonly StagedChunk[];
}

export interface StageJob {
  readonly connection: DuckDBConnection;
  /** The connection's instance: the routes are appended through a connection of their own. */
  readonly instance: DuckDBInstance;
  readonly schema: EventTypeSchema;
  readonly path: string;
  readonly format: HistoryFormat;
  readonly partitions: number;
  /** `cluster.partitionBy`'s field for the type, if any. */
  readonly partitionBy?: string;
  /** Where the chunks' files go. */
  readonly dir: string;
  /** Rows per chunk at most; {@link OFFSET_PER_MESSAGE} unless a test says less. */
  readonly chunkRows?: number;
}

/** The field that places the type's events, as the live router reads it; undefined for neither (spread). */
export function routingField(schema: EventTypeSchema, partitionBy: string | undefined): Field | undefined {
  if (partitionBy === undefined) return schema.idempotencyKey;
  const field = schema.fieldsByName.get(partitionBy);
  // The live router places by the value's text as JavaScript writes it: only a string reads the same from Parquet.
  if (field === undefined || field.type !== 'string') {
    throw new HistoryImportUnsupportedError(`A cluster cannot import history into event type '${schema.name}': it is placed by field '${partitionBy}' (cluster.partitionBy), which is not a string; ingest it through the API instead.`);
  }
  return field;
}

/**
 * Checks, routes and writes one file's rows; see the module's description.
 *
 * @example
 * ```ts
 * const staged = await stageHistoryFile({ instance, connection, schema, path: 'orders.parquet', format: 'parquet', partitions: 3, dir: '/tmp/stage' });
 * ```
 */
export async function stageHistoryFile(job: StageJob): Promise<StagedFile> {
  const { connection, schema, partitions } = job;
  const field = routingField(schema, job.partitionBy);
  const checked = await checkedSource(connection, schema, job.path, job.format, 0);
  await connection.run(`CREATE OR REPLACE TEMP TABLE history_good AS SELECT * EXCLUDE (_offset, _problem) FROM (${checked.sql}) WHERE _problem IS NULL`);
  const good = Number((await connection.runAndReadAll('SELECT count(*) FROM history_good')).getRows()[0]![0]);
  const { rejected, firstRejections } = good < checked.rows ? await rejections(connection, checked.sql) : { rejected: 0, firstRejections: [] };
  await route(job.instance, connection, schema.name, field, partitions);
  const size = job.chunkRows ?? OFFSET_PER_MESSAGE;
  // Numbering each partition's rows sorts them all, which took about as long as routing them: needed only when a partition has more than one chunk.
  const largest = Number((await connection.runAndReadAll('SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM history_routes GROUP BY p)')).getRows()[0]![0]);
  const chunkOf = largest <= size ? '0' : `(row_number() OVER (PARTITION BY r.p ORDER BY g._row) - 1) // ${size}`;
  await connection.run(`CREATE OR REPLACE TEMP TABLE history_placed AS SELECT g.*, r.p AS _p, ${chunkOf} AS _chunk
    FROM history_good g JOIN history_routes r USING (_row)`);
  await connection.run('DROP TABLE history_good');
  const groups = (await connection.runAndReadAll('SELECT _p, _chunk, count(*) FROM history_placed GROUP BY ALL ORDER BY ALL')).getRows();
  checkAllPlaced(job.path, groups, good);
  const chunks: StagedChunk[] = [];
  // A chunk's rows keep the file's order: the duplicate rule keeps the first of a repeated key, as the embedded import does.
  await connection.run('SET preserve_insertion_order = true');
  const columns = schema.fields.map((f) => sqlIdentifier(f.name)).join(', ');
  for (const [p, c, n] of groups) {
    const [partition, chunk, rows] = [Number(p), Number(c), Number(n)];
    const file = join(job.dir, `p${partition}-${chunk}.parquet`);
    await connection.run(`COPY (SELECT ${columns} FROM history_placed WHERE _p = ${partition} AND _chunk = ${chunk} ORDER BY _row)
      TO ${sqlStringLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
    const keysFile = schema.idempotencyKey === undefined ? undefined : join(job.dir, `p${partition}-${chunk}.keys.json`);
    if (keysFile !== undefined) {
      await connection.run(`COPY (SELECT coalesce(list(${sqlIdentifier(schema.idempotencyKey!.name)} ORDER BY file_row_number), []) AS keys FROM read_parquet(${sqlStringLiteral(file)}, file_row_number = true))
        TO ${sqlStringLiteral(keysFile)} (FORMAT json)`);
    }
    chunks.push({ partition, chunk, rows, file, ...(keysFile === undefined ? {} : { keysFile }) });
  }
  await connection.run('DROP TABLE history_placed');
  await connection.run('DROP TABLE history_routes');
  return { rows: checked.rows, rejected, firstRejections, chunks };
}

/**
 * `history_routes(_row, p)`: each good row's partition. By the routing
 * field through {@link keyPartition} (a missing value as '', as live); a
 * type with neither key nor partition field spreads its rows by row number.
 */
async function route(instance: DuckDBInstance, connection: DuckDBConnection, eventType: string, field: Field | undefined, partitions: number): Promise<void> {
  if (field === undefined) {
    await connection.run(`CREATE OR REPLACE TABLE history_routes AS SELECT _row, CAST(_row % ${partitions} AS INTEGER) AS p FROM history_good`);
    return;
  }
  // Appended through a connection of its own: an appender flushing (every 204,800 rows) on the connection a result
  // streams from ends that result early, and a 2M-row file was cut to its first 204,800 rows that way.
  await connection.run('CREATE OR REPLACE TABLE history_routes (_row BIGINT, p INTEGER)');
  const writer = await instance.connect();
  const appender = await writer.createAppender('history_routes');
  try {
    const result = await connection.stream(`SELECT _row, ${sqlIdentifier(field.name)} FROM history_good`);
    for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const rows = chunk.getColumnVector(0) as DuckDBVector<bigint>;
      const keys = chunk.getColumnVector(1) as DuckDBVector<string | null>;
      for (let i = 0; i < chunk.rowCount; i++) {
        appender.appendBigInt(rows.getItem(i)!);
        appender.appendInteger(keyPartition(eventType, keys.getItem(i) ?? '', partitions));
        appender.endRow();
      }
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
    writer.closeSync();
  }
}

/**
 * Checks that the chunks `groups` (partition, chunk, rows) of file `path`
 * hold its `good` rows, each once: a row lost there would be a row silently
 * not imported, so nothing is published.
 *
 * @throws {HistoryRowsMisplacedError} when they hold another number of rows.
 * @example
 * ```ts
 * checkAllPlaced('old.csv', [[0, 0, 64n], [1, 0, 36n]], 100);
 * ```
 */
export function checkAllPlaced(path: string, groups: readonly (readonly unknown[])[], good: number): void {
  const placed = groups.reduce<number>((n, group) => n + Number(group[2]), 0);
  if (placed !== good) throw new HistoryRowsMisplacedError(path, placed, good);
}
