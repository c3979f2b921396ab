/**
 * Retention in cluster mode (issue #31), in the batch node's cycle, in two
 * phases as embedded (`src/master/retention.ts`):
 *
 * 1. **Retire.** An object of the served chain (below the served cutoffs:
 *    no speed layer holds its events) whose events are all older than its
 *    type's horizon leaves its range, and the manifest lists it under
 *    `retired` with the generation after the served version's. The range
 *    stays, with its snapshot of the duplicate rule: nodes still resume
 *    there. The version records the generation (`retiredGeneration`), so
 *    the cycle that retires recomputes every view in full from what remains
 *    (`incremental-policy.ts` refuses to build on a version of another
 *    generation, as monoids do not subtract).
 * 2. **Delete.** A retired object whose grace period has passed is marked
 *    deleted in the next version, and deleted once that version is
 *    published; nodes forget their copies as they serve it. The sweep
 *    (`archive-sweep.ts`) spares retired objects while a kept version names
 *    them undeleted, and takes any that an interrupted delete left.
 *
 * A retired object of a keyed type leaves a key-only object (its key and
 * `_offset` columns) that stays for good: the duplicate rule resumed from
 * the archive (`PartitionArchive.resumeFilter`) loads it, so a node that
 * restarts drops a re-sent copy of a retired event as running nodes do.
 *
 * Objects leave whole, as embedded files do: a range holding one event newer
 * than the horizon (a late one) stays until that one is old too.
 *
 * A view with `keepAggregates` keeps frozen parts, as embedded, one file per
 * partition: the cycle that retires computes the view over the objects it
 * retires, and every later full cycle carries the served version's frozen
 * parts (an incremental one carries the whole entry). An erasure's cycle
 * writes again each carried part holding rows it splits off
 * (`src/batch/frozen-erasure.ts`, shared with the embedded engine): the new
 * file is uploaded with the version, and the old object, which no version
 * names any more, is erased with the older versions' objects.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { retentionHorizons, sqlIdentifier, sqlStringLiteral, type Catalog } from '../../definitions/index.ts';
import {
  computeViewFiles, eraseFrozenParts, frozenErasedFile, type BatchManifest, type BatchPart, type BatchSource, type FrozenErasing, type FrozenErasure,
} from '../../batch/index.ts';
import type { RetentionFigures } from '../../master/index.ts';
import { maxEventTime } from './event-times.ts';
import type { PartitionArchive } from './partition-archive.ts';
import type { ArchivedFile, ArchivedRange, RetiredArchiveFile, SharedManifest } from './shared-manifest.ts';

/** How long a retired object stays in the object store before phase 2 deletes it, unless `retentionGraceMs` says otherwise: one day (as embedded). */
export const DEFAULT_CLUSTER_RETENTION_GRACE_MS = 86_400_000;

/** What a cycle publishes of retention. */
export interface RetentionPlan {
  /** The chain the cycle computes from: the served one without the objects retired. */
  readonly chain: readonly ArchivedRange[];
  /** Whether this cycle retired objects: it recomputes every view in full, on the batch node alone (see `added`). */
  readonly retiring: boolean;
  /**
   * The objects this cycle retires. The chain it archives past no longer
   * holds their keys, and the served version's retired list not yet: the
   * batch node's archive is told (`PartitionArchive.retiring`), and no other
   * owner computes a part of this cycle, as its rule could miss them.
   */
  readonly added: readonly RetiredArchiveFile[];
  /** The manifest's fields: `retiredGeneration` and `retired`, none before anything retired. */
  readonly fields: Pick<SharedManifest, 'retiredGeneration' | 'retired'>;
  /** The retired objects to delete once the version is published (phase 2). */
  readonly deleting: readonly string[];
}

/** Where a retired object's keys are kept: beside the archive's objects, under a name no event type takes (`_`). */
export function retiredKeysBlob(blob: string): string {
  return blob.replace(/^master\//, 'master/_retired-keys/');
}

/** What retention took out so far, as a version's manifest lists it. */
export function retentionFigures(manifest: Pick<SharedManifest, 'retired'> | undefined): RetentionFigures {
  const retired = manifest?.retired ?? [];
  return { retiredFiles: retired.length, retiredEvents: retired.reduce((n, f) => n + f.rows, 0), awaitingDeletion: retired.filter((f) => f.deletedAt === undefined).length };
}

/** `manifest` with the frozen parts `frozen` gives per view. */
export function withFrozen<M extends BatchManifest>(manifest: M, frozen: ReadonlyMap<string, readonly BatchPart[]>): M {
  if (frozen.size === 0) return manifest;
  const views = { ...manifest.views };
  for (const [name, parts] of frozen) if (views[name] !== undefined) views[name] = { ...views[name], frozen: parts };
  return { ...manifest, views };
}

/** The erasures a cycle applies, as its frozen parts need them: the list, and a local copy of a served version's file by name. */
export interface FrozenErasures {
  readonly list: readonly FrozenErasing[];
  fetch(file: string): Promise<string>;
}

/** The batch node's side of retention: what a cycle retires and deletes. */
export class ClusterRetention {
  /** Each object's latest event time, by blob: objects never change. */
  readonly #maxTimes = new Map<string, number | null>();

  constructor(private readonly archive: PartitionArchive, private readonly connection: DuckDBConnection, private readonly dir: string) {}

  /**
   * What the cycle building on `served` retires of `chain` (the served chain
   * as compaction folded it) with the horizons of `catalog` at `now`, and
   * which retired objects it deletes. Nothing retires before a version is
   * served: the speed layers hold every event until then. `erased` is the
   * served retired list as an erasure of this cycle wrote it again
   * (`archive-erasure.ts`): the list this cycle's builds on.
   */
  async plan(
    chain: readonly ArchivedRange[], served: SharedManifest | undefined, catalog: Catalog, now: number, graceMs: number, erased?: readonly RetiredArchiveFile[],
  ): Promise<RetentionPlan> {
    const before = erased ?? served?.retired ?? [];
    const generation = served?.retiredGeneration ?? 0;
    const horizons = retentionHorizons(catalog, now);
    if (served === undefined || (horizons.size === 0 && before.length === 0)) return { chain, retiring: false, added: [], fields: {}, deleting: [] };
    const at = new Date(now).toISOString();
    const retiredNow: RetiredArchiveFile[] = [];
    const kept: ArchivedRange[] = [];
    for (const range of chain) {
      const files: Record<string, ArchivedFile> = {};
      for (const [eventType, f] of Object.entries(range.files)) {
        const horizon = horizons.get(eventType);
        const maxTime = horizon === undefined ? undefined : await this.#maxTime(catalog, eventType, f);
        // An object with no event time holds no event to keep.
        if (horizon === undefined || (maxTime !== undefined && maxTime !== null && maxTime >= horizon)) files[eventType] = f;
        else retiredNow.push(await this.#retire(catalog, range, eventType, f, maxTime ?? 0, generation + 1, at));
      }
      kept.push(Object.keys(files).length === Object.keys(range.files).length ? range : { ...range, files });
    }
    const due = now - graceMs;
    const deleting: string[] = [];
    const carried = before.map((r) => {
      if (r.deletedAt !== undefined || Date.parse(r.retiredAt) > due) return r;
      deleting.push(r.blob);
      return { ...r, deletedAt: at };
    });
    const retired = [...carried, ...retiredNow];
    const next = retiredNow.length === 0 ? generation : generation + 1;
    return {
      chain: retiredNow.length === 0 ? chain : kept, retiring: retiredNow.length > 0, added: retiredNow, deleting,
      fields: next === 0 ? {} : { retiredGeneration: next, retired },
    };
  }

  /**
   * The frozen parts of the views of `catalog` that keep their aggregates,
   * for a full cycle writing version `version` into `dir`: the served
   * version's (a view of the same definition; a part holding rows an
   * erasure of the cycle splits off is written again without them, read
   * through `erasing.fetch`), and one file per view and partition computed
   * over the objects this cycle retires (still stored: they are deleted only
   * after the grace period). An incremental cycle carries the served
   * entries, frozen parts included, and retires nothing. Resolves with the
   * parts per view and, per erasure, what it did to them.
   */
  async frozen(
    plan: RetentionPlan, catalog: Catalog, served: BatchManifest | undefined, dir: string, version: number, erasing?: FrozenErasures,
  ): Promise<{ parts: Map<string, BatchPart[]>; outcomes: Map<string, FrozenErasure[]> }> {
    const kept = [...catalog.views.values()].filter((v) => v.keepAggregates);
    const byPartition = new Map<number, Map<string, BatchSource>>();
    if (kept.length > 0) {
      for (const r of plan.added) {
        const byType = byPartition.get(r.partition) ?? new Map<string, BatchSource>();
        const source = byType.get(r.eventType) ?? { files: [], events: 0 };
        byType.set(r.eventType, { files: [...source.files, await this.archive.copyOf(r)], events: source.events + r.rows });
        byPartition.set(r.partition, byType);
      }
    }
    const parts = new Map<string, BatchPart[]>();
    const outcomes = new Map<string, FrozenErasure[]>();
    for (const view of kept) {
      const before = served?.views[view.name];
      // A changed definition is refused while it has frozen parts (`frozen_aggregates`): one that differs has none to carry.
      const erased = await eraseFrozenParts(this.connection, view, before?.hash === view.hash ? before.frozen ?? [] : [], erasing?.list ?? [], {
        source: (part) => erasing!.fetch(part.file!),
        target: (part) => join(dir, frozenErasedFile(part.file!, version)),
      });
      for (const [id, outcome] of erased.outcomes) outcomes.set(id, [...(outcomes.get(id) ?? []), outcome]);
      const carried = erased.parts;
      const fileOf = (p: number) => `${view.name}.p${String(p).padStart(3, '0')}.frozen-v${String(version).padStart(8, '0')}.parquet`;
      const computed = byPartition.size === 0 ? [] : await computeViewFiles({ connection: this.connection, byPartition, cutoff: Number.MAX_SAFE_INTEGER }, view, dir, fileOf);
      const added = computed.map((f): BatchPart => ({ file: f.file, rows: f.rows, ...(f.partition === undefined ? {} : { partition: f.partition }), ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }) }));
      if (carried.length + added.length > 0) parts.set(view.name, [...carried, ...added]);
    }
    return { parts, outcomes };
  }

  /** Deletes the objects phase 2 took out, once the version that marks them deleted is published; resolves with their names. */
  async deleteRetired(plan: RetentionPlan): Promise<readonly string[]> {
    await this.archive.deleteObjects(plan.deleting);
    return plan.deleting;
  }

  async #maxTime(catalog: Catalog, eventType: string, f: ArchivedFile): Promise<number | null> {
    if (f.maxTime !== undefined) return f.maxTime;
    const known = this.#maxTimes.get(f.blob);
    if (known !== undefined) return known;
    const max = await maxEventTime(this.connection, catalog, eventType, await this.archive.copyOf(f));
    this.#maxTimes.set(f.blob, max);
    return max;
  }

  /** The record of `f` retired, with its key-only object written and stored first (keyed types). */
  async #retire(catalog: Catalog, range: ArchivedRange, eventType: string, f: ArchivedFile, maxTime: number, generation: number, retiredAt: string): Promise<RetiredArchiveFile> {
    const key = catalog.eventTypes.get(eventType)?.idempotencyKey;
    const record = { eventType, partition: range.partition, from: range.from, to: range.to, blob: f.blob, rows: f.rows, sha256: f.sha256, maxTime, generation, retiredAt };
    if (key === undefined) return record;
    const blob = retiredKeysBlob(f.blob);
    const file = join(this.dir, 'cache', blob);
    await mkdir(dirname(file), { recursive: true });
    const source = await this.archive.copyOf(f);
    await this.connection.run(`COPY (SELECT ${sqlIdentifier(key.name)}, _offset FROM read_parquet(${sqlStringLiteral(source)})) TO ${sqlStringLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
    return { ...record, keys: { blob, sha256: await this.archive.store(blob, file) } };
  }
}
