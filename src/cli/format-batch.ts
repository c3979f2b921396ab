import type { BatchSummary } from '../engine/engine-types.ts';

/** One line for a published batch version, as `tandem batch` and the demo print it. */
export function printBatch(summary: BatchSummary): void {
  const read = summary.mode === 'incremental' && summary.inputEvents !== undefined ? ` (incremental: ${summary.inputEvents.toLocaleString('en-US')} new)` : summary.mode === 'full' ? ' (full recompute)' : '';
  console.log(`batch v${summary.version} published: ${summary.events.toLocaleString('en-US')} events below offset ${summary.cutoff}${read} in ${(summary.durationMs / 1000).toFixed(2)} s`);
}
