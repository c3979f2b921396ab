/**
 * History imports into an embedded engine's data directory
 * (`Tandem.importHistory`, `tandem ingest --history`): each file goes
 * straight into the master dataset as Parquet (`master/history-import.ts`),
 * one after another, on a DuckDB instance of the import's own with a memory
 * limit and a spill directory; then one batch cycle, sealing the log,
 * publishes a version that holds them.
 *
 * What queries see: an imported file's events are in no layer until that
 * cycle publishes (the speed layer never holds them), and then in the batch
 * layer all at once. `importHistory` resolves only after the publish, so
 * once it has, every answer counts them.
 *
 * @module
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UnknownEventTypeError, type Catalog } from '../../definitions/index.ts';
import type { StoredTypes } from '../../engine/engine-backend.ts';
import type { BatchOptions, BatchSummary } from '../../engine/engine-types.ts';
import { KeySnapshot, type EventLog, type IdempotencyIndex } from '../../log/index.ts';
import {
  committedImports, formatOf, HistoryFileError, HistoryFormatError, historyDir, importHistoryFile, readHistoryRecord, removeUncommittedHistory, sourceOf,
  type HistoryFileOutcome, type HistorySource, type MasterDataset,
} from '../../master/index.ts';
import { sqlIdentifier, sqlStringLiteral } from '../../definitions/index.ts';
import { keylessWarning, type HistoryImportOptions, type HistoryImportSummary } from '../../engine/index.ts';

/** What the importer needs of the engine. */
export interface HistoryImportParts {
  readonly catalog: Catalog;
  readonly log: EventLog;
  readonly master: MasterDataset;
  readonly masterDir: string;
  readonly schema: StoredTypes;
  readonly runBatch: (options: BatchOptions) => Promise<BatchSummary>;
}


/**
 * Runs imports one at a time, and keeps the key snapshot from claiming the
 * keys of a range claimed but not committed yet.
 *
 * @example
 * ```ts
 * const importer = new HistoryImporter(parts);
 * const summary = await importer.run('order', ['2023.parquet'], { onProgress: (p) => console.log(p.rowsDone) });
 * ```
 */
export class HistoryImporter {
  readonly #parts: HistoryImportParts;
  #queue: Promise<unknown> = Promise.resolve();
  /** The first offset of a range claimed and not committed yet. */
  #pendingFrom: number | undefined;

  constructor(parts: HistoryImportParts) {
    this.#parts = parts;
  }

  /** Where a key snapshot may claim to hold every key below: never past a claimed range whose keys are not in yet. */
  snapshotThrough(logEnd: number): number {
    return Math.min(logEnd, this.#pendingFrom ?? Infinity);
  }

  /** Imports `files` into event type `eventType`, then publishes them; see {@link HistoryImportSummary}. */
  run(eventType: string, files: readonly string[], options: HistoryImportOptions = {}): Promise<HistoryImportSummary> {
    const schema = this.#parts.catalog.eventTypes.get(eventType);
    if (schema === undefined) return Promise.reject(new UnknownEventTypeError(eventType));
    for (const file of files) {
      if (formatOf(file) === undefined) return Promise.reject(new HistoryFormatError(file));
      if (!existsSync(file)) return Promise.reject(new HistoryFileError(file, 'it does not exist'));
    }
    const run = this.#queue.catch(() => undefined).then(() => this.#run(eventType, files, options));
    this.#queue = run;
    return run;
  }

  /** Resolves once no import runs. */
  async idle(): Promise<void> {
    await this.#queue.catch(() => undefined);
  }

  async #run(eventType: string, files: readonly string[], options: HistoryImportOptions): Promise<HistoryImportSummary> {
    const { master, masterDir, schema: stored, log, catalog } = this.#parts;
    const schema = catalog.eventTypes.get(eventType)!;
    const started = performance.now();
    await removeUncommittedHistory(masterDir);
    if (stored.needsRecord(eventType)) await stored.record(eventType);
    const spill = join(historyDir(masterDir), '_spill');
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit ?? '1GB', temp_directory: spill, preserve_insertion_order: 'false',
      ...(options.threads === undefined ? {} : { threads: String(options.threads) }),
    });
    const connection = await instance.connect();
    const outcomes: HistoryFileOutcome[] = [];
    const skipped = options.resume === true ? await this.#committedAlready(eventType, files) : new Set<string>();
    let rowsBefore = 0;
    try {
      for (const [fileIndex, file] of files.entries()) {
        if (skipped.has(file)) continue;
        let rowsKnown = rowsBefore;
        const tell = (rowsDone: number) => options.onProgress?.({ phase: 'importing', file, fileIndex, files: files.length, rowsDone: rowsBefore + rowsDone, rowsKnown });
        tell(0);
        const outcome = await master.holdExports(() => importHistoryFile({
          connection, masterDir, schema, path: file, format: formatOf(file)!, keys: log.keys, onRows: tell,
          reserve: async (count) => {
            rowsKnown = rowsBefore + count;
            const first = await log.reserve(eventType, count);
            this.#pendingFrom = first;
            return first;
          },
        }).finally(() => (this.#pendingFrom = undefined)));
        outcomes.push(outcome);
        rowsBefore += outcome.rows;
        tell(0);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
      await rm(spill, { recursive: true, force: true });
    }
    const importSeconds = (performance.now() - started) / 1000;
    options.onProgress?.({ phase: 'publishing', file: files.at(-1) ?? '', fileIndex: files.length, files: files.length, rowsDone: rowsBefore, rowsKnown: rowsBefore });
    const batch = await this.#publishThrough(Math.max(0, ...outcomes.map((o) => o.end)));
    const total = (key: 'rows' | 'imported' | 'duplicates' | 'rejected') => outcomes.reduce((n, o) => n + o[key], 0);
    return {
      eventType, files: outcomes, skipped: files.filter((f) => skipped.has(f)), rows: total('rows'), imported: total('imported'), duplicates: total('duplicates'), rejected: total('rejected'),
      ...(schema.idempotencyKey === undefined ? { warning: keylessWarning(eventType) } : {}),
      importSeconds, batchSeconds: (performance.now() - started) / 1000 - importSeconds, batch,
    };
  }

  /** The files an earlier import of `eventType` committed whole, by path, size and modification time. */
  async #committedAlready(eventType: string, files: readonly string[]): Promise<Set<string>> {
    const identity = (s: HistorySource) => `${s.path}\u0000${s.bytes}\u0000${s.modifiedMs}`;
    const done = new Set((await committedImports(this.#parts.masterDir)).flatMap((p) => (p.eventType === eventType && p.source !== undefined ? [identity(p.source)] : [])));
    const skipped = new Set<string>();
    for (const file of files) if (done.has(identity(await sourceOf(file)))) skipped.add(file);
    return skipped;
  }

  /** Runs cycles until one publishes past `end`: a cycle already running when the import asked may have sealed before it. */
  async #publishThrough(end: number): Promise<BatchSummary> {
    for (;;) {
      const batch = await this.#parts.runBatch({ seal: true });
      if (batch.cutoff >= end) return batch;
    }
  }

  /**
   * At open: removes the files of imports a crash cut short, and indexes
   * the keys of committed imports no segment manifest lists yet (their
   * claim's segment was not exported before the stop), since neither the
   * log's replay nor the master dataset's manifests hold them. Resolves
   * with whether there were any: their events appear with the next cycle.
   */
  async recover(connection: DuckDBConnection, keys: IdempotencyIndex): Promise<boolean> {
    const { masterDir, master, catalog } = this.#parts;
    await removeUncommittedHistory(masterDir);
    const exported = master.ranges;
    let unpublished = false;
    for (const name of await readdir(historyDir(masterDir)).catch(() => [] as string[])) {
      const match = /^(\d{20})-(\d{20})\.json$/.exec(name);
      if (match === null) continue;
      const [first, end] = [Number(match[1]), Number(match[2])];
      if (exported.some((r) => r.base <= first && end <= r.end)) continue;
      unpublished = true;
      const part = await readHistoryRecord(masterDir, first, end);
      const key = catalog.eventTypes.get(part?.eventType ?? '')?.idempotencyKey;
      if (part === undefined || key === undefined) continue;
      for (const file of part.files) {
        const read = await connection.runAndReadAll(`SELECT ${sqlIdentifier(key.name)} FROM read_parquet(${sqlStringLiteral(join(masterDir, file.path))}) ORDER BY _offset`);
        for (const [value] of read.getRows()) if (value !== null) keys.add(part.eventType, String(value));
      }
    }
    return unpublished;
  }
}

/**
 * The key snapshot, told by the importer how far it may claim: a snapshot
 * taken while a range is claimed but not committed must not say it holds
 * the keys below the log's end, or an open after a crash would trust it
 * and never read the range's keys.
 */
export class ImportAwareKeySnapshot extends KeySnapshot {
  importer: HistoryImporter | undefined;

  override save(keys: IdempotencyIndex, through: number, options?: { final?: boolean }): Promise<void> {
    return super.save(keys, this.importer?.snapshotThrough(through) ?? through, options);
  }
}
