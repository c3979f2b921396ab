/**
 * The batch tables a node serves in cluster mode (issue #28): only those of
 * the partitions it reads. A divided cycle writes one file per view and
 * partition (`part-compute.ts`), so a node loads its own partitions' files
 * and no other, and its memory falls as nodes are added; a query asks the
 * other partitions' owners for their batch states beside their speed states
 * (`speed-gather.ts`), and merges them by the same monoids.
 *
 * A partition's files hold partial aggregates: a view with few series has
 * about the same rows in every partition. So a node merges the partitions it
 * owns into one store (per view one base table and one table per cycle),
 * and its memory and reading cost are those of one copy of each series'
 * buckets, not one per partition. The other partitions it reads (taken up
 * since, or stood by for) are a store each. An answer over some of a
 * store's partitions only (one let go, or one the node cannot read whole
 * for now) reads those partitions merged anew from their files, loaded once
 * and kept for the next answers. A version of an earlier release (one file
 * per view over every partition) is served whole, as before, until the next
 * cycle, which recomputes everything partitioned.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { AggregateTable } from '../../aggregates/index.ts';
import { InMemoryBatchViews, loadViewFiles, type BatchManifest, type BatchPart, type BatchViewEntry, type BatchViewStore, type ViewFile } from '../../batch/index.ts';
import { BatchStoresTogether } from './batch-stores-together.ts';
import type { Catalog } from '../../definitions/index.ts';

/** Whether every file of `manifest` is one partition's: each node can then load its own alone. */
export function isPartitioned(manifest: BatchManifest): boolean {
  return Object.values(manifest.views).every((e) => e.file === null && [...(e.parts ?? []), ...(e.frozen ?? []), ...(e.deltas ?? [])].every((f) => f.file === null || f.partition !== undefined));
}

/** The file names of `manifest` that partitions `ps` need. */
export function filesOfPartitions(manifest: BatchManifest, ps: ReadonlySet<number>): Set<string> {
  const names = new Set<string>();
  for (const entry of Object.values(manifest.views)) {
    for (const f of [...(entry.parts ?? []), ...(entry.frozen ?? []), ...(entry.deltas ?? [])]) if (f.file !== null && f.partition !== undefined && ps.has(f.partition)) names.add(f.file);
  }
  return names;
}

/** Partitions whose batch tables are held merged, in one store. */
interface Group {
  /** The partitions the store's tables hold. */
  readonly partitions: ReadonlySet<number>;
  /** Those of them this node still serves: a partition let go stays in the tables until they are loaded again without it. */
  readonly live: ReadonlySet<number>;
  readonly loaded: LoadedStore;
}

/** A store as loaded: its tables, and per view a key of each table's files, by which the next version keeps it. */
export interface LoadedStore {
  readonly store: InMemoryBatchViews;
  readonly keys: ReadonlyMap<string, readonly string[]>;
}

/** Loads some partitions' tables merged into one store. */
export type StoreLoader = (ps: readonly number[], previous?: InMemoryBatchViews) => Promise<LoadedStore>;

/**
 * Stores of parts of a group, loaded for answers that read only those
 * partitions, by the group's store: shared by every state of one version. A
 * load is kept from when it starts, so that answers asking for the same
 * part at once wait for one load.
 */
type PartLoads = WeakMap<InMemoryBatchViews, Map<string, { loading: Promise<LoadedStore>; loaded?: LoadedStore }>>;

const setKey = (ps: Iterable<number>): string => [...ps].sort((a, b) => a - b).join(',');

/**
 * The batch tables of one version on one node: stores of the partitions it
 * serves; or one store of every partition for a version of an earlier release.
 *
 * @example
 * ```ts
 * const batch = await loadPartitionBatch(connection, catalog, manifest, dir, { serving: [0, 3, 5], together: new Set([0, 3]) });
 * batch.has(3);                        // true: this node answers for partition 3's batch states
 * await batch.prepare([0, 5]);         // partition 0 alone of the merged store {0, 3}: loaded once
 * batch.storeFor([0, 5])!.tables('sales');
 * ```
 */
export class PartitionBatch implements BatchViewStore {
  constructor(
    readonly manifest: BatchManifest,
    private readonly groups: readonly Group[],
    private readonly load?: StoreLoader,
    /** A version of an earlier release, served whole. */
    private readonly whole?: InMemoryBatchViews,
    private readonly parts: PartLoads = new WeakMap(),
  ) {}

  /** A version of an earlier release, served whole by every node. */
  static whole(manifest: BatchManifest, store: InMemoryBatchViews): PartitionBatch {
    return new PartitionBatch(manifest, [], undefined, store);
  }

  /** Whether the version is served per partition (else whole, by every node). */
  get partitioned(): boolean {
    return this.whole === undefined;
  }

  /** The one store of a version served whole (of an earlier release). */
  get wholeStore(): InMemoryBatchViews | undefined {
    return this.whole;
  }

  /** Whether this node holds partition `p`'s batch tables. */
  has(p: number): boolean {
    return this.whole !== undefined || this.groups.some((g) => g.live.has(p));
  }

  tables(view: string): readonly AggregateTable[] {
    return this.whole?.tables(view) ?? this.groups.flatMap((g) => g.loaded.store.tables(view));
  }

  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[] {
    return this.whole?.spans(view, from, to) ?? this.groups.flatMap((g) => g.loaded.store.spans(view, from, to));
  }

  coarseTable(view: string): AggregateTable | undefined {
    return this.whole?.coarseTable(view);
  }

  /**
   * The tables of partitions `ps` alone (every one for a version served
   * whole): what one answer reads here; undefined when one of them is not
   * held here, or is held merged with others that `ps` lacks and
   * {@link prepare} has not loaded it apart yet.
   */
  storeFor(ps: readonly number[]): BatchViewStore | undefined {
    if (this.whole !== undefined) return this.whole;
    const asked = new Set(ps);
    const stores: BatchViewStore[] = [];
    const covered = new Set<number>();
    for (const g of this.groups) {
      const inside = [...g.live].filter((p) => asked.has(p));
      if (inside.length === 0) continue;
      const store = inside.length === g.partitions.size ? g.loaded.store : this.parts.get(g.loaded.store)?.get(setKey(inside))?.loaded?.store;
      if (store === undefined) return undefined;
      stores.push(store);
      for (const p of inside) covered.add(p);
    }
    return covered.size === asked.size ? new BatchStoresTogether(this.manifest, stores) : undefined;
  }

  /** Loads (once per version) what {@link storeFor} needs of `ps` that is held merged with partitions `ps` lacks. */
  async prepare(ps: readonly number[]): Promise<void> {
    if (this.whole !== undefined || this.load === undefined) return;
    const asked = new Set(ps);
    for (const g of this.groups) {
      const inside = [...g.live].filter((p) => asked.has(p));
      if (inside.length === 0 || inside.length === g.partitions.size) continue;
      let loads = this.parts.get(g.loaded.store);
      if (loads === undefined) this.parts.set(g.loaded.store, (loads = new Map()));
      const key = setKey(inside);
      let part = loads.get(key);
      if (part === undefined) {
        const entry: { loading: Promise<LoadedStore>; loaded?: LoadedStore } = { loading: this.load(inside) };
        loads.set(key, (part = entry));
        // A load that failed is tried again by the next answer that needs it.
        entry.loading.then((loaded) => (entry.loaded = loaded), () => loads!.delete(key));
      }
      await part.loading;
    }
  }

  /**
   * This version with each store that holds partitions no longer served
   * replaced by its live partitions' store, where {@link prepare} loaded
   * it: the tables of the partitions let go are let go too.
   */
  compacted(): PartitionBatch {
    const groups = this.groups.map((g) => {
      const apart = g.live.size === g.partitions.size ? undefined : this.parts.get(g.loaded.store)?.get(setKey(g.live))?.loaded;
      return apart === undefined ? g : { partitions: g.live, live: g.live, loaded: apart };
    });
    return groups.every((g, i) => g === this.groups[i]) ? this : new PartitionBatch(this.manifest, groups, this.load, undefined, this.parts);
  }

  /** This version with partition `p`'s store added. */
  with(p: number, loaded: LoadedStore): PartitionBatch {
    if (this.whole !== undefined || this.has(p)) return this;
    return new PartitionBatch(this.manifest, [...this.groups, { partitions: new Set([p]), live: new Set([p]), loaded }], this.load, undefined, this.parts);
  }

  /** This version without partition `p`: a node that stops reading a partition stops answering for its tables (and lets them go with {@link compacted}). */
  without(p: number): PartitionBatch {
    if (this.whole !== undefined || !this.has(p)) return this;
    const groups = this.groups.flatMap((g) => {
      if (!g.live.has(p)) return [g];
      const live = new Set([...g.live].filter((q) => q !== p));
      return live.size === 0 ? [] : [{ ...g, live }];
    });
    return new PartitionBatch(this.manifest, groups, this.load, undefined, this.parts);
  }

  /** Whether a store holds partitions this node no longer serves: {@link prepare} and {@link compacted} let their tables go. */
  get holdsLetGo(): boolean {
    return this.groups.some((g) => g.live.size !== g.partitions.size);
  }

  /** The partitions this node serves the batch tables of. */
  served(): number[] {
    return this.groups.flatMap((g) => [...g.live]).sort((a, b) => a - b);
  }

  /** The tables loaded, by view and their files' key: what loading the next version may keep instead of reading again. */
  loaded(): Map<string, AggregateTable> {
    const byKey = new Map<string, AggregateTable>();
    for (const { loaded } of this.groups) {
      for (const [view, keys] of loaded.keys) {
        const tables = loaded.store.tables(view);
        keys.forEach((key, i) => tables[i] !== undefined && byKey.set(key, tables[i]));
      }
    }
    return byKey;
  }

  /** The store of exactly partitions `ps`, if one is held: the one whose read aids the next version's may take over. */
  storeOfExactly(ps: readonly number[]): InMemoryBatchViews | undefined {
    const key = setKey(ps);
    return this.groups.find((g) => setKey(g.partitions) === key)?.loaded.store;
  }

  /** Resolves once every store's read aids are built. */
  async settled(): Promise<void> {
    await Promise.all([...(this.whole === undefined ? this.groups.map((g) => g.loaded.store) : [this.whole])].map((s) => s.settled()));
  }
}

/** A view's files of partitions `ps` per table of their merged store: the base parts, the frozen parts, then each cycle's deltas, in cycle order. */
function filesByTable(entry: BatchViewEntry, ps: ReadonlySet<number>): ViewFile[][] {
  const fileOf = (f: { file: string | null; sha256?: string }): ViewFile => (f.sha256 === undefined ? { file: f.file! } : { file: f.file!, sha256: f.sha256 });
  const base = (entry.parts ?? []).filter((f) => f.file !== null && f.partition !== undefined && ps.has(f.partition)).map(fileOf);
  const cycles = new Map<number, ViewFile[]>();
  for (const d of entry.deltas ?? []) {
    if (d.file === null || d.partition === undefined || !ps.has(d.partition)) continue;
    cycles.set(d.to, [...(cycles.get(d.to) ?? []), fileOf(d)]);
  }
  return [base, ...frozenTables(entry, ps).map((files) => files.map(fileOf)), ...[...cycles].sort(([a], [b]) => a - b).map(([, files]) => files)];
}

/** A view's frozen parts of partitions `ps` (`keepAggregates`), as tables holding at most one file per partition: one per cycle that froze some, in order. */
function frozenTables(entry: BatchViewEntry, ps: ReadonlySet<number>): BatchPart[][] {
  const tables: BatchPart[][] = [];
  for (const f of entry.frozen ?? []) {
    if (f.file === null || f.partition === undefined || !ps.has(f.partition)) continue;
    const last = tables.at(-1);
    if (last === undefined || last.some((g) => g.partition === f.partition)) tables.push([f]);
    else last.push(f);
  }
  return tables;
}

/**
 * Loads partitions `ps`' tables of a partitioned version from `dir` (their
 * files there, checked against the manifest's digests) merged into one
 * store: per view its base table, then one table per cycle, all read in one
 * pass (a load's fixed cost is paid once per view, not once per file). A
 * table `kept` names by its files' key is kept, not read again. Views the
 * version lacks, or built from another definition, are left out (the caller
 * lists them as stale).
 *
 * @example
 * ```ts
 * const { store } = await loadMergedStore(connection, catalog, manifest, dir, [0, 3], served.loaded());
 * store.tables('sales');   // partitions 0 and 3 merged: the base table, then one per cycle
 * ```
 */
export async function loadMergedStore(
  connection: DuckDBConnection, catalog: Catalog, manifest: BatchManifest, dir: string, ps: readonly number[],
  kept: ReadonlyMap<string, AggregateTable>, previous?: InMemoryBatchViews,
): Promise<LoadedStore> {
  const tables = new Map<string, AggregateTable[]>();
  const keys = new Map<string, string[]>();
  for (const view of catalog.views.values()) {
    const entry = manifest.views[view.name];
    if (entry === undefined || entry.hash !== view.hash) continue;
    const byTable = filesByTable(entry, new Set(ps));
    // The definition is part of the key: a table without files (a partition without rows) has the same files under
    // any definition, and the served version's empty table of an older one holds its measures, not this one's.
    const viewKeys = byTable.map((files) => `${view.name}\0${view.hash}\0${files.map((f) => f.sha256 ?? f.file).join(',')}`);
    const toRead = byTable.flatMap((files, t) => (files.length === 0 || kept.has(viewKeys[t]!) ? [] : files.map((f) => ({ f, t }))));
    const tableIndex = [...new Set(toRead.map((r) => r.t))];
    const read = await loadViewFiles(
      connection, view, toRead.map(({ f }) => ({ path: join(dir, f.file), ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }) })), toRead.map((r) => tableIndex.indexOf(r.t)),
    );
    // The base table first, even empty (its read aids are built on it); a cycle is here only if it has rows in these partitions.
    tables.set(view.name, byTable.map((_, t) => kept.get(viewKeys[t]!) ?? (tableIndex.includes(t) ? read[tableIndex.indexOf(t)]! : new AggregateTable(view))));
    keys.set(view.name, viewKeys);
  }
  // A base table kept from the served version keeps its read aids, built or being built.
  return { store: new InMemoryBatchViews(manifest, tables, previous), keys };
}

/**
 * The batch tables a node serves of a partitioned version: the partitions
 * it owns (`together`) merged into one store, every other partition it
 * reads (`serving`) a store of its own; kept from `served` where the files
 * are the same.
 */
export async function loadPartitionBatch(
  connection: DuckDBConnection, catalog: Catalog, manifest: BatchManifest, dir: string,
  at: { readonly serving: readonly number[]; readonly together: ReadonlySet<number>; readonly served?: PartitionBatch | undefined },
): Promise<PartitionBatch> {
  const kept = at.served?.loaded() ?? new Map<string, AggregateTable>();
  const load: StoreLoader = (ps, previous) => loadMergedStore(connection, catalog, manifest, dir, ps, kept, previous);
  const sets = [at.serving.filter((p) => at.together.has(p)), ...at.serving.filter((p) => !at.together.has(p)).map((p) => [p])].filter((ps) => ps.length > 0);
  const groups: Group[] = [];
  for (const ps of sets) {
    const loaded = await load(ps, at.served?.storeOfExactly(ps));
    groups.push({ partitions: new Set(ps), live: new Set(ps), loaded });
  }
  // Parts loaded later (an answer over some partitions of a store) read the files afresh: the kept tables may be gone by then.
  return new PartitionBatch(manifest, groups, (ps) => loadMergedStore(connection, catalog, manifest, dir, ps, new Map()));
}
