/**
 * How the archivist writes a history message's rows into the range that
 * holds it: the staged object's rows (checked against the message's
 * SHA-256) that the duplicate rule kept, each at offset
 * `seq * OFFSET_PER_MESSAGE + row`, beside the range's live events of the
 * same type in one Parquet object. The rows go from Parquet to Parquet in
 * DuckDB; none passes through JavaScript.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlIdentifier, sqlStringLiteral, type EventTypeSchema } from '../../definitions/index.ts';
import type { Verdict } from './first-occurrence.ts';
import { fetchHistoryObject } from './history-objects.ts';
import type { NamedBlobStore } from './object-blob-store.ts';

/** A history message's verdict, as the archivist keeps it until the range is written. */
export type HistoryVerdict = Extract<Verdict, { kind: 'history' }>;

/** The SELECT of one history message's kept rows, in the master dataset's columns with their offsets. */
function keptRowsSql(schema: EventTypeSchema, file: string, base: number, droppedFile: string | undefined): string {
  const columns = schema.fields.map((f) => sqlIdentifier(f.name)).join(', ');
  const where = droppedFile === undefined ? '' : ` WHERE file_row_number NOT IN (SELECT r FROM read_csv(${sqlStringLiteral(droppedFile)}, header = true, columns = {'r': 'BIGINT'}))`;
  return `SELECT CAST(${base} + file_row_number AS BIGINT) AS _offset, ${columns} FROM read_parquet(${sqlStringLiteral(file)}, file_row_number = true)${where}`;
}

/**
 * Writes `target`: the rows of `live` (a Parquet file of the range's live
 * events of this type, or undefined) and the kept rows of `messages` (this
 * type's history messages in the range), fetched into `scratch`. Resolves
 * with the history rows written.
 *
 * @example
 * ```ts
 * const rows = await writeWithHistory(connection, blobs, schema, partition, offsetPerMessage, live, history, scratch, parquet);
 * ```
 */
export async function writeWithHistory(
  connection: DuckDBConnection, blobs: NamedBlobStore, schema: EventTypeSchema, partition: number, offsetPerMessage: number,
  live: string | undefined, messages: readonly HistoryVerdict[], scratch: string, target: string,
): Promise<number> {
  const parts: string[] = live === undefined ? [] : [`SELECT * FROM read_parquet(${sqlStringLiteral(live)})`];
  let rows = 0;
  for (const [i, m] of messages.entries()) {
    if (m.dropped.length === m.body.rows) continue;
    const file = join(scratch, `history-${i}.parquet`);
    await fetchHistoryObject(blobs, m.body.object, m.body.sha256, file, { partition, seq: m.seq });
    let dropped: string | undefined;
    if (m.dropped.length > 0) {
      dropped = join(scratch, `history-${i}.dropped.csv`);
      await writeFile(dropped, `r\n${m.dropped.join('\n')}\n`);
    }
    parts.push(keptRowsSql(schema, file, m.seq * offsetPerMessage, dropped));
    rows += m.body.rows - m.dropped.length;
  }
  try {
    await connection.run(`COPY (${parts.join(' UNION ALL BY NAME ')}) TO ${sqlStringLiteral(target)} (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    for (const i of messages.keys()) {
      await rm(join(scratch, `history-${i}.parquet`), { force: true });
      await rm(join(scratch, `history-${i}.dropped.csv`), { force: true });
    }
  }
  return rows;
}

/** What a history message kept, as the archivist records it for the import: `object` names it, the rest is the record. */
export interface HistoryOutcome {
  readonly object: string;
  readonly seq: number;
  readonly rows: number;
  readonly kept: number;
  readonly duplicates: number;
}

/** The outcome object of a staged object, read by the import once a version archived it: `….outcome.json`. */
export function outcomeName(object: string): string {
  return object.replace(/\.parquet$/, '.outcome.json');
}
