/**
 * Stretches of offsets no segment manifest covers, and the Parquet files
 * found for them: a manifest deleted while its files stayed can be written
 * again from those files (as a damaged one is), with nothing lost.
 *
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { rangeName, segmentManifestDir, type SegmentManifest } from './master-layout.ts';

const PARQUET_NAME = /^(\d{20})-(\d{20})\.parquet$/;

/** Offsets `[base, end)`. */
export interface Stretch {
  readonly base: number;
  readonly end: number;
}

/** The stretches of `[0, upTo)` (and below the manifests' own end) that no manifest covers, in order. */
export function manifestGaps(manifests: readonly SegmentManifest[], upTo: number): Stretch[] {
  const end = Math.max(upTo, ...manifests.map((m) => m.end));
  const gaps: Stretch[] = [];
  let next = 0;
  for (const m of [...manifests].sort((a, b) => a.base - b.base)) {
    if (m.base > next) gaps.push({ base: next, end: m.base });
    next = Math.max(next, m.end);
  }
  if (next < end) gaps.push({ base: next, end });
  return gaps;
}

/** The end of the unbroken run of `ranges` that starts at `from` (`from` itself when none starts there). */
export function exportedThrough(ranges: readonly Stretch[], from: number): number {
  const endOf = new Map(ranges.map((r) => [r.base, r.end]));
  let end = from;
  for (let next = endOf.get(end); next !== undefined && next > end; next = endOf.get(end)) end = next;
  return end;
}

/** The ranges inside `gap` that some event type's Parquet file is named for, in order. */
export async function parquetRangesWithin(masterDir: string, gap: Stretch): Promise<Stretch[]> {
  const ranges = new Map<string, Stretch>();
  const types = (await readdir(masterDir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith('_'));
  for (const type of types) {
    for (const name of await readdir(join(masterDir, type.name)).catch(() => [] as string[])) {
      const match = PARQUET_NAME.exec(name);
      if (match === null) continue;
      const base = Number(match[1]);
      const end = Number(match[2]);
      if (base >= gap.base && end <= gap.end && end > base) ranges.set(rangeName(base, end), { base, end });
    }
  }
  return [...ranges.values()].sort((a, b) => a.base - b.base);
}

/** Where the manifest of `[base, end)` is written. */
export function manifestPath(masterDir: string, base: number, end: number): string {
  return join(segmentManifestDir(masterDir), `${rangeName(base, end)}.json`);
}
