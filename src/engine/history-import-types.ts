/**
 * What a history import reports, the same in both backends: the embedded
 * engine's (`backends/local/history-import.ts`) and the cluster's
 * (`backends/nats/cluster-history-import.ts`), printed alike by
 * `tandem ingest --history`.
 *
 * @module
 */
import type { HistoryFileOutcome } from '../master/index.ts';
import type { BatchSummary } from './engine-types.ts';

/**
 * Where an import is, for a progress bar.
 *
 * @example
 * ```ts
 * await tandem.importHistory('order', files, { onProgress: (p) => bar.update(p.rowsDone, { total: p.rowsKnown, file: p.file }) });
 * ```
 */
export interface HistoryProgress {
  readonly phase: 'importing' | 'publishing';
  /** The file being imported, its index (from 0) and how many there are. */
  readonly file: string;
  readonly fileIndex: number;
  readonly files: number;
  /** Rows read so far, over all files, and rows in the files done plus the current one. */
  readonly rowsDone: number;
  readonly rowsKnown: number;
}

/**
 * How to run an import.
 *
 * @example
 * ```ts
 * await tandem.importHistory('order', ['2023.parquet'], { memoryLimit: '512MB', resume: true });
 * ```
 */
export interface HistoryImportOptions {
  /** Told of progress a few times a second. */
  readonly onProgress?: (progress: HistoryProgress) => void;
  /** DuckDB's `memory_limit` for the import's instance (default `'1GB'`): past it, DuckDB spills to the data directory. */
  readonly memoryLimit?: string;
  /** DuckDB threads for the import (default: all cores). */
  readonly threads?: number;
  /**
   * Skips a file an earlier import committed whole (the same path, size and
   * modification time): how an import cut short by a crash is completed for
   * an event type without an idempotency key, whose rows would otherwise be
   * stored twice. With a key, the stored rows are found as duplicates anyway.
   */
  readonly resume?: boolean;
}

/**
 * What an import did.
 *
 * @example
 * ```ts
 * const { imported, duplicates, rejected, batch } = await tandem.importHistory('order', ['2023.parquet']);
 * console.log(`${imported} imported, ${duplicates} already stored, ${rejected} rejected; version ${batch.version}`);
 * ```
 */
export interface HistoryImportSummary {
  readonly eventType: string;
  readonly files: readonly HistoryFileOutcome[];
  readonly rows: number;
  readonly imported: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** Files skipped by `resume`: an earlier import committed each whole. */
  readonly skipped: readonly string[];
  /** Set when the event type declares no idempotency key: a second load of the same file stores its events again. */
  readonly warning?: string;
  /** Seconds writing the master dataset, and seconds of the batch cycle that published it. */
  readonly importSeconds: number;
  readonly batchSeconds: number;
  /** The cycle that published the imported events. */
  readonly batch: BatchSummary;
}

/** The sentence a keyless import starts with. */
export function keylessWarning(eventType: string): string {
  return `Event type '${eventType}' declares no idempotencyKey, so importing the same file again would store its events twice.`;
}
