/**
 * `tandem repair` for the master dataset's manifests: a manifest missing
 * below the published cutoff (or below the newest manifest) is written again
 * from its Parquet files where they survive; a stretch that neither Parquet
 * files nor the log hold is recorded as lost, in a manifest of its own, so
 * that every offset stays accounted for and answers say exactly what they
 * hold. A stretch the log still holds is left to the engine, which exports
 * it again when it opens.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LogRepair } from '../log/index.ts';
import { mkdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sqlStringLiteral } from '../definitions/index.ts';
import { CorruptMasterFileError } from './errors.ts';
import { readSegmentManifests, rebuildSegmentManifest, verifyMasterFiles, writeSegmentManifest } from './master-integrity.ts';
import type { SegmentManifest } from './master-layout.ts';
import { manifestGaps, manifestPath, parquetRangesWithin, type Stretch } from './manifest-gaps.ts';

/** The parts of `gap` that none of `held` covers. */
function uncovered(gap: Stretch, held: readonly Stretch[]): Stretch[] {
  const parts: Stretch[] = [];
  let next = gap.base;
  for (const h of [...held].sort((a, b) => a.base - b.base)) {
    if (h.end <= next || h.base >= gap.end) continue;
    if (h.base > next) parts.push({ base: next, end: h.base });
    next = Math.max(next, h.end);
  }
  if (next < gap.end) parts.push({ base: next, end: gap.end });
  return parts;
}

/**
 * Repairs the manifests of `masterDir` below `upTo`, given the stretches the
 * log still holds; resolves with what it did and the manifests afterwards.
 *
 * @example
 * ```ts
 * const { repairs } = await repairManifests('./data/master', connection, 30_000, [{ base: 30_000, end: 31_000 }]);
 * ```
 */
export async function repairManifests(masterDir: string, connection: DuckDBConnection, upTo: number, inLog: readonly Stretch[], quarantineDir: string): Promise<{ repairs: LogRepair[]; manifests: SegmentManifest[] }> {
  const { manifests, damaged } = await readSegmentManifests(masterDir);
  const repairs: LogRepair[] = [];
  const done = (file: string, action: string, lost: [number, number][] = []) => repairs.push({ file, lost, reasons: [lost.length > 0 ? 'no copy of these offsets survives' : 'it was missing or damaged'], quarantined: null, restoredFrom: null, action });
  for (const d of damaged) {
    const rebuilt = await rebuildSegmentManifest(masterDir, d, connection).catch(() => undefined);
    if (rebuilt === undefined) continue;
    manifests.push(rebuilt);
    done(d.file, 'written again from its Parquet files');
  }
  for (const gap of manifestGaps(manifests, upTo)) {
    for (const range of await parquetRangesWithin(masterDir, gap)) {
      const file = manifestPath(masterDir, range.base, range.end);
      const rebuilt = await rebuildSegmentManifest(masterDir, { file, ...range, reason: 'it is missing' }, connection).catch(() => undefined);
      if (rebuilt === undefined) continue;
      manifests.push(rebuilt);
      done(file, 'written again from its Parquet files');
    }
  }
  for (const [i, manifest] of manifests.entries()) {
    // A damaged Parquet file the log no longer holds: the other types' files stay, and only its offsets are lost.
    if (uncovered(manifest, inLog).length === 0) continue;
    const damage = await verifyMasterFiles(masterDir, [manifest]).then(() => undefined, (error: unknown) => error);
    if (!(damage instanceof CorruptMasterFileError)) continue;
    manifests[i] = await withoutDamagedFiles(masterDir, connection, manifest, quarantineDir);
    done(damage.file, 'set aside; the offsets it held are recorded as lost in its manifest', [...(manifests[i]!.lost ?? [])].filter((r) => !(manifest.lost ?? []).some((l) => l[0] === r[0] && l[1] === r[1])) as [number, number][]);
  }
  for (const gap of manifestGaps(manifests, upTo)) {
    for (const part of uncovered(gap, inLog)) {
      const manifest: SegmentManifest = { base: part.base, end: part.end, files: {}, lost: [[part.base, part.end]] };
      await writeSegmentManifest(masterDir, manifest);
      manifests.push(manifest);
      done(manifestPath(masterDir, part.base, part.end), 'recorded as lost', [[part.base, part.end]]);
    }
  }
  return { repairs, manifests: manifests.sort((a, b) => a.base - b.base) };
}

/**
 * `manifest` without its damaged or missing files (moved to `quarantineDir`),
 * the offsets they held recorded as lost: every offset of its range that no
 * whole file holds and no earlier lost range names.
 */
async function withoutDamagedFiles(masterDir: string, connection: DuckDBConnection, manifest: SegmentManifest, quarantineDir: string): Promise<SegmentManifest> {
  const files: Record<string, SegmentManifest['files'][string]> = {};
  for (const [type, file] of Object.entries(manifest.files)) {
    const whole = await verifyMasterFiles(masterDir, [{ ...manifest, files: { [type]: file } }]).then(() => true, () => false);
    if (whole) files[type] = file;
    else {
      await mkdir(quarantineDir, { recursive: true });
      await rename(join(masterDir, file.path), join(quarantineDir, `${type}-${basename(file.path)}.${Date.now()}`)).catch(() => undefined);
    }
  }
  const kept = Object.values(files).map((f) => sqlStringLiteral(join(masterDir, f.path)));
  const offsets = kept.length === 0 ? [] : (await connection.runAndReadAll(`SELECT _offset FROM read_parquet([${kept.join(', ')}]) ORDER BY _offset`)).getRows().map(([o]) => Number(o));
  const held = [...offsets.map((o) => ({ base: o, end: o + 1 })), ...(manifest.lost ?? []).map(([base, end]) => ({ base, end }))];
  const lost = [...(manifest.lost ?? []), ...uncovered(manifest, held).map(({ base, end }): [number, number] => [base, end])].sort((a, b) => a[0] - b[0]);
  const repaired: SegmentManifest = { base: manifest.base, end: manifest.end, files, lost };
  await writeSegmentManifest(masterDir, repaired);
  return repaired;
}
