/**
 * How the CLI names a batch version: the line `tandem batch` prints for a
 * published one, and the note under an answer saying which one served it.
 *
 * @module
 */
import type { BatchSummary } from '../engine/engine-types.ts';
import type { QueryMeta } from '../serving/query.ts';
import { countOf } from './count-of.ts';

/** One line for a published batch version, as `tandem batch` and the demo print it. */
export function printBatch(summary: BatchSummary): void {
  const read = summary.mode === 'incremental' && summary.inputEvents !== undefined ? ` (incremental: ${summary.inputEvents.toLocaleString('en-US')} new)` : summary.mode === 'full' ? ' (full recompute)' : '';
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`batch v${summary.version} published: ${countOf(summary.events, 'event')} below ${cutoffText(summary.cutoff, summary.cutoffs)}${read}; the cycle took ${s(summary.durationMs)} from seal to publish (export ${s(summary.exportMs)}, views ${s(summary.durationMs - summary.exportMs)})`);
}

/**
 * The batch version that served an answer and where it ends, or "no batch
 * yet" before the first one (when the speed layer answered alone).
 *
 * @example
 * ```ts
 * servedBatch({ batchVersion: 3, batchCutoff: 1200 });   // 'batch v3 below offset 1200'
 * servedBatch({ batchVersion: null, batchCutoff: 0 });    // 'no batch yet'
 * ```
 */
export function servedBatch(meta: Pick<QueryMeta, 'batchVersion' | 'batchCutoff'>): string {
  return meta.batchVersion === null ? 'no batch yet' : `batch v${meta.batchVersion} below offset ${meta.batchCutoff}`;
}

/** A cluster's version ends at a sequence per partition: their sum is no offset of anything. */
function cutoffText(cutoff: number, cutoffs: readonly number[] | undefined): string {
  return cutoffs === undefined ? `offset ${cutoff}` : `partition sequences ${cutoffs.join(', ')}`;
}
