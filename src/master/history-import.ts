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
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sqlIdentifier, sqlStringLiteral, type EventTypeSchema } from '../definitions/index.ts';
import type { IdempotencyIndex } from '../log/index.ts';
import { fileSha256 } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { historyFilePath, writeHistoryRecord } from './history-record.ts';
import { checkedSource, type HistoryFormat } from './history-source.ts';

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
  const first = await job.reserve(checked.rows);
  const end = first + checked.rows;
  const source = await checkedSource(job.connection, job.schema, job.path, job.format, first);
  const relative = historyFilePath(job.schema.name, first, end);
  const target = join(job.masterDir, relative);
  await mkdir(dirname(target), { recursive: true });
  try {
    let written = await withProgress(job, () => job.connection.run(copySql(job.schema, source.sql, `${target}.tmp`)).then((r) => r.rowsChanged));
    const { rejected, firstRejections } = written < checked.rows ? await rejections(job.connection, source.sql) : { rejected: 0, firstRejections: [] };
    const stored = await storedKeyOffsets(job, `${target}.tmp`);
    if (stored.length > 0) written = await dropOffsets(job, `${target}.tmp`, stored);
    await rename(`${target}.tmp`, target);
    await syncDirectory(dirname(target));
    await writeHistoryRecord(job.masterDir, { eventType: job.schema.name, first, end, files: [{ path: relative, rows: written, sha256: await fileSha256(target) }] });
    await addKeys(job, target);
    return { ...empty, rows: checked.rows, imported: written, duplicates: checked.rows - rejected - written, rejected, firstRejections, first, end };
  } catch (error) {
    // Not committed: the range stays claimed and holds no events.
    await rm(`${target}.tmp`, { force: true });
    await rm(target, { force: true });
    throw error;
  }
}

/**
 * The good rows into Parquet; of rows repeating a key in the file, the first
 * is kept, as the live path keeps the first stored. The first offset of
 * each key is found by a GROUP BY and the rows kept by a semi-join, both of
 * which DuckDB spills past its memory limit (a window over the whole file
 * ran out of memory at a 64 MB limit).
 */
function copySql(schema: EventTypeSchema, checked: string, target: string): string {
  const columns = ['_offset', ...schema.fields.map((f) => sqlIdentifier(f.name))].join(', ');
  const key = schema.idempotencyKey === undefined ? undefined : sqlIdentifier(schema.idempotencyKey.name);
  // Parquet V2 pages with snappy: the offsets delta-encode to almost nothing, and at 20M rows this wrote 1.3x faster than V1 with zstd, about as small.
  const to = `TO ${sqlStringLiteral(target)} (FORMAT parquet, PARQUET_VERSION V2)`;
  // No ORDER BY without a key: DuckDB keeps the order it reads in, so the file is in offset order, as a segment's export is.
  if (key === undefined) return `COPY (SELECT ${columns} FROM (${checked}) WHERE _problem IS NULL) ${to}`;
  const firsts = `SELECT min(_offset) FROM (${checked}) WHERE _problem IS NULL GROUP BY ${key}`;
  return `COPY (SELECT ${columns} FROM (${checked}) WHERE _problem IS NULL AND _offset IN (${firsts}) ORDER BY _offset) ${to}`;
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

async function rejections(connection: DuckDBConnection, checked: string): Promise<{ rejected: number; firstRejections: { row: number; error: string }[] }> {
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
    for (let row = 0; row < chunk.rowCount; row++) {
      const key = keys.getItem(row);
      if (key !== null) visit(Number(offsets.getItem(row)), key);
    }
  }
}

function keySql(schema: EventTypeSchema, file: string): string {
  return `SELECT _offset, ${sqlIdentifier(schema.idempotencyKey!.name)} FROM read_parquet(${sqlStringLiteral(file)})`;
}

/** The offsets of staged rows whose key is stored already: a second load of a file finds all of them. */
async function storedKeyOffsets(job: HistoryFileJob, staged: string): Promise<number[]> {
  const { schema, keys } = job;
  if (schema.idempotencyKey === undefined) return [];
  const found: number[] = [];
  await eachKey(job.connection, keySql(schema, staged), (offset, key) => {
    if (keys.has(schema.name, key)) found.push(offset);
  });
  return found;
}

/** Writes the staged file again without the rows at `offsets`; resolves with the rows kept. */
async function dropOffsets(job: HistoryFileJob, staged: string, offsets: readonly number[]): Promise<number> {
  const list = `${staged}.drop.tmp`;
  const kept = `${staged}.kept.tmp`;
  await writeFile(list, `o\n${offsets.join('\n')}\n`);
  try {
    const result = await job.connection.run(`COPY (SELECT * FROM read_parquet(${sqlStringLiteral(staged)}) WHERE _offset NOT IN (SELECT o FROM read_csv(${sqlStringLiteral(list)}, header = true, columns = {'o': 'BIGINT'})) ORDER BY _offset)
      TO ${sqlStringLiteral(kept)} (FORMAT parquet, PARQUET_VERSION V2)`);
    await rename(kept, staged);
    return result.rowsChanged;
  } finally {
    await rm(list, { force: true });
    await rm(kept, { force: true });
  }
}

/** The committed file's keys join the index, so a live retry of one of its events is found. */
async function addKeys(job: HistoryFileJob, file: string): Promise<void> {
  const { schema, keys } = job;
  if (schema.idempotencyKey === undefined) return;
  await eachKey(job.connection, keySql(schema, file), (_offset, key) => keys.add(schema.name, key));
}
