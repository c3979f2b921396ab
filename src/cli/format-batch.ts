import type { BatchSummary } from '../engine/engine-types.ts';

/** One line for a published batch version, as `tandem batch` and the demo print it. */
export function printBatch(summary: BatchSummary): void {
  console.log(`batch v${summary.version} published: ${summary.events.toLocaleString('en-US')} events below offset ${summary.cutoff} in ${(summary.durationMs / 1000).toFixed(2)} s`);
}
