/**
 * The seam between the engine core and where the data lives. The core
 * (`engine-core.ts`) owns what both modes share: validation, the memory
 * guard, the stored-field record, ingest's answer, queries (plan, gather,
 * merge, `meta`), batch bookkeeping, status and the order of close. A
 * backend supplies what differs: appending and waiting until applied,
 * running a cycle (seal, archive or export, compute, publish), the batch
 * and speed tables it serves, and its own part of the status. Two exist:
 * the embedded one (`src/backends/local`: a log on local disk, Parquet in
 * the data directory) and the cluster one (`src/backends/nats`: partition
 * streams, an object store, a lease in KV).
 *
 * @module
 */
import type { AggregateTable } from '../aggregates/index.ts';
import type { BatchManifest, BatchViewStore } from '../batch/index.ts';
import type { Catalog, ErasureRequest, EventColumns, TandemConfig, ViewSchema } from '../definitions/index.ts';
import type { ErasedFromMaster, RetentionFigures } from '../master/index.ts';
import type { Query, QueryPlan } from '../serving/index.ts';
import type { RealtimeStats } from '../speed/index.ts';
import type { BatchFailure, BatchOptions, BatchProgress, BatchSummary, ClusterStatus, EngineLogger, ErasureAudit, ViewChangeAnswer, ViewChangeStatus } from './engine-types.ts';

/** Where a backend records which fields of each event type it has stored: before the first event of a type is. */
export interface StoredTypes {
  needsRecord(eventType: string): boolean;
  record(eventType: string): Promise<void>;
}

/** What a backend answers for validated events it stored. */
export interface BackendAppend {
  /** Events that were stored already under the same idempotency key. */
  readonly duplicates: number;
  /**
   * Set when some partition's reader could not count its duplicates in time
   * (cluster mode): `duplicates` then leaves those out, and how many events
   * were newly stored is not known.
   */
  readonly uncounted?: true;
  /** The log offsets the stored events took, where they are one contiguous range (embedded); null otherwise. */
  readonly offsets: { readonly first: number; readonly last: number } | null;
  /** Where the events are, per partition: a query's `after`. */
  readonly position: readonly number[];
}

/** What a running cycle may tell the core as it goes. */
export interface CycleContext {
  /** Recompute every view from everything, instead of folding the new events into the published version. */
  readonly full: boolean;
  /** Absorb every event up to the log's end now, instead of stopping where the exported segments end (`BatchOptions.seal`). */
  readonly seal: boolean;
  /** When the cycle started (`performance.now()`): its summary's duration counts from here. */
  readonly started: number;
  progress(update: Partial<BatchProgress>): void;
  /** A view change whose backfill is done, switched in by this cycle: the cycle seals the log, so it absorbs every event up to now. */
  readonly switching?: ViewSwitch;
}

/** How far a backfill is: the master dataset's files (and their events) it has read of those it reads. */
export interface BackfillProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly eventsDone: number;
  readonly eventsTotal: number;
}

/** What the core gives a backend's backfill: a signal that cancels it, and where it reports how far it is. */
export interface BackfillJob {
  readonly signal: AbortSignal;
  progress(update: BackfillProgress): void;
}

/** A view computed by a backfill, held by the backend until the cycle that switches it in (or a cancel) is done with it. */
export interface Backfill {
  /** The view definition it computed. */
  readonly view: ViewSchema;
  /** It holds the view over every event below this offset: the cutoff served when it began. */
  readonly through: number;
  /** Deletes its files: after a cancel, or when the switching cycle recomputed the view from everything instead. */
  discard(): Promise<void>;
}

/**
 * A view change the cycle carrying it switches in. The backend includes
 * the new definition in the speed layer before it seals, builds the view's
 * batch files from the backfill and the events since, and calls `commit`
 * in the synchronous step that serves the new version, so that the new
 * catalog, the new version and the speed layer's cut change together.
 */
export interface ViewSwitch {
  /** The catalog once the change is in. */
  readonly catalog: Catalog;
  readonly view: ViewSchema;
  /** The definition it replaces, retired from the speed layer at the switch. */
  readonly replaced: ViewSchema | undefined;
  readonly backfill: Backfill;
  commit(): void;
}

/** An erasure accepted, as recorded until it is done: its request keeps the values (and, once found, the keys) it erases. */
export interface ErasureEntry {
  readonly id: string;
  readonly by: string;
  readonly requestedAt: string;
  readonly request: ErasureRequest;
  /** What it found to erase, recorded before any file changes: a try after a stop finds only what the first left. */
  readonly found?: ErasureFound;
}

/** What an erasure found in the master dataset: the events and files it takes out, and the events' idempotency keys. */
export type ErasureFound = ErasedFromMaster;

/** What the core lends a backend once it starts: the backend runs cycles of its own (at open, to repair) through it, so they are counted alike. */
export interface BackendHost {
  runBatch(options?: BatchOptions): Promise<BatchSummary>;
  /**
   * Serves `catalog` from now on, in the caller's synchronous step: a
   * cluster node adopting a version whose views another node changed.
   */
  swapCatalog(catalog: Catalog): void;
  /** Whether the engine is closing or closed: background work stops. */
  readonly closed: boolean;
  /** Whether a cycle runs now: one a backend would start itself is not needed then. */
  readonly batchRunning: boolean;
}

/** The backend's share of the status. */
export interface BackendStatus {
  readonly sealedSegments: number;
  readonly idempotencyKeys: number;
  readonly cluster?: ClusterStatus;
  /** What retention took out of the master dataset, where it runs (embedded). */
  readonly retention?: RetentionFigures;
}

/** The speed layer's part of one answer, as {@link EngineBackend.speedFor} gathered it. */
export interface SpeedPart {
  /**
   * The tables to merge with the batch view's, read now; undefined when the
   * served batch version changed since the gathering began (the states
   * gathered start at the old cutoffs), and the core gathers again.
   */
  take(): readonly AggregateTable[] | undefined;
  /**
   * Where this node serves only some partitions' batch tables (a cluster
   * node, issue #28), the batch tables to read, called right after a `take`
   * that succeeded, in the same step: the other partitions' batch states are
   * among the taken tables. Absent: the core reads the backend's `batch`.
   */
  takeBatch?(): BatchViewStore | undefined;
  /** Partitions no node could give (only with `allowPartial`; otherwise the gathering fails). */
  readonly missing: readonly number[];
  /**
   * Per partition, the last sequence the taken tables hold, called right
   * after a `take` that succeeded, in the same step: `meta.applied`. Where
   * some partitions' states came from other nodes, their positions are
   * those nodes'. Absent: the backend's `applied()`.
   */
  applied?(): readonly number[];
}

/**
 * A backend of the engine core.
 *
 * @example
 * ```ts
 * class Engine extends EngineCore {}   // the core drives a backend
 * const engine = new Engine(catalog, backend, { dataDir, logger });
 * ```
 */
export interface EngineBackend {
  /** How many log partitions: the length of every position. The embedded log is one. */
  readonly partitions: number;
  readonly storedTypes: StoredTypes;
  /** The batch version served now, if any. */
  readonly batch: BatchViewStore | undefined;
  /** Runs once the core exists: recovery that may run a cycle through `host`, background tasks. */
  start(host: BackendHost): Promise<void>;
  /**
   * Resolves once the batch version served from the start is in memory (or
   * rebuilt): a backend may resolve `start` before, so that ingest goes on
   * while it loads, and a query that reads the batch layer waits for this.
   * Rejects when that load failed and no rebuild could replace it.
   */
  whenLoaded?(): Promise<void>;
  /** The manifest of the version loading since the start, until it serves: what status shows meanwhile. */
  readonly loading?: BatchManifest | undefined;
  /** Stores validated events durably and resolves once queries on this engine see them. */
  append(eventType: string, columns: EventColumns): Promise<BackendAppend>;
  /** Per partition, how far this engine has applied the log. */
  applied(): readonly number[];
  /** Per partition, the served batch version's cutoff. */
  batchCutoffs(): readonly number[];
  /**
   * Whether a query of the batch layer alone gathers too (a cluster node
   * serving its own partitions' batch tables): `speedFor` is then asked for
   * every layer.
   */
  gathersBatch?(): boolean;
  /** Per partition, the node that owns it, where partitions have owners (cluster mode). */
  owners?(): readonly (string | null)[];
  /** Resolves once `after` (of the right length) is applied here; refuses a position this engine cannot reach. */
  waitFor(after: readonly number[]): Promise<void>;
  /** Throws when the served batch version cannot answer for `view` (new or changed, not computed yet). */
  checkServable(view: string): void;
  /**
   * The speed layer's part of one answer: gathered first (a cluster node asks
   * the owners of the partitions it does not apply for their states), then
   * taken in the core's synchronous step beside the batch tables.
   */
  speedFor(query: Query, plan: QueryPlan): Promise<SpeedPart>;
  speedStats(): RealtimeStats;
  /** One batch cycle, from sealing to serving the published version; throws typed errors. */
  cycle(context: CycleContext): Promise<BatchSummary>;
  /** Whether a cycle's error is the batch layer failing (a lease taken by another node is not). */
  countsAsFailure(error: unknown): boolean;
  /** Whether this engine may run the next cycle now (a cluster node: it holds the lease, or nobody does). */
  mayRunBatch(): boolean;
  /** Whether there is anything for a scheduled cycle to do. */
  hasNewEvents(): boolean;
  status(): BackendStatus;
  /** A failure of the batch layer the backend sees outside a cycle (a damaged archive), for status. */
  failing(): BatchFailure | null;
  /**
   * Computes `view` in the background over everything the served batch
   * version covers, throttled so that ingest and queries keep their speed;
   * absent where views cannot change while serving (a cluster node, for now).
   */
  backfill?(view: ViewSchema, job: BackfillJob): Promise<Backfill>;
  /**
   * Records an erasure durably; the next cycle that seals applies it (and
   * any other recorded), recomputing every view. Absent where erasures are
   * not supported (a cluster node, for now).
   */
  recordErasure?(entry: ErasureEntry): Promise<void>;
  /** The audit records of the erasures done, oldest first. */
  erasures?(): Promise<ErasureAudit[]>;
  /**
   * Runs what an erasure recorded with {@link recordErasure} needs until it is
   * done, where a cycle of this engine's own does not do (cluster mode: the
   * batch node applies it, whichever node was asked). Absent: the core runs
   * one sealing cycle of its own.
   */
  completeErasure?(id: string): Promise<void>;
  /**
   * Where the views' changes are coordinated by the backend (a cluster's,
   * shared by its nodes), the coordinator; absent: the core's own
   * `ViewChanges` (`view-changes.ts`) over {@link backfill}.
   */
  viewChanges?(host: ViewChangeHost): ViewChangeCoordinator;
  /** Stops folding a dropped view: called in the step that swaps the catalog. */
  retire?(view: ViewSchema): void;
  /** The catalog the backend computes and loads views with, replaced at each switch or drop. */
  useCatalog?(catalog: Catalog): void;
  /** Stops background tasks: before the running cycle is awaited on close. */
  halt(): void;
  /** Closes what it holds, after the running cycle ended. */
  close(): Promise<void>;
}

/** What the view changes need of the engine core. */
export interface ViewChangeHost {
  readonly catalog: Catalog;
  readonly backend: EngineBackend;
  readonly logger: EngineLogger;
  readonly closed: boolean;
  /** Replaces the catalog everything reads, in the caller's synchronous step. */
  swap(catalog: Catalog): void;
  /**
   * Runs a batch cycle carrying the change `prepare` gives, after the one
   * running (if any): `prepare` is called once that one is done, so the
   * change is made against the catalog an earlier switch left.
   */
  runSwitch(prepare: () => ViewSwitch): Promise<BatchSummary>;
  /** Runs a batch cycle (in cluster mode, on the node holding the batch lease). */
  runBatch(): Promise<BatchSummary>;
}

/**
 * What the engine core asks of whatever changes its views while it
 * serves: `ViewChanges` (`view-changes.ts`) for the embedded engine (backfills in the
 * background, the switch in one cycle), or a cluster backend's own, where
 * the changes are shared by every node (`src/backends/nats`).
 *
 * @example
 * ```ts
 * const coordinator: ViewChangeCoordinator = backend.viewChanges?.(host) ?? new ViewChanges(host, start);
 * await coordinator.apply({ name: 'by_plan', eventType: 'order', dimensions: ['plan'], granularity: 'day', measures: { n: { type: 'count' } } });
 * ```
 */
export interface ViewChangeCoordinator {
  /** Runs once the backend started: resumes what a stop interrupted. */
  start(): Promise<void>;
  /** Each served view's version, by name. */
  versions(): Record<string, number>;
  /** The version `view` answers with now. */
  versionOf(view: string): number;
  /** The change under way for `view`, if any. */
  pending(view: string): ViewChangeStatus | undefined;
  statuses(): ViewChangeStatus[];
  apply(definition: unknown): Promise<ViewChangeAnswer>;
  drop(name: string): Promise<ViewChangeAnswer>;
  cancel(name: string): Promise<ViewChangeAnswer>;
  reload(config: TandemConfig): Promise<ViewChangeAnswer[]>;
  /** Runs `work` (a cycle that erases events) with every backfill stopped, then starts them again. */
  restartingBackfills<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
