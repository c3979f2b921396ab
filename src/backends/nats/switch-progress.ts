/**
 * How far a cluster's switching cycle is, as the batch node reports it into
 * the views record (`SwitchProgress`) and every node shows it in a change's
 * status. The cycle computes each view from every archived file of its
 * partitions in turn, so its counts are reads: files and events read so far
 * of those its views read in all.
 *
 * @module
 */
import type { SwitchProgress } from './cluster-views-record.ts';

/** At most one progress write a second: each is a compare-and-set of the views record, and status is read at a poll's pace. */
export const PROGRESS_EVERY_MS = 1_000;

/** What one view of the cycle reads: every archived file of the partitions computed here, and their events. */
export interface ViewReads {
  readonly files: number;
  readonly events: number;
}

/**
 * The progress of a cycle (batch version `version`, lease term `term`,
 * started at `startedAt` ms) once `done` of its `total` views are computed,
 * each having read `reads`.
 *
 * @example
 * ```ts
 * const p = switchProgress({ version: 7, term: 2, startedAt }, 1, 4, { files: 12, events: 90_000 });   // filesDone 12 of 48
 * ```
 */
export function switchProgress(cycle: { readonly version: number; readonly term: number; readonly startedAt: number }, done: number, total: number, reads: ViewReads, now = Date.now()): SwitchProgress {
  const elapsed = Math.max(0, now - cycle.startedAt);
  // The views left at the pace of those done (whole numbers throughout, so no rounding drifts).
  const etaMs = done >= total ? 0 : done > 0 ? Math.round((elapsed * (total - done)) / done) : null;
  return {
    version: cycle.version, term: cycle.term,
    filesDone: reads.files * done, filesTotal: reads.files * total, eventsDone: reads.events * done, eventsTotal: reads.events * total,
    etaMs, at: new Date(now).toISOString(),
  };
}

/** `progress`'s time left as of `now`: what it said when written, less the time since (never below 0). */
export function etaNow(progress: SwitchProgress, now = Date.now()): number | null {
  if (progress.etaMs === null) return null;
  return Math.max(0, progress.etaMs - Math.max(0, now - Date.parse(progress.at)));
}
