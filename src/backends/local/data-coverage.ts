/**
 * Which offsets the data directory holds, and where it should hold them.
 *
 * Every acknowledged offset lives in at least one place the layers read:
 * below the published batch cutoff the batch layer reads the master
 * dataset's Parquet files (listed by segment manifests), and from the cutoff
 * on the speed layer replays the event log. So the manifests must tile
 * `[0, max(cutoff, their end))` exactly once, and the log's segments must
 * tile `[cutoff, log end)`. A stretch that breaks either would be an answer
 * silently short; this module finds such stretches, and the engine refuses
 * to serve over them (or, where the only missing piece is the batch layer's
 * own derived data, rebuilds it).
 *
 * @module
 */

/** Offsets `[base, end)` held by one file. */
export interface OffsetRange {
  readonly base: number;
  readonly end: number;
}

/**
 * A stretch of offsets missing from where a layer reads them: from the
 * master dataset (no manifest covers it), or from the log (no segment does),
 * or held twice by the master dataset's manifests.
 */
export interface CoverageGap {
  readonly kind: 'master-missing' | 'master-overlap' | 'log-missing';
  readonly from: number;
  readonly to: number;
}

/**
 * The stretches that break coverage, in offset order.
 *
 * @param master the segment manifests' ranges
 * @param log the log's segments with their true extents (as read, not as named)
 * @param cutoff the published batch cutoff (0 before any)
 * @param logEnd one past the last offset in the log
 *
 * @example
 * ```ts
 * coverageGaps([{ base: 0, end: 500 }, { base: 1000, end: 1500 }], [{ base: 1500, end: 1600 }], 1500, 1600);
 * // [{ kind: 'master-missing', from: 500, to: 1000 }]
 * ```
 */
export function coverageGaps(master: readonly OffsetRange[], log: readonly OffsetRange[], cutoff: number, logEnd: number): CoverageGap[] {
  const masterEnd = Math.max(cutoff, ...master.filter((m) => m.end > m.base).map((m) => m.end));
  return [...tilingGaps(master, 0, masterEnd, 'master-missing', 'master-overlap'), ...tilingGaps(log, cutoff, logEnd, 'log-missing')]
    .sort((a, b) => a.from - b.from || a.to - b.to);
}

/** Where `ranges` fail to cover `[from, to)` exactly once; overlaps are reported only when `overlap` names them. */
function tilingGaps(ranges: readonly OffsetRange[], from: number, to: number, missing: CoverageGap['kind'], overlap?: CoverageGap['kind']): CoverageGap[] {
  const gaps: CoverageGap[] = [];
  let next = from;
  for (const range of [...ranges].filter((r) => r.end > r.base).sort((a, b) => a.base - b.base || a.end - b.end)) {
    if (range.end <= from || range.base >= to) continue;
    if (range.base > next) gaps.push({ kind: missing, from: next, to: range.base });
    else if (range.base < next && overlap !== undefined) gaps.push({ kind: overlap, from: range.base, to: Math.min(next, range.end) });
    next = Math.max(next, range.end);
  }
  if (next < to) gaps.push({ kind: missing, from: next, to });
  return gaps;
}
