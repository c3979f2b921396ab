/**
 * The engine's use of the coverage rule (`data-coverage.ts`): at open, and
 * before each batch cycle reads the master dataset. A stretch no file holds
 * is refused with {@link MissingDataError}, naming where it should be;
 * the one gap that is the batch layer's own (the log starts past the
 * published cutoff, and the master dataset holds what lies between: `CURRENT`
 * deleted or pointing at an older version) is derived data, which the engine
 * recomputes instead.
 *
 * @module
 */
import { join } from 'node:path';
import type { EventLog } from '../../log/index.ts';
import { offsetName } from '../../log/index.ts';
import type { MasterDataset } from '../../master/index.ts';
import { coverageGaps, type CoverageGap } from './data-coverage.ts';
import { MissingDataError } from '../../engine/errors.ts';

/** Where the missing stretch should have been, in the words of {@link MissingDataError}. */
function piece(gap: CoverageGap, log: EventLog | undefined): string {
  const manifest = join('master', '_segments', `${offsetName(gap.from)}-${offsetName(gap.to)}.json`);
  switch (gap.kind) {
    case 'master-missing': return `in no segment manifest of the master dataset (${manifest} or the manifests of the segments in it), nor in any Parquet file or log segment left to rebuild one from`;
    case 'master-overlap': return 'listed by two segment manifests of the master dataset';
    case 'log-missing': return log !== undefined && gap.from >= log.end
      ? `past the end of the event log, which ends at offset ${log.end.toLocaleString('en-US')} (its newest segments are missing)`
      : `in no segment of the event log (${join('log', `${offsetName(gap.from)}.seg`)} is missing)`;
  }
}

/**
 * Checks, at open, that the master dataset and the log hold every offset the
 * layers read, given the published `cutoff`. Resolves with whether the batch
 * layer is behind the log (to be recomputed from the master dataset); throws
 * {@link MissingDataError} for any other gap.
 */
export function checkOpenCoverage(dataDir: string, master: MasterDataset, log: EventLog, cutoff: number): { readonly batchBehind: boolean } {
  const masterEnd = Math.max(0, ...master.ranges.map((r) => r.end));
  const gaps = coverageGaps(master.ranges, [{ base: log.firstOffset, end: log.end }], cutoff, Math.max(log.end, masterEnd));
  // The log starts past the cutoff, and the master dataset holds the stretch between: only the batch layer is behind.
  const behind = (gap: CoverageGap) => gap.kind === 'log-missing' && gap.to <= log.firstOffset && gap.to <= masterEnd && log.end >= masterEnd;
  // A log that ends before what the batch layer or the master dataset holds would hand out their offsets again.
  const held = Math.max(cutoff, masterEnd);
  if (log.end < held) gaps.push({ kind: 'log-missing', from: log.end, to: held });
  const refused = gaps.find((gap) => !behind(gap));
  if (refused !== undefined) throw new MissingDataError(dataDir, refused.from, refused.to, piece(refused, log));
  return { batchBehind: gaps.length > 0 };
}

/** Checks, before a batch cycle reads them, that the master dataset's manifests hold every offset below `cutoff` exactly once. */
export function checkCycleCoverage(dataDir: string, master: MasterDataset, cutoff: number): void {
  const gap = coverageGaps(master.ranges, [], cutoff, 0).find((g) => g.from < cutoff);
  if (gap !== undefined) throw new MissingDataError(dataDir, gap.from, Math.min(gap.to, cutoff), piece(gap, undefined));
}

/** A replay's {@link LogGapError} as the engine words it: a stretch of the data directory missing. */
export function missingSegment(dataDir: string, from: number, to: number): MissingDataError {
  return new MissingDataError(dataDir, from, to, piece({ kind: 'log-missing', from, to }, undefined));
}
