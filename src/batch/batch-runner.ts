/**
 * One batch run: every view recomputed inside DuckDB over all master-dataset
 * events below the cutoff, written as a new immutable version, published
 * atomically, and loaded for serving.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { link, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlIdentifier, sqlStringLiteral, type Catalog, type ViewSchema } from '../definitions/index.ts';
import { AggregateTable } from '../aggregates/index.ts';
import type { BatchDelta, BatchManifest, BatchPart, BatchViewEntry } from './batch-manifest.ts';
import { batchViewSql, PARTITION_COLUMN } from './batch-sql.ts';
import { loadViewTable, loadViewTables } from './batch-view-loader.ts';
import { InMemoryBatchViews, type BatchViewStore } from './batch-view-store.ts';
import { CorruptBatchViewError, DuplicateBatchKeyError } from './errors.ts';
import { fileSha256, readFailure } from '../util/checksums.ts';
import type { VersionStore } from './version-store.ts';
import { loadedTables, viewFiles } from './view-files.ts';
import type { BackfillPart } from './backfill-part.ts';
import { eraseFrozenParts, frozenErasedFile, type FrozenErasing, type FrozenErasure } from './frozen-erasure.ts';

/** One view of a version being built: its manifest entry, its tables, and what erasures did to its frozen parts. */
interface ViewBuilt {
  readonly entry: BatchViewEntry;
  readonly tables: AggregateTable[];
  readonly frozenErased?: ReadonlyMap<string, FrozenErasure>;
}

export interface BatchRunInput {
  readonly catalog: Catalog;
  readonly connection: DuckDBConnection;
  readonly store: VersionStore;
  readonly cutoff: number;
  /** Cluster mode: the cutoff vector the sources were archived up to, recorded in the manifest (the sources hold nothing above it). */
  readonly partitionCutoffs?: readonly number[];
  /** The master dataset's Parquet files (all below the cutoff) and their event count, per event type. */
  readonly sources: ReadonlyMap<string, BatchSource>;
  /** Told when each view is done, for progress reporting. */
  readonly onViewDone?: (view: string, done: number, total: number) => void;
  /**
   * When the cycle began (`performance.now()`), if before this call (the
   * seal and the export): the manifest's duration then covers the whole
   * cycle, up to publication, so that one run has one duration everywhere.
   */
  readonly startedAt?: number;
  /**
   * An incremental cycle: the published version to build on, and the offset
   * it covers below. `sources` then hold only the offsets in `[from, cutoff)`,
   * and each view's new version is the previous one's files (linked, not
   * copied) plus one delta over those offsets. In cluster mode `from` is 0:
   * the sources are the archive ranges added since, whose offsets are
   * sequences of their own partition, not of one log.
   */
  readonly previous?: { readonly manifest: BatchManifest; readonly dir: string; readonly views: InMemoryBatchViews; readonly from: number };
  /**
   * An incremental cycle that switches in a view changed while serving: the
   * view is its backfill's parts (over `[0, through)`, linked from `dir`)
   * plus a delta over `[through, cutoff)` read from `sources`, instead of the
   * previous version's files of the view.
   */
  readonly backfilled?: BackfilledView;
  /** Retention: the generation the version accounts for, and what views keeping their aggregates fold in. */
  readonly retention?: RetentionInput;
}

/**
 * What a cycle needs of retention (`src/master/retention.ts`). A full cycle
 * recomputes each view from the files that remain; a view with
 * `keepAggregates` keeps the frozen parts of `kept` (the published version)
 * and adds one computed from the files `retired` since it.
 */
export interface RetentionInput {
  /** The latest generation whose files the sources no longer hold. */
  readonly generation: number;
  /** Per event type, the files retired since `kept` was computed. */
  readonly retired: ReadonlyMap<string, BatchSource>;
  /** The published version whose frozen parts carry over, with its directory. */
  readonly kept?: { readonly manifest: BatchManifest; readonly dir: string; readonly views: BatchViewStore };
  /** The erasures the cycle applies: the frozen parts carried over leave out the rows they split off (`frozen-erasure.ts`). */
  readonly erasing?: readonly FrozenErasing[];
}

/** A view's backfill, as the cycle switching it in reads it. */
export interface BackfilledView {
  readonly view: ViewSchema;
  readonly dir: string;
  readonly parts: readonly BackfillPart[];
  readonly through: number;
  /** The master dataset's files over `[through, cutoff)`. */
  readonly sources: ReadonlyMap<string, BatchSource>;
}

export interface BatchSource {
  readonly files: readonly string[];
  readonly events: number;
}

export interface BatchRunResult {
  readonly manifest: BatchManifest;
  readonly views: InMemoryBatchViews;
  /** Per erasure (by id) the cycle applied, what it did to the frozen parts of each view keeping aggregates of its type. */
  readonly frozenErased: ReadonlyMap<string, readonly FrozenErasure[]>;
}

const WORK_TABLE = 'tandem_batch_view';

/** What computing one view over some sources gave: its file in the version directory (null when empty), and its table. */
export interface Computed {
  readonly file: string | null;
  readonly sha256?: string;
  readonly rows: number;
  readonly inputEvents: number;
  readonly table: AggregateTable;
}

/** What computing a view reads: DuckDB, the master dataset's files by event type, and the offsets `[from, cutoff)` to read of them. */
export type ViewSources = Pick<BatchRunInput, 'connection' | 'sources' | 'cutoff'>;

/** Runs a view's SQL over its sources into the work table, and writes it as `file` in `dir`: resolves with the inputs it read, or null when there are none. */
async function writeView(input: ViewSources, view: ViewSchema, path: string, from: number): Promise<{ inputEvents: number } | null> {
  const { files, events } = input.sources.get(view.eventType.name) ?? { files: [], events: 0 };
  if (files.length === 0) return null;
  const { sql, params } = batchViewSql(view, WORK_TABLE, files, input.cutoff, from);
  const prepared = await input.connection.prepare(sql);
  try {
    prepared.bind(params);
    await prepared.run();
  } finally {
    prepared.destroySync();
  }
  await input.connection.run(`COPY ${sqlIdentifier(WORK_TABLE)} TO ${sqlStringLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
  return { inputEvents: events };
}

/**
 * Computes `view` over the sources' offsets `[from, input.cutoff)`, writes it
 * as `file` in `dir` and loads it: one step of a batch cycle, or one chunk
 * of a backfill.
 *
 * @example
 * ```ts
 * const { file, table } = await computeView({ connection, sources, cutoff: 1_000 }, view, dir, 'by_plan.parquet', 0);
 * ```
 */
export async function computeView(input: ViewSources, view: ViewSchema, dir: string, file: string, from: number): Promise<Computed> {
  try {
    const written = await writeView(input, view, join(dir, file), from);
    if (written === null) return { file: null, rows: 0, inputEvents: 0, table: new AggregateTable(view) };
    const table = await loadViewTable(input.connection, view, sqlIdentifier(WORK_TABLE));
    return { file, sha256: await fileSha256(join(dir, file)), rows: table.size, inputEvents: written.inputEvents, table };
  } finally {
    await input.connection.run(`DROP TABLE IF EXISTS ${sqlIdentifier(WORK_TABLE)}`);
  }
}

/** One view's file computed by {@link computeViewFiles}: null when the sources hold none of its events. */
export interface ViewFileComputed {
  readonly file: string | null;
  /** Cluster mode: the log partition whose events it aggregates. */
  readonly partition?: number;
  readonly sha256?: string;
  readonly rows: number;
  readonly inputEvents: number;
}

/**
 * A view computed over several log partitions' sources in one scan, and
 * written as one file per partition that holds its events (`fileOf` names
 * it) in `dir`, without loading them: a cluster node's part of a cycle
 * (`src/backends/nats/part-compute.ts`). One scan, not one per partition,
 * because each partition's share is small and a scan's fixed cost is not.
 *
 * @example
 * ```ts
 * const files = await computeViewFiles({ connection, byPartition, cutoff: NO_CUTOFF }, view, dir, (p) => `sales.p${p}.parquet`);
 * ```
 */
export async function computeViewFiles(
  input: { readonly connection: DuckDBConnection; readonly byPartition: ReadonlyMap<number, ReadonlyMap<string, BatchSource>>; readonly cutoff: number },
  view: ViewSchema, dir: string, fileOf: (partition: number) => string,
): Promise<ViewFileComputed[]> {
  const sources = new Map([...input.byPartition].flatMap(([p, byType]) => {
    const source = byType.get(view.eventType.name);
    return source === undefined || source.files.length === 0 ? [] : [[p, source] as const];
  }));
  if (sources.size === 0) return [];
  const { connection } = input;
  const { sql, params } = batchViewSql(view, WORK_TABLE, new Map([...sources].map(([p, s]) => [p, s.files])), input.cutoff, 0);
  const work = sqlIdentifier(WORK_TABLE);
  const partition = sqlIdentifier(PARTITION_COLUMN);
  try {
    const prepared = await connection.prepare(sql);
    try {
      prepared.bind(params);
      await prepared.run();
    } finally {
      prepared.destroySync();
    }
    const counts = await connection.runAndReadAll(`SELECT ${partition}, count(*)::BIGINT FROM ${work} GROUP BY 1`);
    const computed: ViewFileComputed[] = [];
    // In key order: a parallel GROUP BY hands its groups out in an order that varies run to run, and a file must come out
    // byte for byte alike from the same events, so that a version inherits (does not upload again) an unchanged partition's file.
    const order = ['"time"', ...view.dimensions.map((d) => sqlIdentifier(d.name))].join(', ');
    for (const [p, n] of counts.getRows().map(([p, n]) => [Number(p), Number(n)] as const).sort(([a], [b]) => a - b)) {
      const path = join(dir, fileOf(p));
      await connection.run(`COPY (SELECT * EXCLUDE (${partition}) FROM ${work} WHERE ${partition} = ${p} ORDER BY ${order}) TO ${sqlStringLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
      computed.push({ file: fileOf(p), partition: p, sha256: await fileSha256(path), rows: n, inputEvents: sources.get(p)!.events });
    }
    return computed;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${work}`);
  }
}

/** A delta's file name: unique per version, since a cluster's cutoff is a vector and its `from` names no offset of one log. */
const deltaFile = (view: ViewSchema, version: number): string => `${view.name}.delta-v${String(version).padStart(8, '0')}.parquet`;

/** A whole view recomputed from every source: the base of a new chain, beside the frozen parts a view keeping its aggregates has. */
async function fullView(input: BatchRunInput, view: ViewSchema, at: { readonly version: number; readonly dir: string }): Promise<ViewBuilt> {
  const started = performance.now();
  const computed = await computeView(input, view, at.dir, `${view.name}.parquet`, 0);
  const { file, sha256, rows, inputEvents, table } = computed;
  const frozen = view.keepAggregates && input.retention !== undefined ? await frozenParts(input, input.retention, view, at) : { parts: [], tables: [], outcomes: new Map() };
  const entry: BatchViewEntry = {
    hash: view.hash, file, ...(sha256 === undefined ? {} : { sha256 }), rows, inputEvents, durationMs: performance.now() - started,
    ...(frozen.parts.length === 0 ? {} : { frozen: frozen.parts }),
  };
  return { entry, tables: [table, ...frozen.tables], frozenErased: frozen.outcomes };
}

/**
 * A view's frozen parts in a new version: the published version's (linked,
 * their tables kept; those holding rows an erasure of the cycle splits off
 * written again without them), then one over the files retired since, when
 * they hold events. A published entry of another definition has none that
 * fit: a changed view starts again from what remains.
 */
async function frozenParts(
  input: BatchRunInput, retention: RetentionInput, view: ViewSchema, at: { readonly version: number; readonly dir: string },
): Promise<{ parts: BatchPart[]; tables: AggregateTable[]; outcomes: ReadonlyMap<string, FrozenErasure> }> {
  const parts: BatchPart[] = [];
  const tables: AggregateTable[] = [];
  const kept = retention.kept;
  const before = kept?.manifest.views[view.name];
  let outcomes: ReadonlyMap<string, FrozenErasure> = new Map();
  if (kept !== undefined && before?.hash === view.hash) {
    const loaded = loadedTables(kept.views);
    const erased = await eraseFrozenParts(input.connection, view, before.frozen ?? [], retention.erasing ?? [], {
      source: async (part) => join(kept.dir, part.file!),
      target: (part) => join(at.dir, frozenErasedFile(part.file!, at.version)),
    });
    outcomes = erased.outcomes;
    for (const part of erased.parts.filter((f) => f.file !== null)) {
      const path = join(at.dir, part.file!);
      // A part written again is in the new directory already; the others are linked from the published version.
      if (!erased.rewritten.has(part.file!)) await link(join(kept.dir, part.file!), path);
      parts.push(part);
      tables.push((part.sha256 === undefined ? undefined : loaded(view.name, part.sha256)) ?? await loadViewFile(input.connection, view, path, part.sha256));
    }
  }
  const computed = await computeView({ ...input, sources: retention.retired }, view, at.dir, frozenFile(view, at.version), 0);
  if (computed.file !== null) {
    parts.push({ file: computed.file, ...(computed.sha256 === undefined ? {} : { sha256: computed.sha256 }), rows: computed.rows });
    tables.push(computed.table);
  }
  return { parts, tables, outcomes };
}

/** A frozen part's file name: unique per version, whose cycle computed it. */
const frozenFile = (view: ViewSchema, version: number): string => `${view.name}.frozen-v${String(version).padStart(8, '0')}.parquet`;

/**
 * The previous version's files of a view, linked into the new version's
 * directory (a version directory stays whole on its own, so pruning old ones
 * never takes a file a newer one needs), plus a delta over the new offsets.
 */
async function incrementalView(
  input: BatchRunInput, view: ViewSchema, at: { readonly version: number; readonly dir: string }, previous: NonNullable<BatchRunInput['previous']>,
): Promise<{ entry: BatchViewEntry; tables: AggregateTable[] }> {
  const started = performance.now();
  const before = previous.manifest.views[view.name]!;
  for (const { file } of viewFiles(before)) await link(join(previous.dir, file), join(at.dir, file));
  const computed = await computeView(input, view, at.dir, deltaFile(view, at.version), previous.from);
  // Recorded as the manifests' cutoffs (a sum of sequences in cluster mode), whatever bounds the SQL read.
  const delta: BatchDelta = {
    file: computed.file, ...(computed.sha256 === undefined ? {} : { sha256: computed.sha256 }), rows: computed.rows, from: previous.manifest.cutoff, to: manifestCutoff(input),
  };
  const deltas = [...(before.deltas ?? []), delta];
  const entry: BatchViewEntry = { ...before, inputEvents: before.inputEvents + computed.inputEvents, durationMs: performance.now() - started, deltas };
  // The previous version's tables are immutable once published: the new version serves them as they are, beside the delta.
  // One table per file, an empty one too, so that the tables line up with the manifest's files (`view-files.ts`).
  const tables = [...previous.views.tables(view.name), ...(computed.file === null ? [] : [computed.table])];
  return { entry, tables };
}

/**
 * A view switched in from its backfill: the parts become the base and the
 * first deltas (a part's file keeps its name, unique to the view), and the
 * events since the backfill began one more delta.
 */
async function backfilledView(input: BatchRunInput, backfilled: BackfilledView, at: { readonly version: number; readonly dir: string }): Promise<{ entry: BatchViewEntry; tables: AggregateTable[] }> {
  const started = performance.now();
  const { view, parts } = backfilled;
  for (const part of parts) if (part.file !== null) await link(join(backfilled.dir, part.file), join(at.dir, part.file));
  const computed = await computeView({ ...input, sources: backfilled.sources }, view, at.dir, deltaFile(view, at.version), backfilled.through);
  const [base, ...rest] = parts;
  const deltas: BatchDelta[] = [...rest, { ...computed, from: backfilled.through, to: input.cutoff }].map((d) => ({
    file: d.file, ...(d.sha256 === undefined ? {} : { sha256: d.sha256 }), rows: d.rows, from: d.from, to: d.to,
  }));
  const entry: BatchViewEntry = {
    hash: view.hash, file: base?.file ?? null, ...(base?.sha256 === undefined ? {} : { sha256: base.sha256 }), rows: base?.rows ?? 0,
    inputEvents: parts.reduce((n, p) => n + p.inputEvents, computed.inputEvents), durationMs: performance.now() - started, deltas,
  };
  // Tables line up with the files as a loaded version's do: the base always (empty without a file), then each delta with a file.
  const tables = [base?.table ?? new AggregateTable(view), ...[...rest, computed].filter((d) => d.file !== null).map((d) => d.table)];
  return { entry, tables };
}

/** The cutoff a manifest records: in cluster mode the sum of the partitions' cutoffs, which grows whenever one of them does. */
function manifestCutoff(input: BatchRunInput): number {
  return input.partitionCutoffs === undefined ? input.cutoff : input.partitionCutoffs.reduce((a, b) => a + b, 0);
}

/** The retention generation a version records: the cycle's, else the one it builds on; none before any file retired. */
function retiredGeneration(input: BatchRunInput): { retiredGeneration?: number } {
  const generation = input.retention?.generation ?? input.previous?.manifest.retiredGeneration ?? 0;
  return generation === 0 ? {} : { retiredGeneration: generation };
}

/** What a version being built stands on before it has a manifest of its own: nothing reads it. */
const UNPUBLISHED: BatchManifest = { version: 0, cutoff: 0, createdAt: new Date(0).toISOString(), durationMs: 0, views: {} };

/** Computes, writes and publishes a new batch version. The old version serves until the publish step. */
export async function runBatch(input: BatchRunInput): Promise<BatchRunResult> {
  const started = input.startedAt ?? performance.now();
  const { version, dir } = await input.store.begin();
  const entries: Record<string, BatchViewEntry> = {};
  const tables = new Map<string, AggregateTable[]>();
  const views = [...input.catalog.views.values()];
  const previous = input.previous;
  const frozenErased = new Map<string, FrozenErasure[]>();
  try {
    for (const [i, view] of views.entries()) {
      const backfilled = input.backfilled?.view.name === view.name ? input.backfilled : undefined;
      const { entry, tables: viewTables, frozenErased: outcomes }: ViewBuilt = previous === undefined
        ? await fullView(input, view, { version, dir })
        : backfilled !== undefined ? await backfilledView(input, backfilled, { version, dir }) : await incrementalView(input, view, { version, dir }, previous);
      entries[view.name] = entry;
      tables.set(view.name, viewTables);
      for (const [id, outcome] of outcomes ?? []) frozenErased.set(id, [...(frozenErased.get(id) ?? []), outcome]);
      input.onViewDone?.(view.name, i + 1, views.length);
    }
  } catch (error) {
    // A half-built version is useless and, on a full disk, takes the space the next try needs.
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  // The leaderboard read aids are built (in steps) before the version is published, so that its duration counts
  // them and the first leaderboards it serves find them ready; the version below takes the builds over.
  const building = new InMemoryBatchViews(previous?.manifest ?? UNPUBLISHED, tables, previous?.views);
  await building.settled();
  const createdAt = new Date().toISOString();
  const manifest: BatchManifest = {
    version,
    cutoff: manifestCutoff(input),
    ...(input.partitionCutoffs === undefined ? {} : { cutoffs: [...input.partitionCutoffs] }),
    createdAt,
    durationMs: performance.now() - started,
    views: entries,
    mode: previous === undefined ? 'full' : 'incremental',
    fullAt: previous === undefined ? createdAt : previous.manifest.fullAt ?? previous.manifest.createdAt,
    ...retiredGeneration(input),
  };
  // The manifest as the store published it: a cluster's names the archive ranges and where each file is kept too.
  const published = (await input.store.publish(dir, manifest)).manifest;
  return { manifest: published, views: new InMemoryBatchViews(published, tables, building), frozenErased };
}

/** Loads one view's file after checking it is the file the manifest lists; any failure names the file. */
export async function loadViewFile(connection: DuckDBConnection, view: ViewSchema, path: string, sha256: string | undefined): Promise<AggregateTable> {
  return (await loadViewFiles(connection, view, [{ path, ...(sha256 === undefined ? {} : { sha256 }) }]))[0]!;
}

/**
 * Loads several files of one view (a cluster node's partitions'), one table
 * each or merged as `into` says (as `loadViewTables`), in one pass,
 * after checking each is the file the manifest lists; any failure names the
 * file (the first, when DuckDB cannot say which).
 */
export async function loadViewFiles(
  connection: DuckDBConnection, view: ViewSchema, files: readonly { readonly path: string; readonly sha256?: string }[], into?: readonly number[],
): Promise<AggregateTable[]> {
  for (const { path, sha256 } of files) {
    let actual: string;
    try {
      actual = await fileSha256(path);
    } catch (error) {
      throw new CorruptBatchViewError(path, readFailure(error), { cause: error });
    }
    if (sha256 !== undefined && actual !== sha256) throw new CorruptBatchViewError(path, 'its SHA-256 does not match the one in the manifest');
  }
  try {
    return await loadViewTables(connection, view, files.map((f) => `read_parquet(${sqlStringLiteral(f.path)})`), into);
  } catch (error) {
    const reason = error instanceof DuplicateBatchKeyError ? 'it holds the same key twice' : 'DuckDB cannot read it as Parquet';
    throw new CorruptBatchViewError(files.length === 1 ? files[0]!.path : `${files[0]!.path} (or another of ${files.length} files loaded with it)`, reason, { cause: error });
  }
}

/**
 * Loads a published version for serving. Views the version lacks, or built
 * from another definition, are returned as stale: the caller must recompute.
 * A file whose table `served` (the version served now) already holds, by its
 * digest, is not read again: a version that follows it incrementally reads
 * only its new deltas.
 */
export async function loadPublished(
  connection: DuckDBConnection,
  catalog: Catalog,
  manifest: BatchManifest,
  dir: string,
  served?: BatchViewStore,
): Promise<{ views: InMemoryBatchViews; stale: string[] }> {
  const tables = new Map<string, AggregateTable[]>();
  const stale: string[] = [];
  const loaded = loadedTables(served);
  for (const view of catalog.views.values()) {
    const entry = manifest.views[view.name];
    if (entry === undefined || entry.hash !== view.hash) {
      stale.push(view.name);
      continue;
    }
    const files: AggregateTable[] = [];
    for (const f of viewFiles(entry)) files.push((f.sha256 === undefined ? undefined : loaded(view.name, f.sha256)) ?? await loadViewFile(connection, view, join(dir, f.file), f.sha256));
    tables.set(view.name, entry.file === null ? [new AggregateTable(view), ...files] : files);
  }
  // A base table kept from the served version keeps its read aids, built or being built.
  return { views: new InMemoryBatchViews(manifest, tables, served instanceof InMemoryBatchViews ? served : undefined), stale };
}
