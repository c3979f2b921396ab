/**
 * A view computed from the master dataset in the background, for a change
 * of the view made while the engine serves (issue #31): the old definition
 * keeps answering meanwhile, so this runs slowly on purpose.
 *
 * The files are read in a few chunks of consecutive segments, each written
 * as one Parquet part over its offset range, so that progress counts files
 * and a cancel stops between chunks (or interrupts one). Between chunks it
 * rests for a share of the time the chunk took: with DuckDB on one thread,
 * that leaves the engine's main thread a core and then some.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ViewSchema } from '../definitions/index.ts';
import { computeView, type BatchSource } from './batch-runner.ts';
import type { BackfillPart } from './backfill-part.ts';

/** Parts a backfill writes at most: each becomes one table to merge at query time until the next full recompute folds them. */
export const MAX_BACKFILL_PARTS = 4;

/** One chunk of the master dataset: consecutive segments' files of the view's event type, over offsets `[from, to)`. */
export interface BackfillChunk {
  readonly from: number;
  readonly to: number;
  readonly files: readonly string[];
  readonly events: number;
}

export interface BackfillInput {
  /** A DuckDB connection of the backfill's own, on an instance limited to one thread. */
  readonly connection: DuckDBConnection;
  readonly view: ViewSchema;
  readonly chunks: readonly BackfillChunk[];
  readonly dir: string;
  readonly signal: AbortSignal;
  /** Files and events read so far, of all the chunks'. */
  progress(filesDone: number, eventsDone: number): void;
  /** How long to rest after a chunk that took `ms`; 0 runs flat out. */
  readonly restMs?: (ms: number) => number;
}

/**
 * Segments grouped into at most {@link MAX_BACKFILL_PARTS} chunks of about
 * equal events, in offset order. `segments` are the master dataset's ranges
 * with the view's event type's file in each (null where it has none).
 *
 * @example
 * ```ts
 * const chunks = backfillChunks([{ base: 0, end: 100, file: 'a.parquet', events: 100 }]);
 * ```
 */
export function backfillChunks(segments: readonly { readonly base: number; readonly end: number; readonly file: string | null; readonly events: number }[]): BackfillChunk[] {
  const total = segments.reduce((n, s) => n + s.events, 0);
  const target = Math.max(1, Math.ceil(total / MAX_BACKFILL_PARTS));
  const chunks: BackfillChunk[] = [];
  let current: { from: number; to: number; files: string[]; events: number } | undefined;
  for (const segment of segments) {
    current ??= { from: segment.base, to: segment.base, files: [], events: 0 };
    current.to = segment.end;
    if (segment.file !== null) current.files.push(segment.file);
    current.events += segment.events;
    if (current.events >= target && chunks.length < MAX_BACKFILL_PARTS - 1) {
      chunks.push(current);
      current = undefined;
    }
  }
  if (current !== undefined) chunks.push(current);
  return chunks;
}

/** Computes every chunk in order, resting between them; throws the signal's reason once cancelled. */
export async function backfillView(input: BackfillInput): Promise<BackfillPart[]> {
  const { connection, view, chunks, signal } = input;
  const parts: BackfillPart[] = [];
  let filesDone = 0;
  let eventsDone = 0;
  const stop = () => connection.interrupt();
  signal.addEventListener('abort', stop);
  try {
    for (const [i, chunk] of chunks.entries()) {
      signal.throwIfAborted();
      const started = performance.now();
      const poll = setInterval(() => input.progress(filesDone, eventsDone + Math.floor(chunk.events * Math.min(1, Math.max(0, connection.progress.percentage) / 100))), 250);
      let computed;
      try {
        const sources = new Map<string, BatchSource>([[view.eventType.name, { files: chunk.files, events: chunk.events }]]);
        computed = await computeView({ connection, sources, cutoff: chunk.to }, view, input.dir, `${view.name}.part${i}.parquet`, chunk.from);
      } finally {
        clearInterval(poll);
      }
      signal.throwIfAborted();
      parts.push({ file: computed.file, ...(computed.sha256 === undefined ? {} : { sha256: computed.sha256 }), rows: computed.rows, inputEvents: computed.inputEvents, from: chunk.from, to: chunk.to, table: computed.table });
      filesDone += chunk.files.length;
      eventsDone += chunk.events;
      input.progress(filesDone, eventsDone);
      const rest = input.restMs?.(performance.now() - started) ?? 0;
      if (rest > 0 && i < chunks.length - 1) await pause(rest, signal);
    }
    return parts;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
