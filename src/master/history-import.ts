/**
 * One history file into the master dataset, on an import's own DuckDB
 * instance: claim offsets for its rows in the log, check and normalize every
 * row in SQL and write the good ones to one Parquet file, drop those whose
 * idempotency key is stored already, then commit with the import's record.
 * No row passes through JavaScript except a key, and DuckDB spills to its
 * temporary directory past its memory limit, so memory does not grow with
 * the file.
 *
 * The order makes a crash harmless: the claim (a log frame with no rows)
 * comes first, so offsets never need rewriting; the record comes last, so
 * until it is durable the range holds no events, and an import started
 * again claims a new range.
 *
 * @module
 */
import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { sqlIdentifier, sqlStringLiteral, type EventTypeSchema } from '../definitions/index.ts';
import { KeySet, type IdempotencyIndex } from '../log/index.ts';
import { fileSha256 } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { historyFilePath, writeHistoryRecord } from './history-record.ts';
import { checkedSource, type HistoryFormat } from './history-source.ts';
import type { HistorySource } from './master-layout.ts';

/** What one file's import did. */
export interface HistoryFileOutcome {
  readonly file: string;
  /** Rows in the file. */
  readonly rows: number;
  readonly imported: number;
  /** Rows dropped because their idempotency key was stored already, or came earlier in the file. */
  readonly duplicates: number;
  readonly rejected: number;
  /** The first rejected rows, numbered from 1 in the file, with the live validator's sentence. */
  readonly firstRejections: readonly { readonly row: number; readonly error: string }[];
  /** The offsets claimed for the file's rows, `[first, end)`. */
  readonly first: number;
  readonly end: number;
}

export interface HistoryFileJob {
  readonly connection: DuckDBConnection;
  readonly masterDir: string;
  readonly schema: EventTypeSchema;
  readonly path: string;
  readonly format: HistoryFormat;
  /** Claims `count` offsets in the log and resolves with the first. */
  readonly reserve: (count: number) => Promise<number>;
  /** The stored idempotency keys; the imported ones join them once committed. */
  readonly keys: IdempotencyIndex;
  /** Told of rows done in this file, now and then. */
  readonly onRows?: (rows: number) => void;
}

const SHOWN_REJECTIONS = 10;
const PROGRESS_MS = 200;

/**
 * Imports one file; resolves once its rows are committed to the master
 * dataset (not yet in a published batch version).
 *
 * @example
 * ```ts
 * const outcome = await importHistoryFile({ connection, masterDir, schema, path: 'old.parquet', format: 'parquet', reserve, keys });
 * console.log(`${outcome.imported} imported, ${outcome.rejected} rejected`);
 * ```
 */
export async function importHistoryFile(job: HistoryFileJob): Promise<HistoryFileOutcome> {
  const checked = await checkedSource(job.connection, job.schema, job.path, job.format, 0);
  const empty = { file: job.path, rows: 0, imported: 0, duplicates: 0, rejected: 0, firstRejections: [] };
  if (checked.rows === 0) return { ...empty, first: 0, end: 0 };
  // Taken before the read: a file changed while it was imported is not recognized as imported.
  const origin = await sourceOf(job.path);
  const first = await job.reserve(checked.rows);
  const end = first + checked.rows;
  const source = await checkedSource(job.connection, job.schema, job.path, job.format, first);
  const relative = historyFilePath(job.schema.name, first, end);
  const target = join(job.masterDir, relative);
  await mkdir(dirname(target), { recursive: true });
  // Rows may land in any order: every reader filters or sorts on _offset, and the keys are read back sorted by it. Keeping
  // the file's order made the COPY of a keyed 5M-row file 3 to 5 times slower, more than the sort of its keys costs.
  await job.connection.run('SET preserve_insertion_order = false');
  try {
    let written = await withProgress(job, () => job.connection.run(copySql(job.schema, source.sql, `${target}.tmp`)).then((r) => r.rowsChanged));
    const { rejected, firstRejections } = written < checked.rows ? await rejections(job.connection, source.sql) : { rejected: 0, firstRejections: [] };
    const { repeated, added } = await newKeys(job, `${target}.tmp`, written);
    if (repeated.length > 0) written = await dropOffsets(job, `${target}.tmp`, repeated, repeated.length === written);
    await rename(`${target}.tmp`, target);
    await syncDirectory(dirname(target));
    await writeHistoryRecord(job.masterDir, { eventType: job.schema.name, first, end, files: [{ path: relative, rows: written, sha256: await fileSha256(target) }], source: origin });
    if (added !== undefined) job.keys.addAll(job.schema.name, added);
    return { ...empty, rows: checked.rows, imported: written, duplicates: checked.rows - rejected - written, rejected, firstRejections, first, end };
  } catch (error) {
    // Not committed: the range stays claimed and holds no events.
    await rm(`${target}.tmp`, { force: true });
    await rm(target, { force: true });
    throw error;
  }
}

/**
 * The good rows into Parquet. Keys repeated within the file are found
 * afterwards, with the stored ones ({@link newKeys}): a GROUP BY
 * over every key ran out of memory at a 128 MB limit where this did not.
 */
function copySql(schema: EventTypeSchema, checked: string, target: string): string {
  const columns = ['_offset', ...schema.fields.map((f) => sqlIdentifier(f.name))].join(', ');
  // Parquet V2 pages with snappy: the offsets delta-encode to almost nothing, and at 20M rows this wrote 1.3x faster than V1 with zstd, about as small.
  return `COPY (SELECT ${columns} FROM (${checked}) WHERE _problem IS NULL) TO ${sqlStringLiteral(target)} (FORMAT parquet, PARQUET_VERSION V2)`;
}

/** Runs `work`, telling the job of DuckDB's progress through the statement meanwhile. */
async function withProgress<T>(job: HistoryFileJob, work: () => Promise<T>): Promise<T> {
  if (job.onRows === undefined) return work();
  const timer = setInterval(() => {
    const progress = job.connection.progress;
    if (progress.percentage >= 0) job.onRows?.(Number(progress.rows_processed));
  }, PROGRESS_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * How many rows of a checked source were refused, and the first few with the
 * live validator's sentence.
 *
 * @example
 * ```ts
 * const { rejected, firstRejections } = await rejections(connection, checked.sql);
 * ```
 */
export async function rejections(connection: DuckDBConnection, checked: string): Promise<{ rejected: number; firstRejections: { row: number; error: string }[] }> {
  const count = await connection.runAndReadAll(`SELECT count(*) FROM (${checked}) WHERE _problem IS NOT NULL`);
  const rejected = Number(count.getRows()[0]![0]);
  if (rejected === 0) return { rejected, firstRejections: [] };
  const shown = await connection.runAndReadAll(`SELECT _row, _problem FROM (${checked}) WHERE _problem IS NOT NULL ORDER BY _row LIMIT ${SHOWN_REJECTIONS}`);
  return { rejected, firstRejections: shown.getRows().map(([row, error]) => ({ row: Number(row), error: String(error) })) };
}

/** Streams one string column and an offset, a chunk at a time, off DuckDB's vectors. */
async function eachKey(connection: DuckDBConnection, sql: string, visit: (offset: number, key: string) => void): Promise<void> {
  const result = await connection.stream(sql);
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const offsets = chunk.getColumnVector(0) as DuckDBVector<bigint>;
    const keys = chunk.getColumnVector(1) as DuckDBVector<string | null>;
    // rowCount is a call into DuckDB each time it is read.
    const rows = chunk.rowCount;
    for (let row = 0; row < rows; row++) {
      const key = keys.getItem(row);
      if (key !== null) visit(Number(offsets.getItem(row)), key);
    }
  }
}

/** A file's keys in offset order: the first of a repeated key is the one kept, and a window keeps the latest. */
function keySql(schema: EventTypeSchema, file: string): string {
  return `SELECT _offset, ${sqlIdentifier(schema.idempotencyKey!.name)} FROM read_parquet(${sqlStringLiteral(file)}) ORDER BY _offset`;
}

/**
 * The offsets of staged rows to drop, and the keys of the rows kept. Dropped
 * are those whose key is stored already (a second load of a file finds all
 * of them) and those repeating a key that came earlier in the file, which
 * the live path would also refuse. The file's keys are read once, in offset
 * order, into an off-heap set of their own, which joins the index whole
 * once the file is committed: reading the keys a second time to add them one
 * by one took as long again as this pass.
 */
async function newKeys(job: HistoryFileJob, staged: string, rows: number): Promise<{ repeated: number[]; added?: KeySet }> {
  const { schema, keys } = job;
  if (schema.idempotencyKey === undefined) return { repeated: [] };
  const repeated: number[] = [];
  const added = KeySet.forKeys(rows);
  await eachKey(job.connection, keySql(schema, staged), (offset, key) => {
    if (keys.has(schema.name, key) || !added.add(key)) repeated.push(offset);
  });
  return { repeated, added };
}

/** Writes the staged file again without the rows at `offsets`; resolves with the rows kept. */
async function dropOffsets(job: HistoryFileJob, staged: string, offsets: readonly number[], all: boolean): Promise<number> {
  const list = `${staged}.drop.tmp`;
  const kept = `${staged}.kept.tmp`;
  // Every row (a file loaded again): no join needed, just the empty file with the same columns.
  const keep = all ? 'false' : `_offset NOT IN (SELECT o FROM read_csv(${sqlStringLiteral(list)}, header = true, columns = {'o': 'BIGINT'}))`;
  if (!all) await writeFile(list, `o\n${offsets.join('\n')}\n`);
  try {
    const result = await job.connection.run(`COPY (SELECT * FROM read_parquet(${sqlStringLiteral(staged)}) WHERE ${keep})
      TO ${sqlStringLiteral(kept)} (FORMAT parquet, PARQUET_VERSION V2)`);
    await rename(kept, staged);
    return result.rowsChanged;
  } finally {
    await rm(list, { force: true });
    await rm(kept, { force: true });
  }
}

/**
 * What a resumed import recognizes a file by.
 *
 * @example
 * ```ts
 * const { path, bytes, modifiedMs } = await sourceOf('orders-2023.parquet');
 * ```
 */
export async function sourceOf(path: string): Promise<HistorySource> {
  const info = await stat(path);
  return { path: resolve(path), bytes: info.size, modifiedMs: info.mtimeMs };
}
