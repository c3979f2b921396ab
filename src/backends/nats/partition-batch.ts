/**
 * The batch tables a node serves in cluster mode (issue #28): only those of
 * the partitions it reads. A divided cycle writes one file per view and
 * partition (`part-compute.ts`), so a node loads its own partitions' files
 * and no other, and its memory falls as nodes are added; a query asks the
 * other partitions' owners for their batch states beside their speed states
 * (`speed-gather.ts`), and merges them by the same monoids.
 *
 * Each partition's tables are a store of their own (its base part, then its
 * deltas), with its own read aids. A version of an earlier release (one file
 * per view over every partition) is served whole, as before, until the next
 * cycle, which recomputes everything partitioned.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { AggregateTable } from '../../aggregates/index.ts';
import { InMemoryBatchViews, loadViewFiles, type BatchManifest, type BatchViewEntry, type BatchViewStore, type ViewFile } from '../../batch/index.ts';
import type { Catalog } from '../../definitions/index.ts';

/** Whether every file of `manifest` is one partition's: each node can then load its own alone. */
export function isPartitioned(manifest: BatchManifest): boolean {
  return Object.values(manifest.views).every((e) => e.file === null && [...(e.parts ?? []), ...(e.deltas ?? [])].every((f) => f.file === null || f.partition !== undefined));
}

/** A view's files of partition `p` in table order: its base part (if any), then its deltas. */
export function partitionFiles(entry: BatchViewEntry, p: number): { base: ViewFile | undefined; deltas: ViewFile[] } {
  const fileOf = (f: { file: string | null; sha256?: string }): ViewFile => (f.sha256 === undefined ? { file: f.file! } : { file: f.file!, sha256: f.sha256 });
  const base = (entry.parts ?? []).find((f) => f.partition === p && f.file !== null);
  const deltas = (entry.deltas ?? []).filter((f) => f.partition === p && f.file !== null).map(fileOf);
  return { base: base === undefined ? undefined : fileOf(base), deltas };
}

/** The file names of `manifest` that partitions `ps` need. */
export function filesOfPartitions(manifest: BatchManifest, ps: ReadonlySet<number>): Set<string> {
  const names = new Set<string>();
  for (const entry of Object.values(manifest.views)) {
    for (const f of [...(entry.parts ?? []), ...(entry.deltas ?? [])]) if (f.file !== null && f.partition !== undefined && ps.has(f.partition)) names.add(f.file);
  }
  return names;
}

/**
 * The batch tables of one version on one node: per partition it serves, a
 * store; or one store of every partition for a version of an earlier release.
 *
 * @example
 * ```ts
 * const batch = await loadPartitionBatch(connection, catalog, manifest, dir, new Set([0, 3]));
 * batch.has(3);   // true: this node answers for partition 3's batch states
 * ```
 */
export class PartitionBatch implements BatchViewStore {
  constructor(
    readonly manifest: BatchManifest,
    private readonly byPartition: ReadonlyMap<number, InMemoryBatchViews>,
    /** A version of an earlier release, served whole. */
    private readonly whole?: InMemoryBatchViews,
  ) {}

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
    return this.whole !== undefined || this.byPartition.has(p);
  }

  /** Partition `p`'s store, if held here. */
  storeOf(p: number): InMemoryBatchViews | undefined {
    return this.byPartition.get(p);
  }

  tables(view: string): readonly AggregateTable[] {
    return this.whole?.tables(view) ?? [...this.byPartition.values()].flatMap((s) => s.tables(view));
  }

  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[] {
    return this.whole?.spans(view, from, to) ?? [...this.byPartition.values()].flatMap((s) => s.spans(view, from, to));
  }

  dailyTable(view: string): AggregateTable | undefined {
    return this.whole?.dailyTable(view);
  }

  /** The tables of partitions `ps` alone (every one for a version served whole): what one answer reads here. */
  restrictedTo(ps: readonly number[]): BatchViewStore {
    if (this.whole !== undefined) return this.whole;
    return new PartitionBatch(this.manifest, new Map(ps.flatMap((p) => (this.byPartition.has(p) ? [[p, this.byPartition.get(p)!] as const] : []))));
  }

  /** This version with partition `p`'s store added (or replaced). */
  with(p: number, store: InMemoryBatchViews): PartitionBatch {
    return this.whole !== undefined ? this : new PartitionBatch(this.manifest, new Map([...this.byPartition, [p, store]]));
  }

  /** This version without partition `p`'s store: a node that stops reading a partition lets its tables go. */
  without(p: number): PartitionBatch {
    if (this.whole !== undefined || !this.byPartition.has(p)) return this;
    return new PartitionBatch(this.manifest, new Map([...this.byPartition].filter(([q]) => q !== p)));
  }

  /** The tables loaded for each file, by view and digest: what loading the next version may keep instead of reading again. */
  loaded(): Map<string, AggregateTable> {
    const byKey = new Map<string, AggregateTable>();
    for (const [p, store] of this.byPartition) {
      for (const [view, entry] of Object.entries(this.manifest.views)) {
        const { base, deltas } = partitionFiles(entry, p);
        const tables = store.tables(view);
        if (tables.length !== 1 + deltas.length) continue;
        if (base?.sha256 !== undefined) byKey.set(`${view}\0${base.sha256}`, tables[0]!);
        deltas.forEach((d, i) => d.sha256 !== undefined && byKey.set(`${view}\0${d.sha256}`, tables[i + 1]!));
      }
    }
    return byKey;
  }

  /** Resolves once every store's read aids are built. */
  async settled(): Promise<void> {
    await Promise.all([...(this.whole === undefined ? this.byPartition.values() : [this.whole])].map((s) => s.settled()));
  }
}

/**
 * Loads partitions `ps`' tables of a partitioned version from `dir` (their
 * files there, checked against the manifest's digests), each partition a
 * store of its own: per view, every file not kept is read in one pass, since
 * each is small and a load's fixed cost would otherwise be paid once per
 * view and partition. A table `served` loaded from the same file is kept,
 * not read again. Views the version lacks, or built from another
 * definition, are left out (the caller lists them as stale).
 *
 * @example
 * ```ts
 * const stores = await loadPartitionStores(connection, catalog, manifest, dir, [0, 3], served);
 * stores.get(3)!.tables('sales');   // partition 3's base table, then its deltas
 * ```
 */
export async function loadPartitionStores(
  connection: DuckDBConnection, catalog: Catalog, manifest: BatchManifest, dir: string, ps: readonly number[], served: PartitionBatch | undefined,
  /** `served.loaded()`, when the caller has it already. */
  kept: ReadonlyMap<string, AggregateTable> = served?.loaded() ?? new Map(),
): Promise<Map<number, InMemoryBatchViews>> {
  const byPartition = new Map(ps.map((p) => [p, new Map<string, AggregateTable[]>()]));
  for (const view of catalog.views.values()) {
    const entry = manifest.views[view.name];
    if (entry === undefined || entry.hash !== view.hash) continue;
    const files = new Map(ps.map((p) => [p, partitionFiles(entry, p)]));
    const keptOf = (f: ViewFile) => (f.sha256 === undefined ? undefined : kept.get(`${view.name}\0${f.sha256}`));
    const toRead = [...files.values()].flatMap(({ base, deltas }) => [...(base === undefined ? [] : [base]), ...deltas]).filter((f) => keptOf(f) === undefined);
    const read = await loadViewFiles(connection, view, toRead.map((f) => ({ path: join(dir, f.file), ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }) })));
    const loaded = new Map(toRead.map((f, i) => [f.file, read[i]!]));
    const tableOf = (f: ViewFile) => keptOf(f) ?? loaded.get(f.file)!;
    for (const [p, { base, deltas }] of files) byPartition.get(p)!.set(view.name, [base === undefined ? new AggregateTable(view) : tableOf(base), ...deltas.map(tableOf)]);
  }
  // A base table kept from the served version keeps its read aids, built or being built.
  return new Map(ps.map((p) => [p, new InMemoryBatchViews(manifest, byPartition.get(p)!, served?.storeOf(p))]));
}

/** Partition `p`'s tables of a partitioned version: {@link loadPartitionStores} for one. */
export async function loadPartitionStore(
  connection: DuckDBConnection, catalog: Catalog, manifest: BatchManifest, dir: string, p: number, served: PartitionBatch | undefined,
): Promise<InMemoryBatchViews> {
  return (await loadPartitionStores(connection, catalog, manifest, dir, [p], served)).get(p)!;
}
