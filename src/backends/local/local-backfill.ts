/**
 * The embedded engine's backfill of a view changed while serving: its
 * batch files computed from the master dataset's Parquet below the served
 * cutoff, on a DuckDB instance of its own limited to one thread, into
 * `<dataDir>/backfill/<view>-<hash>/`. The cycle that switches the view in
 * links them into its version (`BackfilledView`); the directory goes once
 * that cycle is done, or at a cancel. A stop leaves it behind, and the next
 * open starts the change's backfill again from an empty directory.
 *
 * @module
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, rm } from 'node:fs/promises';
import { backfillChunks, backfillView, type BackfilledView, type BackfillPart, type BatchSource } from '../../batch/index.ts';
import type { ViewSchema } from '../../definitions/index.ts';
import type { Backfill, BackfillJob } from '../../engine/engine-backend.ts';
import type { MasterDataset } from '../../master/index.ts';

/** A backfill done: its parts, until the switch links them or a cancel deletes them. */
export class LocalBackfill implements Backfill {
  constructor(readonly view: ViewSchema, readonly through: number, readonly dir: string, readonly parts: readonly BackfillPart[]) {}

  /** What the cycle switching the view in reads: the parts, and `sources` for the events from `through` to its cutoff. */
  input(sources: ReadonlyMap<string, BatchSource>): BackfilledView {
    return { view: this.view, dir: this.dir, parts: this.parts, through: this.through, sources };
  }

  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface BackfillRequest {
  readonly master: MasterDataset;
  readonly view: ViewSchema;
  /** The served cutoff: the backfill covers every event below it. */
  readonly through: number;
  readonly dir: string;
  readonly job: BackfillJob;
  /** Rest after each chunk, as a share of the time it took. */
  readonly restShare: number;
}

/** Computes the view over the master dataset below `through`, reporting progress; deletes what it wrote if it fails or is cancelled. */
export async function computeBackfill(request: BackfillRequest): Promise<LocalBackfill> {
  const { master, view, through, dir, job } = request;
  const type = view.eventType.name;
  const segments = master.ranges.filter((r) => r.end <= through).map((r) => {
    const source = master.sourcesBetween(r.base, r.end).get(type);
    return { base: r.base, end: r.end, file: source?.files[0] ?? null, events: source?.events ?? 0 };
  });
  const chunks = backfillChunks(segments);
  const filesTotal = chunks.reduce((n, c) => n + c.files.length, 0);
  const eventsTotal = chunks.reduce((n, c) => n + c.events, 0);
  job.progress({ filesDone: 0, filesTotal, eventsDone: 0, eventsTotal });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // One thread, so that a backfill never takes more than one core from ingest and queries.
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    // Progress is tracked only with the bar on; it is never printed.
    await connection.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
    for (const chunk of chunks) await master.verify(chunk.to, chunk.from);
    const parts = await backfillView({
      connection, view, chunks, dir, signal: job.signal,
      progress: (filesDone, eventsDone) => job.progress({ filesDone, filesTotal, eventsDone, eventsTotal }),
      restMs: (ms) => ms * request.restShare,
    });
    return new LocalBackfill(view, through, dir, parts);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
