/**
 * A history import into a cluster (`tandem ingest --history --nats …`): each
 * file is checked and cut into partitions (`history-staging.ts`), each chunk
 * staged in the object store (`history-objects.ts`) and named by one history
 * message in its partition's stream; then a batch cycle archives them.
 *
 * What the duplicate rule makes of it, alike on every node: a staged row
 * whose key the partition held already (live or imported before), or that
 * repeats one earlier in the file, is dropped; a live event sent later with
 * a key a history row holds is dropped. Every node's speed layer takes the
 * keys and no rows, so the rows appear in every answer at once, with the
 * batch version whose cycle archived them; the import resolves once one is
 * published, and reads what each message kept from the archivist's record.
 *
 * The message id of a chunk is the same in every run over the same file
 * (path, size and modification time), so a run that stopped part way and is
 * started again (`--resume` skips the files a run finished) publishes no
 * chunk twice: JetStream or the duplicate rule's window drops the repeat.
 *
 * @module
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnknownEventTypeError, type Catalog } from '../../definitions/index.ts';
import type { BatchOptions, BatchSummary } from '../../engine/index.ts';
import { formatOf, HistoryFileError, HistoryFormatError, sourceOf, type HistoryFileOutcome } from '../../master/index.ts';
import { fileSha256 } from '../../util/checksums.ts';
import { keylessWarning, type HistoryImportOptions, type HistoryImportSummary } from '../../engine/index.ts';
import { ClusterLog, connectNats } from './cluster-log.ts';
import { HistoryPublishPendingError, MissingClusterConfigError } from './errors.ts';
import { outcomeName } from './history-archive.ts';
import { HISTORY_PREFIX, historyObjectNames } from './history-objects.ts';
import { stageHistoryFile, type StagedChunk } from './history-staging.ts';
import { OFFSET_PER_MESSAGE } from './partition-archive.ts';
import type { HistoryBody } from './log-message.ts';
import { ObjectBlobStore, type NamedBlobStore } from './object-blob-store.ts';

// The CLI loads this module on demand (the NATS client is optional): the error it meets comes with it.
export { HistoryPublishPendingError, type StagedHistoryFile } from './errors.ts';

/** What the import needs of the cluster. */
export interface ClusterHistoryParts {
  readonly catalog: Catalog;
  readonly log: ClusterLog;
  /** The object store; `erase` overwrites an object's chunks in the servers' files (`ObjectBlobStore.erase`). */
  readonly blobs: NamedBlobStore & { erase(name: string): Promise<void> };
  /** Local scratch directory (DuckDB spills there too). */
  readonly dir: string;
  /** Runs a batch cycle on the cluster (a node's `runBatch`, or `POST /v1/batch`). */
  readonly runBatch: (options: BatchOptions) => Promise<BatchSummary>;
  /** Rows per staged chunk; 2^20 unless a test says less. */
  readonly chunkRows?: number;
}

/** A chunk published: where its message is, and whether JetStream had it already. */
interface Published {
  readonly file: number;
  readonly partition: number;
  readonly seq: number;
  readonly rows: number;
  readonly object: string;
  readonly keys?: string;
  readonly duplicate: boolean;
}

/** The record of a file a run finished publishing: what `--resume` skips. */
const doneName = (eventType: string, identity: string) => `${HISTORY_PREFIX}_imports/${eventType}/${identity}.json`;

/**
 * Imports `files` into `eventType` and resolves once a published batch
 * version holds them, with the same summary as the embedded import.
 *
 * A file's `first` and `end` differ in meaning from the embedded import's,
 * where the file claims one run of offsets: here its rows go to several
 * partitions, each numbering offsets of its own (row `r` of a chunk whose
 * message has sequence `s` in its partition is at `s * 2^20 + r`), so they
 * are the least and the greatest bound over the file's chunks
 * ({@link chunkOffsets}): every row of the file is at an offset in
 * `[first, end)` of its partition. Both 0 for a file with no good row.
 *
 * @throws {HistoryPublishPendingError} when the batch cycle asked to archive
 *   the staged files fails: it carries what was staged, which the next
 *   cycle archives.
 *
 * @example
 * ```ts
 * const summary = await importClusterHistory({ catalog, log, blobs, dir: '/tmp/import', runBatch }, 'order', ['2023.parquet']);
 * console.log(formatHistorySummary(summary));
 * ```
 */
export async function importClusterHistory(parts: ClusterHistoryParts, eventType: string, files: readonly string[], options: HistoryImportOptions = {}): Promise<HistoryImportSummary> {
  const schema = parts.catalog.eventTypes.get(eventType);
  if (schema === undefined) throw new UnknownEventTypeError(eventType);
  for (const file of files) {
    if (formatOf(file) === undefined) throw new HistoryFormatError(file);
    if (!existsSync(file)) throw new HistoryFileError(file, 'it does not exist');
  }
  const started = performance.now();
  const importId = randomBytes(8).toString('hex');
  const scratch = join(parts.dir, `history-${importId}`);
  await mkdir(scratch, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '1GB', temp_directory: join(scratch, 'spill'), ...(options.threads === undefined ? {} : { threads: String(options.threads) }),
  });
  const connection = await instance.connect();
  const outcomes: Omit<HistoryFileOutcome, 'imported' | 'duplicates'>[] = [];
  const published: Published[] = [];
  const skipped: string[] = [];
  let rowsBefore = 0;
  try {
    for (const [fileIndex, file] of files.entries()) {
      const source = await sourceOf(file);
      const identity = createHash('sha256').update(`${eventType}\u0000${source.path}\u0000${source.bytes}\u0000${source.modifiedMs}`).digest('hex').slice(0, 32);
      if (options.resume === true && await parts.blobs.info(doneName(eventType, identity)) !== undefined) {
        skipped.push(file);
        continue;
      }
      options.onProgress?.({ phase: 'importing', file, fileIndex, files: files.length, rowsDone: rowsBefore, rowsKnown: rowsBefore });
      const dir = join(scratch, String(fileIndex));
      await mkdir(dir, { recursive: true });
      const staged = await stageHistoryFile({
        instance, connection, schema, path: file, format: formatOf(file)!, partitions: parts.log.partitions, partitionBy: parts.catalog.cluster?.partitionBy?.[eventType], dir,
        ...(parts.chunkRows === undefined ? {} : { chunkRows: parts.chunkRows }),
      });
      let done = 0;
      for (const chunk of staged.chunks) {
        published.push({ file: outcomes.length, ...await publishChunk(parts, eventType, { importId, fileIndex, identity }, chunk) });
        done += chunk.rows;
        options.onProgress?.({ phase: 'importing', file, fileIndex, files: files.length, rowsDone: rowsBefore + done, rowsKnown: rowsBefore + staged.rows });
      }
      await rm(dir, { recursive: true, force: true });
      const record = join(scratch, 'done.json');
      await writeFile(record, JSON.stringify({ source, importId }));
      await parts.blobs.put(doneName(eventType, identity), record);
      const span = chunkOffsets(published.filter((m) => m.file === outcomes.length));
      outcomes.push({ file, rows: staged.rows, rejected: staged.rejected, firstRejections: staged.firstRejections, ...span });
      rowsBefore += staged.rows;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  try {
    const importSeconds = (performance.now() - started) / 1000;
    options.onProgress?.({ phase: 'publishing', file: files.at(-1) ?? '', fileIndex: files.length, files: files.length, rowsDone: rowsBefore, rowsKnown: rowsBefore });
    // Not retried here: a node's runBatch already retries what passes (a lease changing hands, a holder gone silent), so
    // what is left fails again at once (a node down, an archive damaged). The messages are in the streams, and the next
    // cycle archives them: what the caller needs is the summary of what was staged, and to be told so. The rows objects
    // this run would erase once archived are erased with the keys when the streams are purged below them (`history-cleanup.ts`).
    const batch = await publishThrough(parts, published).catch((error: unknown) => {
      throw new HistoryPublishPendingError(eventType, outcomes, skipped, published.length, error);
    });
    const kept = await keptOf(parts.blobs, published, scratch);
    // The published version's archive holds the kept rows now, and nothing reads a rows object again (a consumer reads keys):
    // erased (not only deleted: a deleted object's bytes stay in the servers' files until they compact them), so that an
    // erasure, which rewrites the archive, leaves no copy of the rows behind. Keys objects stay while the stream holds their
    // messages (`history-cleanup.ts`). A duplicate's objects (JetStream held an earlier run's message) no message names at all.
    for (const m of published) {
      await parts.blobs.erase(m.object);
      if (m.duplicate && m.keys !== undefined) await parts.blobs.erase(m.keys);
    }
    const fileOutcomes = outcomes.map((o, i): HistoryFileOutcome => {
      const imported = published.reduce((n, m, j) => n + (m.file === i ? kept[j]! : 0), 0);
      return { ...o, imported, duplicates: o.rows - o.rejected - imported };
    });
    const total = (key: 'rows' | 'imported' | 'duplicates' | 'rejected') => fileOutcomes.reduce((n, o) => n + o[key], 0);
    return {
      eventType, files: fileOutcomes, skipped, rows: total('rows'), imported: total('imported'), duplicates: total('duplicates'), rejected: total('rejected'),
      ...(schema.idempotencyKey === undefined ? { warning: keylessWarning(eventType) } : {}),
      importSeconds, batchSeconds: (performance.now() - started) / 1000 - importSeconds, batch,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Stages one chunk's objects and publishes its message. */
async function publishChunk(parts: ClusterHistoryParts, eventType: string, run: { importId: string; fileIndex: number; identity: string }, chunk: StagedChunk): Promise<Omit<Published, 'file'>> {
  const names = historyObjectNames(eventType, run.importId, run.fileIndex, chunk.partition, chunk.chunk);
  await parts.blobs.put(names.rows, chunk.file);
  const body: HistoryBody = { object: names.rows, rows: chunk.rows, sha256: await fileSha256(chunk.file) };
  let keys: HistoryBody['keys'];
  if (chunk.keysFile !== undefined) {
    await parts.blobs.put(names.keys, chunk.keysFile);
    keys = { object: names.keys, sha256: await fileSha256(chunk.keysFile) };
  }
  // The objects first, the message last: a message never names an object that is not stored yet.
  const { seq, duplicate } = await parts.log.publishHistory(chunk.partition, eventType, keys === undefined ? body : { ...body, keys }, `history:${run.identity}:${chunk.partition}:${chunk.chunk}`);
  return { partition: chunk.partition, seq, rows: chunk.rows, object: names.rows, ...(keys === undefined ? {} : { keys: names.keys }), duplicate };
}

/**
 * The offsets of a file's chunks, as `[first, end)`: from the least chunk's
 * first row to past the greatest chunk's last row (each chunk's rows at
 * `seq * 2^20 + r` in its partition); `{ first: 0, end: 0 }` for none.
 *
 * @example
 * ```ts
 * chunkOffsets([{ seq: 3, rows: 10 }, { seq: 2, rows: 64 }]); // { first: 2 * 2 ** 20, end: 3 * 2 ** 20 + 10 }
 * ```
 */
export function chunkOffsets(chunks: readonly { readonly seq: number; readonly rows: number }[]): { first: number; end: number } {
  if (chunks.length === 0) return { first: 0, end: 0 };
  const first = Math.min(...chunks.map((c) => c.seq * OFFSET_PER_MESSAGE));
  const end = Math.max(...chunks.map((c) => c.seq * OFFSET_PER_MESSAGE + c.rows));
  return { first, end };
}

/** Runs cycles until one is published past every message: a cycle already running when the import asked may have sealed before them. */
async function publishThrough(parts: ClusterHistoryParts, published: readonly Published[]): Promise<BatchSummary> {
  for (;;) {
    const batch = await parts.runBatch({ seal: true });
    if (published.every((m) => (batch.cutoffs?.[m.partition] ?? 0) > m.seq)) return batch;
  }
}

/** Per message, the rows it kept, from the archivist's record (none for a message JetStream had already: an earlier run's). */
async function keptOf(blobs: NamedBlobStore, published: readonly Published[], scratch: string): Promise<number[]> {
  const kept: number[] = [];
  const file = join(scratch, 'outcome.json');
  for (const m of published) {
    if (m.duplicate) {
      kept.push(0);
      continue;
    }
    await blobs.get(outcomeName(m.object), file);
    kept.push((JSON.parse(await readFile(file, 'utf8')) as { kept: number }).kept);
  }
  return kept;
}

/** Where a command-line import reaches the cluster. */
export interface ClusterHistoryTarget {
  readonly servers: readonly string[];
  readonly catalog: Catalog;
  readonly dir: string;
  readonly runBatch: (options: BatchOptions) => Promise<BatchSummary>;
  /** Rows per staged chunk; 2^20 unless a test says less. */
  readonly chunkRows?: number;
}

/**
 * {@link importClusterHistory} over a NATS connection of its own: what
 * `tandem ingest --history --nats …` runs. The cycle runs on a node (`runBatch`).
 *
 * @example
 * ```ts
 * await importHistoryIntoCluster({ servers: ['nats://10.0.0.1:4222'], catalog, dir: '/tmp', runBatch }, 'order', ['2023.parquet']);
 * ```
 */
export async function importHistoryIntoCluster(target: ClusterHistoryTarget, eventType: string, files: readonly string[], options: HistoryImportOptions = {}): Promise<HistoryImportSummary> {
  const cluster = target.catalog.cluster;
  if (cluster === undefined) throw new MissingClusterConfigError();
  const nc = await connectNats({ servers: target.servers, connectionName: 'tandem ingest --history' });
  try {
    const log = await ClusterLog.open({ connection: nc, clusterName: cluster.name, partitions: cluster.partitions, replicas: cluster.replicas, catalog: target.catalog });
    try {
      const blobs = await ObjectBlobStore.open(nc, { bucket: `${cluster.name}_master`, replicas: cluster.replicas });
      const { catalog, dir, runBatch, chunkRows } = target;
      return await importClusterHistory({ catalog, log, blobs, dir, runBatch, ...(chunkRows === undefined ? {} : { chunkRows }) }, eventType, files, options);
    } finally {
      await log.close();
    }
  } finally {
    await nc.close();
  }
}
