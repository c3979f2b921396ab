/**
 * Retention of the master dataset (issue #31), in two phases like Druid's
 * drop rule and kill task:
 *
 * 1. **Retire.** A Parquet file whose events are all older than its event
 *    type's horizon leaves its segment manifest, which records it under
 *    `retired` with the generation that retired it, and moves to
 *    `<master>/_retired/`. The batch layer no longer reads it: the cycle that
 *    retires it recomputes the views of the type from what remains (and a
 *    view that keeps its aggregates folds the file into a frozen part first).
 * 2. **Delete.** Once a published batch version accounts for the generation
 *    and the grace period has passed, the file is deleted and the record
 *    says when.
 *
 * Files leave whole: the master dataset is cut by log offset, so a file that
 * holds one event newer than the horizon (a late event, say) stays until
 * that one is old too. The manifest is written before the file moves, so a
 * crash between leaves a move that the next open finishes.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sqlIdentifier, sqlStringLiteral, type Catalog } from '../definitions/index.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { manifestFiles, type MasterFile, type RetiredFile, type SegmentManifest } from './master-layout.ts';

export type { RetiredFile } from './master-layout.ts';

/** Where retired files wait for their deletion, under the master directory; `_` keeps it from being taken for an event type. */
export const RETIRED_DIR = '_retired';

/** A file due to retire: in the segment starting at `base`, all its events older than its type's horizon. */
export interface RetirementCandidate {
  readonly base: number;
  readonly eventType: string;
  readonly file: MasterFile;
  readonly maxTime: number;
}

/** A segment manifest's retired files; none in manifests written before retention. */
export function retiredFiles(manifest: SegmentManifest): readonly RetiredFile[] {
  return manifest.retired ?? [];
}

/**
 * Each file's latest event time, read once per file with DuckDB (a file never
 * changes once written) and kept: a cycle asks again for every file of a
 * type with a retention.
 */
export class MaxTimes {
  readonly #known = new Map<string, number | null>();

  constructor(private readonly connection: DuckDBConnection, private readonly catalog: Catalog, private readonly masterDir: string) {}

  async of(eventType: string, file: MasterFile): Promise<number | null> {
    const known = this.#known.get(file.path);
    if (known !== undefined) return known;
    const time = this.catalog.eventTypes.get(eventType)?.time.name;
    if (time === undefined) return null;
    const path = join(this.masterDir, file.path);
    const read = await this.connection.runAndReadAll(`SELECT epoch_ms(max(${sqlIdentifier(time)})) FROM read_parquet(${sqlStringLiteral(path)})`);
    const value = read.getRows()[0]?.[0];
    const max = value === null || value === undefined ? null : Number(value);
    this.#known.set(file.path, max);
    return max;
  }
}

/**
 * The files of segments ending at or below `below` (the served cutoff: the
 * speed layer holds nothing of them) whose events are all older than their
 * type's horizon in `horizons`.
 */
export async function retirementCandidates(
  segments: readonly SegmentManifest[], below: number, horizons: ReadonlyMap<string, number>, maxTimes: MaxTimes,
): Promise<RetirementCandidate[]> {
  const candidates: RetirementCandidate[] = [];
  for (const segment of segments) {
    if (segment.end > below) continue;
    for (const { eventType, file } of manifestFiles(segment)) {
      const horizon = horizons.get(eventType);
      if (horizon === undefined) continue;
      const maxTime = await maxTimes.of(eventType, file);
      // An empty file holds no event to keep.
      if (maxTime === null || maxTime < horizon) candidates.push({ base: segment.base, eventType, file, maxTime: maxTime ?? 0 });
    }
  }
  return candidates;
}

/** `manifest` without `candidates`' files, which its `retired` records instead. */
export function withRetired(manifest: SegmentManifest, candidates: readonly RetirementCandidate[], generation: number, at: Date): SegmentManifest {
  const leaving = new Set(candidates.map((c) => c.file.path));
  const files = Object.fromEntries(Object.entries(manifest.files).filter(([, f]) => !leaving.has(f.path)));
  const history = manifest.history?.map((h) => ({ ...h, files: h.files.filter((f) => !leaving.has(f.path)) }));
  const retired: RetiredFile[] = [...retiredFiles(manifest), ...candidates.map((c) => ({
    eventType: c.eventType, from: c.file.path, path: join(RETIRED_DIR, c.file.path), rows: c.file.rows, sha256: c.file.sha256,
    maxTime: c.maxTime, generation, retiredAt: at.toISOString(),
  }))];
  return { ...manifest, files, ...(history === undefined ? {} : { history }), retired };
}

/** Moves a retired file to where its record says, unless it is there already (a move a crash cut short is finished so). */
export async function moveRetired(masterDir: string, file: RetiredFile): Promise<void> {
  const from = join(masterDir, file.from);
  const to = join(masterDir, file.path);
  if (file.deletedAt !== undefined || !(await exists(from))) return;
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
  await syncDirectory(dirname(from));
  await syncDirectory(dirname(to));
}

/** Deletes a retired file (phase 2); one already gone is no error. */
export async function deleteRetired(masterDir: string, file: RetiredFile): Promise<void> {
  await rm(join(masterDir, file.from), { force: true });
  await rm(join(masterDir, file.path), { force: true });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
