/**
 * `tandem repair`: brings a data directory back to one where every offset is
 * held where the layers read it, from whatever copy survives, recording a
 * lost range only where none does.
 *
 * 1. Damaged log segments are salvaged, or rebuilt whole from their Parquet
 *    export (`repairLog`).
 * 2. `batch/CURRENT`, missing or damaged, points at the newest whole version.
 * 3. Missing segment manifests are written again from their Parquet files;
 *    stretches neither Parquet nor the log holds are recorded as lost.
 * 4. Stretches the log must hold (from the cutoff on) and does not are
 *    rebuilt from their Parquet export, or written as lost-range frames.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalVersionStore } from '../../batch/index.ts';
import { encodeFrame, KeySnapshot, listSegmentBases, LOST_RANGE_TYPE, readActiveBase, repairLog, scanSegment, segmentPath, type LogRepair } from '../../log/index.ts';
import { repairManifests, restoreSegment, type SegmentManifest } from '../../master/index.ts';
import type { DataDirectory } from '../../util/data-directory.ts';
import { syncDirectory } from '../../util/sync-directory.ts';
import { coverageGaps, type OffsetRange } from './data-coverage.ts';

/**
 * Repairs `dirs` (locked, no engine open); resolves with what was done, file
 * by file.
 *
 * @example
 * ```ts
 * for (const r of await repairDataDirectory(dataDirectory('./data'), connection)) console.log(r.file, r.action ?? r.lost);
 * ```
 */
export async function repairDataDirectory(dirs: DataDirectory, connection: DuckDBConnection): Promise<LogRepair[]> {
  // The keys' snapshot may hold keys of events a repair finds lost: the next open reads them from what survives.
  await KeySnapshot.remove(dirs.keys);
  const repairs = await repairLog(dirs.log, dirs.quarantine, (base, end) => restoreSegment(connection, dirs.master, base, end));
  const newest = await repairNewestSegment(dirs.log);
  if (newest !== undefined) repairs.push(newest);
  const { cutoff, repair } = await repairCurrent(dirs.batch);
  if (repair !== undefined) repairs.push(repair);
  const extents = await logExtents(dirs.log);
  const master = await repairManifests(dirs.master, connection, cutoff, extents, dirs.quarantine);
  repairs.push(...master.repairs);
  repairs.push(...await repairLogGaps(dirs.log, dirs.master, connection, master.manifests, extents, cutoff));
  // Views computed before a loss still count the lost events: set them aside, so that the next open computes them anew.
  if (master.repairs.some((r) => r.lost.some(([from]) => from < cutoff))) repairs.push(await setAsideBatch(dirs));
  return repairs;
}

async function setAsideBatch(dirs: DataDirectory): Promise<LogRepair> {
  await mkdir(dirs.quarantine, { recursive: true });
  const kept = join(dirs.quarantine, `batch.${Date.now()}`);
  await rename(dirs.batch, kept);
  return { file: dirs.batch, lost: [], reasons: ['its views count events now lost'], quarantined: kept, restoredFrom: null, action: 'set aside, to be computed anew from the master dataset at the next start' };
}

/** Points a missing or damaged `CURRENT` at the newest whole version; resolves with the cutoff the batch layer holds. */
async function repairCurrent(batchDir: string): Promise<{ cutoff: number; repair?: LogRepair }> {
  const store = new LocalVersionStore(batchDir);
  await store.init();
  const current = await store.current().catch(() => undefined);
  if (current !== undefined) return { cutoff: current.manifest.cutoff };
  const newest = await store.newestValid();
  if (newest === undefined) return { cutoff: 0 };
  await store.point(newest.manifest.version);
  const repair: LogRepair = {
    file: store.dirOf(newest.manifest.version).replace(/[^/\\]*$/, 'CURRENT'), lost: [], reasons: ['it was missing or damaged'], quarantined: null, restoredFrom: null,
    action: `pointed at version ${newest.manifest.version}, the newest whole one`,
  };
  return { cutoff: newest.manifest.cutoff, repair };
}

/** A newest segment that `log/ACTIVE` records and the disk lacks: written empty there, so the log goes on past what it held. */
async function repairNewestSegment(logDir: string): Promise<LogRepair | undefined> {
  const recorded = await readActiveBase(logDir);
  const bases = await listSegmentBases(logDir).catch(() => [] as number[]);
  if (recorded === undefined || recorded <= (bases.at(-1) ?? -1)) return undefined;
  const repair = await writeSegment(logDir, recorded, [], 'written empty: the events the missing newest segment held are gone, and how many is not known', []);
  return { ...repair, lostFrom: recorded };
}

/** Each log segment's offsets as its frames hold them, not as the next segment's name implies. */
async function logExtents(logDir: string): Promise<OffsetRange[]> {
  const extents: OffsetRange[] = [];
  for (const base of await listSegmentBases(logDir).catch(() => [] as number[])) {
    extents.push({ base, end: (await scanSegment(segmentPath(logDir, base), base)).end });
  }
  return extents;
}

/**
 * Writes the log segments missing from `cutoff` on: rebuilt from a manifest
 * that covers exactly their stretch, else one lost-range frame. A log that
 * ends before what the master dataset or the batch layer holds gets an
 * empty segment there, so that no offset is handed out twice.
 */
async function repairLogGaps(logDir: string, masterDir: string, connection: DuckDBConnection, manifests: readonly SegmentManifest[], extents: readonly OffsetRange[], cutoff: number): Promise<LogRepair[]> {
  const repairs: LogRepair[] = [];
  const held = Math.max(cutoff, ...manifests.map((m) => m.end));
  const logEnd = Math.max(0, ...extents.map((e) => e.end));
  const gaps = coverageGaps([], extents, cutoff, Math.max(logEnd, held)).filter((g) => g.kind === 'log-missing');
  for (const gap of gaps) {
    let next = gap.from;
    for (const m of manifests.filter((m) => m.base >= gap.from && m.end <= gap.to)) {
      if (m.base > next) repairs.push(await writeLost(logDir, next, m.base));
      const restored = await restoreSegment(connection, masterDir, m.base, m.end);
      repairs.push(restored === undefined ? await writeLost(logDir, m.base, m.end) : await writeSegment(logDir, m.base, restored.frames, `rebuilt from its Parquet export (${restored.source})`, []));
      next = m.end;
    }
    if (next < gap.to) repairs.push(await writeLost(logDir, next, gap.to));
  }
  if (Math.max(logEnd, ...gaps.map((g) => g.to)) < held) repairs.push(await writeSegment(logDir, held, [], 'written empty where the log must go on, past every offset the batch layer and the master dataset hold', []));
  return repairs;
}

function writeLost(logDir: string, from: number, to: number): Promise<LogRepair> {
  return writeSegment(logDir, from, [encodeFrame(LOST_RANGE_TYPE, from, to - from, Buffer.alloc(0))], 'recorded as lost', [[from, to]]);
}

/** Writes a segment whole, crash-safe: a `.repair` file renamed into place (a crashed repair's is removed by the next). */
async function writeSegment(logDir: string, base: number, frames: readonly Buffer[], action: string, lost: [number, number][]): Promise<LogRepair> {
  const path = segmentPath(logDir, base);
  await writeFile(`${path}.repair`, Buffer.concat(frames), { flush: true });
  await rename(`${path}.repair`, path);
  await syncDirectory(logDir);
  return { file: path, lost, reasons: [lost.length > 0 ? 'no copy of these offsets survives' : 'it was missing'], quarantined: null, restoredFrom: null, action };
}
