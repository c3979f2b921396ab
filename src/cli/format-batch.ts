import type { BatchSummary } from '../engine/engine-types.ts';

/** One line for a published batch version, as `tandem batch` and the demo print it. */
export function printBatch(summary: BatchSummary): void {
  const read = summary.mode === 'incremental' && summary.inputEvents !== undefined ? ` (incremental: ${summary.inputEvents.toLocaleString('en-US')} new)` : summary.mode === 'full' ? ' (full recompute)' : '';
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  // A cluster's version ends at a sequence per partition: their sum is no offset of anything.
  const below = summary.cutoffs === undefined ? `offset ${summary.cutoff}` : `partition sequences ${summary.cutoffs.join(', ')}`;
  console.log(`batch v${summary.version} published: ${summary.events.toLocaleString('en-US')} events below ${below}${read}; the cycle took ${s(summary.durationMs)} from seal to publish (export ${s(summary.exportMs)}, views ${s(summary.durationMs - summary.exportMs)})`);
}
