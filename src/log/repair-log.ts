/**
 * Salvage of a damaged log. A sealed segment with a whole export in the
 * master dataset is rebuilt from it (see {@link RestoreSegment}). Otherwise
 * every intact frame is kept, and each unreadable stretch becomes a "lost
 * range" frame (no event type, no rows) covering exactly the offsets it held. Offsets stay gap-free, so nothing downstream
 * (sealed ranges, the batch cutoff, the speed layer's split) needs to know
 * about damage; the lost events are simply absent from every layer alike.
 *
 * A copy of the original goes to a quarantine directory, never deleted: it
 * may still be restored from, or inspected.
 *
 * @module
 */
import { mkdir, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { syncDirectory } from '../util/sync-directory.ts';
import { encodeFrame } from './frame.ts';
import { scanSegmentBytes } from './segment-scan.ts';
import { listSegmentBases, segmentPath } from './segment-files.ts';

/** The event type of a frame that stands for offsets whose events were lost to damage. */
export const LOST_RANGE_TYPE = '';

/**
 * What repair did to one file.
 *
 * @example
 * ```ts
 * for (const { file, lost, quarantined } of await Tandem.repair('./data')) console.log(file, lost, quarantined);
 * ```
 */
export interface LogRepair {
  readonly file: string;
  /** Offsets whose events could not be read, as [from, to) ranges; empty for a torn tail cut off. */
  readonly lost: readonly (readonly [number, number])[];
  readonly reasons: readonly string[];
  /** Where a copy of the original is kept, or null when only a torn tail was cut off. */
  readonly quarantined: string | null;
  /** The export the segment was rebuilt from, whole, or null when it was salvaged from the log alone. */
  readonly restoredFrom: string | null;
  /** What was done, for a repair other than a salvage of a damaged segment (a missing file written again, say). */
  readonly action?: string;
  /** Set when every event from this offset on was lost and how many there were is not known (the newest segment went missing). */
  readonly lostFrom?: number;
}

/**
 * Rebuilds a sealed segment `[base, end)` from a copy kept elsewhere (its
 * export to the master dataset), or gives undefined when there is none.
 */
export type RestoreSegment = (base: number, end: number) => Promise<{ frames: Buffer[]; source: string } | undefined>;

interface Salvage {
  /** The segment's frames in offset order: intact ones re-encoded, and one per lost range. */
  readonly frames: Buffer[];
  readonly lost: [number, number][];
  readonly reasons: string[];
  /** Set when the only problem is an unreadable tail with nothing intact after it (the active segment's torn write). */
  readonly tornAt: number | undefined;
}

/**
 * Walks a segment, bridging each damaged stretch to the next intact frame.
 * `end` is the segment's known end (the next segment's first offset), or
 * undefined for the active segment, whose unreadable tail is a torn write.
 */
function salvage(buffer: Buffer, base: number, end: number | undefined): Salvage {
  const result: Salvage = { frames: [], lost: [], reasons: [], tornAt: undefined };
  const lose = (from: number, to: number) => {
    result.lost.push([from, to]);
    result.frames.push(encodeFrame(LOST_RANGE_TYPE, from, to - from, Buffer.alloc(0)));
  };
  let offset = base;
  let position = 0;
  for (;;) {
    const scan = scanSegmentBytes(buffer.subarray(position), offset);
    for (const f of scan.frames) result.frames.push(encodeFrame(f.eventType, f.firstOffset, f.count, f.payload));
    offset = scan.end;
    if (scan.problem === undefined) break;
    const at = position + scan.validBytes;
    result.reasons.push(`${scan.problem} at byte ${at}`);
    const next = scan.resumesAt;
    if (next === undefined) {
      if (end === undefined && result.reasons.length === 1) return { ...result, tornAt: at };
      break;
    }
    if (next.frame.firstOffset > offset) lose(offset, next.frame.firstOffset);
    offset = next.frame.firstOffset;
    position += next.position;
  }
  if (end !== undefined && offset < end) lose(offset, end);
  return result;
}

/**
 * Repairs every damaged segment in `logDir`, moving originals to
 * `quarantineDir`. Must run with the data directory locked and no engine open.
 *
 * @example
 * ```ts
 * const repairs = await repairLog('./data/log', './data/quarantine');
 * for (const r of repairs) console.log(r.file, r.lost);
 * ```
 */
export async function repairLog(logDir: string, quarantineDir: string, restore?: RestoreSegment): Promise<LogRepair[]> {
  // A salvaged file not yet renamed into place is from a repair that crashed: the original is still there.
  for (const name of await readdir(logDir)) if (name.endsWith('.repair')) await rm(join(logDir, name), { force: true });
  const bases = await listSegmentBases(logDir);
  const repairs: LogRepair[] = [];
  for (const [i, base] of bases.entries()) {
    const path = segmentPath(logDir, base);
    const buffer = await readFile(path);
    const found = salvage(buffer, base, bases[i + 1]);
    if (found.reasons.length === 0) continue;
    if (found.tornAt !== undefined) {
      await truncate(path, found.tornAt);
      repairs.push({ file: path, lost: [], reasons: found.reasons, quarantined: null, restoredFrom: null });
      continue;
    }
    const end = bases[i + 1];
    const restored = end === undefined ? undefined : await restore?.(base, end);
    // Crash-safe order: the original is copied to quarantine and made durable first, then the salvaged
    // file replaces it in one atomic rename, so a crash leaves either the damaged file or the repaired one.
    await mkdir(quarantineDir, { recursive: true });
    const quarantined = join(quarantineDir, `${basename(path)}.${Date.now()}`);
    await writeFile(quarantined, buffer, { flush: true });
    await syncDirectory(quarantineDir);
    await writeFile(`${path}.repair`, Buffer.concat(restored?.frames ?? found.frames), { flush: true });
    await rename(`${path}.repair`, path);
    await syncDirectory(logDir);
    repairs.push({ file: path, lost: restored === undefined ? found.lost : [], reasons: found.reasons, quarantined, restoredFrom: restored?.source ?? null });
  }
  return repairs;
}
