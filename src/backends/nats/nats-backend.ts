/**
 * The cluster backend: the engine core's backend over a log, an archive
 * and a batch lease that live in NATS JetStream and are shared by every
 * node (see docs/cluster.md). The core (`src/engine/engine-core.ts`) does
 * validation, queries, batch bookkeeping and status as it does embedded;
 * this file supplies what differs:
 *
 * - Append on any node: to its outbox, then to the partition streams;
 *   answered once JetStream acknowledged it and each partition's reader
 *   applied it.
 * - Each partition read by its owner (and its standbys): the consumer
 *   follows it from the served cutoff through the duplicate rule into one
 *   {@link PartitionSpeed} holding the messages at or above that cutoff.
 *   What only a partition's reader knows (an ingest's duplicates, which
 *   outbox events it has seen) the other nodes ask it (`owner-requests.ts`),
 *   and queries gather its speed layer from it (`speed-gather.ts`).
 * - Batch on the node holding the lease: seal every partition, archive the
 *   sealed ranges to Parquet in the object store, recompute the views in
 *   DuckDB, upload them and publish through the fenced compare-and-set.
 * - Every node polls the control record and swaps to a new version once its
 *   consumer has reached the version's seals, dropping its speed layer below
 *   them in the same synchronous step.
 *
 * @module
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { AggregateTable } from '../../aggregates/index.ts';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  manifestOfParts, mayBuildOn, withFrozenOutcomes, type BatchManifest, type BatchPart, type FrozenErasing, type FrozenErasure, type ViewFileComputed,
} from '../../batch/index.ts';
import { withView, type Catalog, type ClusterSettings, type EventColumns, type ViewJson, type ViewSchema } from '../../definitions/index.ts';
import type { BackendAppend, BackendHost, BackendStatus, BatchFailure, BatchSummary, ClusterStatus, CycleContext, EngineBackend, EngineLogger, SpeedPart, StoredTypes } from '../../engine/index.ts';
import type { DataDirLock } from '../../engine/data-dir-lock.ts';
import type { ViewChangeCoordinator, ViewChangeHost } from '../../engine/engine-backend.ts';
import { viewFigures } from '../../engine/batch-history.ts';
import { SILENT } from '../../engine/index.ts';
import { encodePartial, InvalidQueryError, isWide, partialTable, planQuery, QueryBudget, type Query, type QueryPlan, type TableSpan } from '../../serving/index.ts';
import type { ShareRequest } from './share-messages.ts';
import { ShareRequests, SHARE_TIMEOUT_MS, type Share } from './share-requests.ts';
import { OwnerRequests, type OwnerAnswers, type PartitionOrigins, type SealAsked } from './owner-requests.ts';
import { OriginSet, type OriginRun } from './origin-set.ts';
import { gatherSpeed, type GatherSource } from './speed-gather.ts';
import { partitionsOfQuery } from './partition-router.ts';
import type { BalanceReport } from './partition-balancer.ts';
import { viewKey, type RealtimeStats } from '../../speed/index.ts';
import type { BatchControl } from './batch-control.ts';
import { CONTROL_KEY, type ControlRecord, type PublishedBatch } from './batch-control.ts';
import type { ClusterLog } from './cluster-log.ts';
import { DEFAULT_LEASE_MS, type ClusterNodeOptions } from './cluster-node-options.ts';
import { DuplicateLedger } from './duplicate-ledger.ts';
import { assertLeaseHeld, cycleFailure } from './fenced-cycle.ts';
import { chainPieces, checkPieces, verifiedBelow, type ChainPiece } from './archive-check.ts';
import { DamageReport, type MissingPiece } from './damage-report.ts';
import {
  ArchiveDamagedError, BatchFencedError, CyclePartRefusedError, BatchLeaseHeldError, BatchLeaseExpiringError, ClusterBucketMissingError, InvalidClusterRecordError, PartitionDivergedError, ShareVersionSkewError,
  LogBehindArchiveError, PartitionNotServedError, PartitionPurgedError, PositionWaitTimeoutError, ViewNotReadyError,
} from './errors.ts';
import { FirstOccurrenceFilter, type Verdict } from './first-occurrence.ts';
import { LogConsumer } from './log-consumer.ts';
import { FORGET_AFTER_MS, LIVENESS_MS, type NodeRegistry, type Heartbeat } from './node-registry.ts';
import { NodeSightings } from './node-sightings.ts';
import { forgetHistoryBelow } from './history-cleanup.ts';
import { frozenPartFetcher } from './frozen-sources.ts';
import { watchPartOwner } from './part-owner-watch.ts';
import type { ObjectBlobStore } from './object-blob-store.ts';
import { sweepArchive } from './archive-sweep.ts';
import { ClusterRetention, DEFAULT_CLUSTER_RETENTION_GRACE_MS, retentionFigures, withFrozen, type RetentionPlan } from './cluster-retention.ts';
import { NextChain, objectsOf } from './next-chain.ts';
import { ConsumedTail } from './consumed-tail.ts';
import { PartitionArchive, type ArchivedRange } from './partition-archive.ts';
import { ArchiveSizes, archivedEvents, knownSum, partitionEvents } from './partition-events.ts';
import { PartitionSpeed } from './partition-speed.ts';
import { loadPartitionOf, loadSharedVersion, type ServedVersion } from './published-version.ts';
import { isPartitioned, type PartitionBatch } from './partition-batch.ts';
import { SharedVersionStore } from './shared-version-store.ts';
import { newLosses, newRanges, type SharedManifest } from './shared-manifest.ts';
import { CycleParts, type PartAnswer, type PartRequest } from './cycle-parts.ts';
import { computePart, nodeTag, rangesOf, type ComputedPart, type PartWork } from './part-compute.ts';
import { AwaitedEvents } from './awaited-events.ts';
import type { PartitionOwnership } from './partition-ownership.ts';
import { foldersBelow, versionFolder } from './version-folder.ts';
import { versionObjects } from './version-objects.ts';
import { namedBy } from './kept-versions.ts';
import type { SharedSchema } from './shared-schema.ts';
import { highestTerm, localVersionFolders, newestLocalVersion } from './local-versions.ts';
import { restoreMissing } from './archive-restore.ts';
import type { NodeOutbox } from './node-outbox.ts';
import { OutboxPublisher, type ConsumerView, type SeenOrigins } from './outbox-publisher.ts';
import { fileSha256 } from '../../util/checksums.ts';
import { ClusterViewChanges, type SwitchedChanges } from './cluster-view-changes.ts';
import type { ClusterViewsRecord, PendingClusterChange } from './cluster-views-record.ts';
import { pendingCatalog, type PendingCatalog } from './pending-catalog.ts';
import type { RevisionedStore } from './revisioned-store.ts';
import type { ViewReads } from './switch-progress.ts';
import { markHolds } from './switching-mark.ts';
import { definitionsOf, type VersionDefinitions } from './version-definitions.ts';
import { ClusterErasures, purgeErased, type AppliedErasures, type ErasureValuesStore } from './cluster-erasure.ts';
import type { ClusterErasuresRecord } from './cluster-erasures-record.ts';
import { replacedBlobs } from './archive-erasure.ts';
import type { ErasureEntry } from '../../engine/engine-backend.ts';
import type { ErasureAudit } from '../../engine/engine-types.ts';

/** How often a node reads the control record (new versions, the lease) and writes its heartbeat. */
const POLL_MS = 250;
const HEARTBEAT_MS = 1_000;
/** How far behind this node another may be on a partition (in time) for the partition to move to it: two heartbeats. */
const HANDOVER_LAG_MS = 2 * HEARTBEAT_MS;
/** How often every node checks that the object store still holds the chain of the version it serves. */
const ARCHIVE_CHECK_MS = 5_000;
/** How often a partition that cannot be followed from the served cutoff is tried again. */
const RETRY_STALLED_MS = 2_000;
/** Seals whose rule digest a node remembers per partition: far more than the versions it may be behind. */
const SEAL_DIGESTS = 64;
/** How often a node compares its outbox with what its consumer has seen, and publishes again what NATS lost. */
const RECONCILE_MS = 1_000;
/** After a version fails to load, how long before the poll tries it again. */
const ADOPT_RETRY_MS = 2_000;
/** How long a node with a stalled partition waits between the cycles it has run to record what the log lost. */
const REPAIR_CYCLE_MS = 5_000;
/** How often the batch node looks for events to archive ahead of the next cycle, and how many a partition must hold for it. */
const AHEAD_MS = 250;
const AHEAD_EVENTS = 10_000;
/** How often the batch node looks for ranges to fold, and at most how often it sweeps the archive of objects no kept version names. */
const COMPACT_MS = 1_000;
const SWEEP_MS = 5_000;
/** The archive's offsets already say where each event is: no cutoff filter applies to its files. */
/** How long an owner's part of a cycle is waited for at most (a full recompute of its partitions); an owner no longer heard from is given up on sooner. */
const PART_TIMEOUT_MS = 30 * 60_000;
/** How often the batch node checks that the owners computing parts are still heard from. */
const PART_WATCH_MS = 1_000;
/** How long an owner asked for its part waits to serve the version the cycle builds on. */
const PART_ADOPT_WAIT_MS = 10_000;
/** A partition's ownership lease, unless the options say otherwise: failover within about 8 s. */
export const PARTITION_LEASE_MS = 6_000;

/** What a verdict of the duplicate rule does to a partition's speed layer: held, or being taken up. */
function intoSpeed(speed: PartitionSpeed, verdict: Verdict, compile: (views: readonly ViewJson[]) => ViewSchema[]): void {
  if (verdict.kind === 'admitted' && verdict.admitted.events.count > 0) speed.apply(verdict.admitted);
  else if (verdict.kind === 'seal') speed.seal(verdict.seq, compile(verdict.include));
}

/** Whether a heartbeat says its node holds partition `p`'s speed layer whole: one of a release before the division holds every one. */
const holdsBy = (beat: Heartbeat, p: number) => beat.speed === undefined || beat.speed.includes(p);

/** Whether a heartbeat says its node reads partition `p` (its `applied` counts there): one of a release before the division reads every one. */
const readsBy = (beat: Heartbeat, p: number) => beat.reads === undefined || beat.reads.includes(p);

/** The events a chain archives: what a version built from it covers. */
const chainEvents = (chain: readonly ArchivedRange[]) => chain.reduce((n, r) => n + Object.values(r.files).reduce((m, f) => m + f.rows, 0), 0);

/** A running batch cycle's term and version, fixed as it takes the lease and catches up (see `fenced-cycle.ts`). */
interface Cycle {
  term: number | null;
  version: number;
}

/** What a cycle published, and what its last steps need. */
interface ComputedVersion {
  readonly published: PublishedBatch;
  /** The cutoffs of the version served before it: the log is purged below them. */
  readonly previous: readonly number[] | undefined;
  readonly chain: readonly ArchivedRange[];
  readonly store: SharedVersionStore;
  /** The manifest as published. */
  readonly manifest: SharedManifest;
  /** When the cycle began (`performance.now()`). */
  readonly started: number;
  readonly exportMs: number;
  /** Events in the whole chain, and those this cycle read: all of them in a full recompute, the new ranges' in an incremental one. */
  readonly events: number;
  readonly inputEvents: number;
  /** This node's own part of it. */
  readonly own: ComputedPart;
  /** How long taking the lease, checking the archive and sealing the log took. */
  readonly sealedMs: number;
  /** The view changes it switched in, taken out of the views record once it is published. */
  readonly switched: SwitchedChanges;
  /** The erasures it applied: recorded done once it is published and what held the values is gone. */
  readonly erased?: AppliedErasures;
}

/** What a node is made of, opened by `ClusterNode.open`. */
export interface Parts {
  readonly catalog: Catalog;
  readonly cluster: ClusterSettings;
  /** This node's name, unique in the cluster. */
  readonly node: string;
  /** This process, as its heartbeats name it: random, so a restart under the same name is told apart. */
  readonly instanceId: string;
  readonly options: ClusterNodeOptions;
  readonly lock: DataDirLock;
  readonly nc: NatsConnection;
  readonly log: ClusterLog;
  readonly control: BatchControl;
  readonly blobs: ObjectBlobStore;
  readonly registry: NodeRegistry;
  readonly schema: SharedSchema;
  readonly outbox: NodeOutbox;
  readonly duck: { readonly instance: DuckDBInstance; readonly serving: DuckDBConnection; readonly batch: DuckDBConnection };
  /** This node's part in dividing the partitions among the nodes. */
  readonly ownership: PartitionOwnership;
  /** The cluster's views record: the view changes asked for and not yet switched in. */
  readonly views: RevisionedStore<ClusterViewsRecord>;
  /** The cluster's erasures record: the erasures asked for and not done yet, and the audit of those done. */
  readonly erasures: RevisionedStore<ClusterErasuresRecord>;
  /** Each pending erasure's values, erased from the servers' files once it is done. */
  readonly erasureValues: ErasureValuesStore;
}

/** This node's heartbeat as of now; `speed` lists the partitions whose speed layer it holds whole, `events` how many events it holds of each of those. */
export function heartbeat(
  p: Pick<Parts, 'node' | 'instanceId' | 'options'>, applied: readonly number[], batchVersion: number | null, speed: readonly number[] = [], reads: readonly number[] = [],
  events?: readonly (number | null)[],
): Heartbeat {
  return { node: p.node, instance: p.instanceId, host: hostname(), pid: process.pid, url: p.options.url ?? null, applied, batchVersion, speed, reads, ...(events === undefined ? {} : { events }), at: Date.now() };
}

/**
 * The backend of a cluster node.
 *
 * @example
 * ```ts
 * const backend = new NatsBackend(parts);   // ClusterNode.open builds the parts
 * ```
 */
export class NatsBackend implements EngineBackend {
  /** The views served: the served version's (`version-definitions.ts`), which a version published with changed views replaces. */
  #catalog: Catalog;
  /** The served version's view definitions with their version numbers; undefined before one that carries them. */
  #definitions: VersionDefinitions | undefined;
  /** The view changes asked of any node, set once the core asked for them ({@link viewChanges}). */
  #views: ClusterViewChanges | undefined;
  /** Why the views record could not be read at the last poll, if it could not. */
  #viewsRecordError: string | undefined;
  readonly name: string;
  readonly partitions: number;
  readonly #p: Parts;
  readonly #logger: EngineLogger;
  readonly #archive: PartitionArchive;
  /** What a cycle retires of the archive and deletes (`cluster-retention.ts`). */
  readonly #retention: ClusterRetention;
  /** The erasures asked for and done (`cluster-erasure.ts`). */
  readonly #erasures: ClusterErasures;
  /** The archive objects' sizes, for status. */
  readonly #sizes: ArchiveSizes;
  /** What the consumer read and the archive has yet to archive, kept while this node holds the batch lease. */
  readonly #tail: ConsumedTail;
  readonly #ledger: DuplicateLedger;
  readonly #damage: DamageReport;
  readonly #publisher: OutboxPublisher;
  /**
   * Where each stream ended when this node started, once its consumer read
   * that far (undefined before: not caught up): what the outbox's
   * reconciliation measures against.
   */
  #startEnds: readonly number[] | undefined;
  /** Per partition, the origins of every outbox its rule had seen at each seal applied: an outbox lets go of them once a version with that cutoff is verified. */
  readonly #sealOrigins: Map<number, ReadonlyMap<string, readonly OriginRun[]>>[];
  /** The partitions this node reads (every one until the first balancing step): its own, those it takes over, its standby ones. */
  readonly #reading: Set<number>;
  /** Per partition, the highest sequence an ingest on this node was answered with: its queries wait for the owners to have read that far. */
  #acknowledged: number[];
  /**
   * Per partition, its speed layer, held for the partitions this node reads
   * (every one until the first balancing step): a query gathers the others'
   * from their owners.
   */
  #speed: (PartitionSpeed | undefined)[] = [];
  /** Partitions whose speed layer is being read from the served cutoff, to take them over: not whole yet. */
  readonly #gaining = new Set<number>();
  /** Per partition this node is to take over or stand by for without owning it, since when it has been told so at every balancing step. */
  readonly #assignedSince = new Map<number, number>();
  /** Answers other nodes' asks for this node's speed layer states (set once started). */
  #shares: ShareRequests | undefined;
  /** Asks the other owners for their parts of a cycle, and computes this node's when asked (set once started). */
  #parts: CycleParts | undefined;
  /** Asks the readers of partitions this node does not read, and answers for those it reads (set once started). */
  #owners: OwnerRequests | undefined;
  /** The outbox release running, if any: one at a time, beside the archive check. */
  #releasing: Promise<void> | undefined;
  /** The cutoffs before any version: one array, so that a gathering sees the served version unchanged by identity. */
  readonly #noCutoffs: readonly number[];
  #consumer: LogConsumer | undefined;
  /** The served version's batch tables: of the partitions this node reads (every one for a version of an earlier release). */
  #batch: PartitionBatch | undefined;
  #version: PublishedBatch | null = null;
  /** The archive ranges the served version was computed from. */
  #chain: readonly ArchivedRange[] = [];
  /** Every object of the served version's chain, as its manifest lists them: what the archive check looks for. */
  #pieces: readonly ChainPiece[] = [];
  /** Views the served version lacks or built from another definition: answered once a version has them. */
  #stale: ReadonlySet<string> = new Set();
  #record: ControlRecord = { lease: null, published: null };
  #ends: number[];
  #nodes: Heartbeat[] = [];
  /** When each node's heartbeat last changed, on this node's clock: liveness never trusts another node's clock. */
  readonly #sightings = new NodeSightings();
  #adopting: Promise<void> = Promise.resolve();
  #host: BackendHost | undefined;
  #timers: NodeJS.Timeout[] = [];
  #pollFailures = 0;
  #adoptRetryAt = 0;
  /** When `#ends` was asked for. */
  #endsAt = 0;
  readonly #recovered = { republishedEvents: 0, restoredObjects: 0, rebuiltRecords: 0 };
  #repairCycleAt = 0;
  /** When the poll may next start a cycle for view changes no cycle carries (`#carryViewChanges`). */
  #viewCycleAt = 0;
  /** Partitions re-read after a leader change lost what this node had read. */
  #divergences = 0;
  /** Per partition, the rebuild running (one at a time). */
  readonly #rebuilding: (Promise<void> | undefined)[] = [];
  /** Partitions being read again now: what their rule has seen is not yet what the stream holds. */
  readonly #rebuildingNow = new Set<number>();
  /** Partitions this node cannot follow from the served cutoff, and why. */
  readonly #stalled = new Map<number, string>();
  /** Events this node had read that a version recorded as lost by NATS: awaited again from the outboxes. */
  readonly #awaited = new AwaitedEvents();
  /** What this node had applied at its recent looks, oldest first: see {@link #caughtUpOn}. */
  #appliedSamples: { readonly at: number; readonly applied: readonly number[] }[] = [];
  /** Per partition, the rule's digest at each seal applied: checked against the archive's at each version adopted. */
  readonly #sealDigests: Map<number, string>[];
  #closed = false;
  /** The chain the next cycle publishes, prepared between cycles on the batch node. */
  readonly #next: NextChain;
  /** Whether a cycle runs: no pass archiving ahead starts meanwhile. */
  #cycling = false;
  /** The part of another node's cycle this node computes now, if any: a cycle of its own waits for it. */
  #partRunning: Promise<void> = Promise.resolve();
  /** The pass archiving ahead that runs now, if any: a cycle waits for it. */
  #archivingAhead: Promise<void> = Promise.resolve();
  /** The compaction that runs now, if any, and its DuckDB connection. */
  #compacting: Promise<void> = Promise.resolve();
  #compactor: DuckDBConnection | undefined;
  /** When the archive is swept next. */
  #sweepAt = 0;

  constructor(parts: Parts) {
    this.#p = parts;
    this.#catalog = parts.catalog;
    this.name = parts.node;
    this.partitions = parts.cluster.partitions;
    this.#logger = parts.options.logger ?? SILENT;
    this.#tail = new ConsumedTail(parts.cluster.partitions);
    // Every node archives the partitions it owns (its part of each cycle): it keeps what its consumer read of them.
    this.#tail.keeping = true;
    this.#archive = new PartitionArchive(parts.log, parts.blobs, parts.duck.batch, parts.catalog, join(parts.options.dataDir, 'cluster'), this.#tail);
    this.#retention = new ClusterRetention(this.#archive, parts.duck.batch, join(parts.options.dataDir, 'cluster'));
    this.#next = new NextChain(this.#archive);
    this.#sizes = new ArchiveSizes(parts.blobs);
    this.#ledger = new DuplicateLedger(parts.cluster.partitions);
    this.#ends = new Array<number>(parts.cluster.partitions).fill(0);
    this.#noCutoffs = Object.freeze(new Array<number>(parts.cluster.partitions).fill(0));
    this.#sealDigests = Array.from({ length: parts.cluster.partitions }, () => new Map<number, string>());
    this.#sealOrigins = Array.from({ length: parts.cluster.partitions }, () => new Map<number, ReadonlyMap<string, readonly OriginRun[]>>());
    this.#reading = new Set(Array.from({ length: parts.cluster.partitions }, (_, p) => p));
    this.#acknowledged = new Array<number>(parts.cluster.partitions).fill(0);
    this.#publisher = new OutboxPublisher(parts.outbox, parts.log, this.#logger);
    this.#damage = new DamageReport(this.#logger);
    this.#erasures = new ClusterErasures(parts.erasures, parts.erasureValues, this.#logger);
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  /** Each view's version number in the version served: 1 for a view never changed. */
  #servedVersion(name: string): number {
    return this.#definitions?.[name]?.version ?? 1;
  }

  /** The view changes of the cluster, asked of this node: recorded in the views record, switched in by the batch node's next cycle. */
  viewChanges(host: ViewChangeHost): ViewChangeCoordinator {
    this.#views = new ClusterViewChanges(host, { store: this.#p.views, node: this.name, leaseMs: this.#p.control.leaseMs, config: this.#p.catalog.config, servedVersion: (name) => this.#servedVersion(name), servedBatch: () => this.#version?.version ?? 0, cycleMayPublish: (version, term) => markHolds(this.#record, version, term) });
    return this.#views;
  }

  /** The core swapped the catalog: only ever to the one this backend gave it. */
  useCatalog(catalog: Catalog): void {
    this.#catalog = catalog;
  }

  /** `views` compiled against the event types served; one that does not fit (it never should: the asking node checked it) is logged and left out. */
  #compileIncluded(views: readonly ViewJson[]): ViewSchema[] {
    return views.flatMap((json) => {
      try {
        return [withView(this.#catalog, json).catalog.views.get(json.name)!];
      } catch (error) {
        this.#logger.error({ err: error, view: json.name }, 'a seal names a view definition that does not fit the event types; its speed layer is not folded');
        return [];
      }
    });
  }

  /**
   * Serves `catalog` (a version's views) from this synchronous step on:
   * definitions it does not have leave the speed layer (also those a seal
   * of a cycle that never published had it fold), unless a seal past the
   * cutoff included them (a cycle running now switches them in), and a partition whose
   * speed layer did not fold a new one from the cutoff (it read the seal
   * before it could) is read again from there.
   */
  #serveCatalog(catalog: Catalog): void {
    const changed = catalog !== this.#catalog;
    if (changed) {
      this.#catalog = catalog;
      this.#host?.swapCatalog(catalog);
    }
    const kept = new Set([...catalog.views.values()].map((v) => viewKey(v)));
    this.#speed.forEach((speed, p) => {
      if (speed === undefined) return;
      for (const view of speed.layer.held()) if (!kept.has(viewKey(view)) && !speed.includedPast(view)) speed.layer.retire(view);
      if (!changed) return;
      const missing = [...catalog.views.values()].filter((v) => !speed.layer.holdsWhole(v, speed.start));
      if (missing.length === 0) return;
      // Not answered from until read again: its speed layer lacks events of the view.
      this.#rebuildingNow.add(p);
      void this.#rebuild(p, `its speed layer did not fold view '${missing[0]!.name}' from the cutoff`).finally(() => this.#rebuildingNow.delete(p));
    });
  }

  get storedTypes(): StoredTypes {
    return this.#p.schema;
  }

  get batch(): PartitionBatch | undefined {
    return this.#batch;
  }

  /** Joins: loads the version to serve, checks the archive, follows every partition until caught up, then starts the background tasks. */
  async start(host: BackendHost): Promise<void> {
    this.#host = host;
    const { log, cluster, options } = this.#p;
    // Beating from the start: a process started under this name meanwhile sees this one alive, even while it catches up.
    this.#every(HEARTBEAT_MS, () => this.#beat());
    const published = await this.#startingVersion();
    await this.#checkArchive();
    this.#speed = Array.from({ length: cluster.partitions }, (_, p) => new PartitionSpeed(this.catalog, published?.cutoffs[p] ?? 0));
    this.#consumer = await LogConsumer.start(log, (verdict, p) => this.#apply(verdict, p), {
      filters: await this.#startingFilters(published),
      onMessage: (message) => this.#tail.keep(message),
      onError: (error, p) => {
        if (error instanceof PartitionDivergedError) return void this.#rebuild(p, error.message);
        if (error instanceof PartitionPurgedError) return this.#stall(p, error.message);
        // Anything else (NATS unreachable for longer than a read retries, say): stalled, so status says so, and read again.
        this.#logger.error({ err: error, partition: p }, 'following a partition failed; it is read again from the served cutoff');
        this.#stall(p, `following it failed: ${(error as Error)?.message ?? String(error)}`);
      },
    });
    const ends = await this.#consumer.catchUp(log, options.catchUpMs ?? 600_000);
    this.#ends = [...ends];
    this.#startEnds = ends;
    this.#logger.info({ node: this.name, applied: ends, batchVersion: published?.version ?? null }, 'joined the cluster');
    if (this.#stale.size > 0) {
      this.#logger.info({ views: [...this.#stale] }, 'views are new or changed; the batch layer computes them in its next cycle, and they answer from then on');
      if (this.mayRunBatch()) host.runBatch().catch((error: unknown) => this.#logger.warn({ err: error }, 'the batch cycle for new or changed views failed; the schedule retries'));
    }
    this.#every(POLL_MS, () => this.#poll());
    this.#every(RETRY_STALLED_MS, async () => this.#retryStalled());
    this.#every(RECONCILE_MS, async () => void (this.#recovered.republishedEvents += await this.#publisher.reconcile(await this.#readersView())));
    this.#every(options.archiveCheckMs ?? ARCHIVE_CHECK_MS, async () => void await this.#checkArchive());
    this.#every(HEARTBEAT_MS, () => this.#look());
    this.#every(this.#p.ownership.stepEveryMs, async () => {
      // A partition this node cannot follow (stalled) goes to another node meanwhile, which serves it whole.
      const report = await this.#p.ownership.step({ live: this.#liveNodes(), caughtUp: (p, node) => this.#caughtUpOn(p, node), unable: (p) => this.#stalled.has(p) });
      if (report !== undefined) this.#divide(report);
    });
    this.#every(Math.max(250, Math.floor((options.leaseMs ?? DEFAULT_LEASE_MS) / 3)), () => this.#holdLease());
    this.#every(AHEAD_MS, () => this.#archiveAhead());
    this.#every(COMPACT_MS, () => this.#compact());
    this.#shares = await ShareRequests.serve(this.#p.nc, { cluster: cluster.name, node: this.name, answer: (request) => this.share(request), logger: this.#logger });
    this.#owners = await OwnerRequests.serve(this.#p.nc, { cluster: cluster.name, node: this.name, answers: this.#ownerAnswers, logger: this.#logger });
    this.#parts = await CycleParts.serve(this.#p.nc, { cluster: cluster.name, node: this.name, compute: (request) => this.#answerPart(request), logger: this.#logger });
  }

  /**
   * The version to serve from the start, loaded: the newest of the one the
   * control record names and the one this node served last (its disk holds
   * it whole), since NATS may have lost the record's latest update or the
   * record may not be valid; the other one when the newer cannot be loaded
   * (the object store lost it and this node holds no copy); none when
   * neither loads. The record is repaired by the batch node and the poll
   * adopts what it names once it loads.
   */
  async #startingVersion(): Promise<PublishedBatch | null> {
    const { control, blobs, cluster } = this.#p;
    const fromRecord = await control.read().then((record) => {
      this.#record = record;
      return record.published;
    }, (error: unknown) => {
      if (!(error instanceof InvalidClusterRecordError)) throw error;
      this.#damage.invalid('control', [error]);
      return null;
    });
    const local = await newestLocalVersion(this.#versionsDir, blobs, cluster.partitions);
    const candidates = [fromRecord, local].filter((v): v is PublishedBatch => v !== null && v !== undefined).sort((a, b) => b.version - a.version);
    for (const published of candidates) {
      try {
        const loaded = await loadSharedVersion(blobs, this.#p.duck.serving, this.catalog, published, this.#versionsDir, new Set(this.#reading), this.#ownedHere());
        this.#definitions = (loaded.views.manifest as SharedManifest).definitions;
        this.#serveCatalog(loaded.catalog);
        this.#batch = loaded.views;
        this.#chain = loaded.ranges;
        await this.#archive.serveRetired((loaded.views.manifest as SharedManifest).retired);
        this.#stale = new Set(loaded.stale);
        this.#version = published;
        this.#pieces = await this.#piecesOf(published, loaded.views.manifest, loaded.ranges);
        if (published !== fromRecord && fromRecord !== null) this.#logger.warn({ version: published.version, record: fromRecord.version }, 'serving batch version the control record does not name yet');
        return published;
      } catch (error) {
        if (!(error instanceof ArchiveDamagedError)) throw error;
        this.#logger.warn({ err: error, version: published.version }, 'cannot load a batch version at start; trying the next one this node knows');
      }
    }
    return null;
  }

  /**
   * Per partition, where the duplicate rule starts: at the published cutoff,
   * resumed from the archive (the stream may be purged below it), or, before
   * any archive, from the partition's first message; null where the archive
   * cannot be read there (the partition stalls until it can).
   */
  async #startingFilters(published: PublishedBatch | null): Promise<(FirstOccurrenceFilter | null)[]> {
    return Promise.all(Array.from({ length: this.#p.cluster.partitions }, async (_, p) => {
      try {
        return await this.#filterAtCutoff(p, published?.cutoffs[p] ?? 0);
      } catch (error) {
        if (!(error instanceof ArchiveDamagedError)) throw error;
        this.#stall(p, error.message);
        return null;
      }
    }));
  }

  /** The duplicate rule of partition `p` at `cutoff`, from the archive of the served chain. */
  async #filterAtCutoff(p: number, cutoff: number): Promise<FirstOccurrenceFilter> {
    return (cutoff > 1 ? await this.#archive.resumeFilter(this.#chain, p, cutoff) : undefined) ?? new FirstOccurrenceFilter(this.catalog);
  }

  /**
   * Re-reads partition `p` from the served version's cutoff, with the rule
   * resumed from the archive, into a new speed layer: after this node found
   * it had read messages the stream no longer holds (a leader change, a crash
   * of every server), or a rule that differs from the archive's at a cutoff.
   * Where the stream no longer starts at the cutoff, the partition stalls
   * until a version records the loss. One at a time per partition, and only
   * of a partition this node reads; `counted` (a divergence, not a partition
   * taken up) goes into status.
   */
  #rebuild(p: number, why: string, counted = true): Promise<void> {
    const run = (this.#rebuilding[p] ?? Promise.resolve()).then(async () => {
      if (this.#closed || this.#consumer === undefined || !this.#reading.has(p)) return;
      if (counted) this.#logger.warn({ partition: p, why }, 'rebuilding a partition\'s speed layer from the served cutoff');
      else this.#logger.info({ partition: p, why }, 'reading a partition from the served cutoff');
      this.#rebuildingNow.add(p);
      try {
        const filter = await this.#filterAtCutoff(p, this.#version?.cutoffs[p] ?? 0);
        // The speed layer starts at the cutoff served when the old reading stopped: a version adopted meanwhile has a
        // later one, and the rule reads the messages between through without applying them.
        await this.#consumer.refollow(p, filter, () => {
          this.#speed[p] = new PartitionSpeed(this.catalog, this.#version?.cutoffs[p] ?? 0);
          this.#tail.drop(p);
        });
        if (counted) this.#divergences++;
        this.#unstall(p);
        this.#settleAwaited(p);
      } catch (error) {
        if (error instanceof PartitionPurgedError || error instanceof ArchiveDamagedError) return this.#stall(p, error.message);
        // NATS unreachable, say: stalled like the rest, so status says so and the partition is tried again.
        this.#logger.error({ err: error, partition: p }, 'could not rebuild a partition; it is tried again');
        this.#stall(p, `reading it again failed: ${(error as Error)?.message ?? String(error)}`);
      } finally {
        this.#rebuildingNow.delete(p);
      }
    });
    this.#rebuilding[p] = run;
    return run;
  }

  /** Lets go of the awaited events of `p` its rule has now seen again. */
  #settleAwaited(p: number): void {
    if (this.#awaited.settle(p, this.#consumer?.filters[p] ?? null)) this.#damage.awaiting(this.#awaited.list());
  }

  /** Partition `p` cannot be followed from the served cutoff for now: status says so, and it is tried again. */
  #stall(p: number, reason: string): void {
    this.#stalled.set(p, reason);
    this.#damage.stalled([...this.#stalled].map(([partition, r]) => ({ partition, reason: r })));
  }

  #unstall(p: number): void {
    if (!this.#stalled.delete(p)) return;
    this.#damage.stalled([...this.#stalled].map(([partition, reason]) => ({ partition, reason })));
  }

  /** Tries the stalled partitions again: the archive may be whole again, or a version may have recorded the loss. */
  async #retryStalled(): Promise<void> {
    for (const p of [...this.#stalled.keys()]) await this.#rebuild(p, 'retrying a stalled partition');
  }

  get #versionsDir(): string {
    return join(this.#p.options.dataDir, 'cluster', 'versions');
  }

  /** The objects of a version's chain; its manifest's digest is its local copy's, as fetched or written here. */
  async #piecesOf(published: PublishedBatch, manifest: BatchManifest, ranges: readonly ArchivedRange[]): Promise<ChainPiece[]> {
    const folder = versionFolder(published.version, published.term);
    return chainPieces(manifest, ranges, folder, await fileSha256(join(this.#versionsDir, folder, 'manifest.json')));
  }

  /**
   * Checks that the object store holds every object of the served version's
   * chain as its manifest lists it (one listing of the bucket), puts back
   * each missing one this node holds a good copy of, reports what is still
   * missing in status, and resolves with that. A node behind the published
   * version does not look: the batch node prunes old versions' objects.
   */
  async #checkArchive(): Promise<MissingPiece[]> {
    const pieces = this.#pieces;
    if ((this.#record.published?.version ?? 0) > (this.#version?.version ?? 0)) return [];
    let missing = await this.#missingOf(pieces);
    // Read again before putting anything back or reporting: the record this node polled may be older than a version an
    // erasure published since, which erased the objects of this node's version that held the erased values.
    if (missing.length > 0 && await this.#newerPublished()) return [];
    if (missing.length > 0) {
      const restored = await restoreMissing(this.#p.blobs, pieces, missing, { cacheDir: join(this.#p.options.dataDir, 'cluster', 'cache'), versionsDir: this.#versionsDir });
      if (restored.length > 0) {
        this.#recovered.restoredObjects += restored.length;
        this.#logger.warn({ restored }, `put back ${restored.length} object(s) the object store had lost, from this node's copies`);
        missing = await this.#missingOf(pieces);
      }
    }
    // A version adopted meanwhile has its own chain: this finding was about the one before.
    if (pieces === this.#pieces) {
      this.#damage.missing('archive', missing);
      if (missing.length === 0 && this.#version !== null) this.#releaseOutbox(this.#version);
    }
    return missing;
  }

  /** Whether the control record, read now, names a newer version than this node serves (one it cannot read says no). */
  async #newerPublished(): Promise<boolean> {
    const published = await this.#p.control.read().then((record) => record.published, () => null);
    return published !== null && published.version > (this.#version?.version ?? 0);
  }

  /**
   * Lets the outbox go below what the served version archived, in every
   * partition whose reader read it as the archive did (its rule's digest at
   * the cutoff is the archive's): the object store was just found to hold the
   * whole chain, and the batch node read each range back as it stored it.
   * Runs beside the check (asking owners may take a read wait), one at a time.
   */
  #releaseOutbox(published: PublishedBatch): void {
    this.#releasing ??= (async () => {
      const outbox = this.#publisher.outboxId;
      const seals = new Map<number, SealAsked>(this.#chain.flatMap((range) => {
        const p = range.partition;
        if (range.to !== published.cutoffs[p] || this.#publisher.held(p) === 0) return [];
        return [[p, { partition: p, seal: range.to, ...(range.digest === undefined ? {} : { digest: range.digest }) }]];
      }));
      const seen = await this.#byReader([...seals.keys()], (p) => this.#sealRunsHere(outbox, seals.get(p)!),
        (owner, ps) => this.#owners!.sealOrigins(owner, outbox, ps.map((p) => seals.get(p)!), this.#askTimeoutMs));
      for (const [p, runs] of seen) if (runs !== null) await this.#publisher.release(p, this.#publisher.watermark(p, runs));
    })().catch((error: unknown) => this.#logger.warn({ err: error }, 'could not let the outbox go below the archived version; the next check tries again')).finally(() => (this.#releasing = undefined));
  }

  /** What this node's rule had seen of `outbox` at a seal of a partition it reads, where it agrees with the archive's digest there; else null. */
  #sealRunsHere(outbox: string, asked: SealAsked): readonly OriginRun[] | null {
    const p = asked.partition;
    const record = this.#sealOrigins[p]?.get(asked.seal);
    if (record === undefined || !this.#reading.has(p) || this.#stalled.has(p)) return null;
    if (asked.digest !== undefined && this.#sealDigests[p]!.get(asked.seal) !== asked.digest) return null;
    return record.get(outbox) ?? [];
  }

  /** What this node's rule has seen of `outbox` in partition `p`, with how far it applied it: null where it does not read it whole now. */
  #originsHere(outbox: string, p: number): PartitionOrigins | null {
    const filter = this.#consumer?.filters[p] ?? null;
    if (filter === null || !this.#reading.has(p) || this.#rebuildingNow.has(p)) return null;
    return { applied: this.#consumer!.applied[p]!, runs: filter.originsOf(outbox).runs };
  }

  /** This node's answers to the owner requests of nodes that do not read its partitions. */
  get #ownerAnswers(): OwnerAnswers {
    return {
      origins: async (outbox, partitions) => partitions.map((p) => this.#originsHere(outbox, p)),
      sealOrigins: async (outbox, seals) => seals.map((asked) => this.#sealRunsHere(outbox, asked)),
      applied: async (position, messages) => {
        await this.#readAsFar(position);
        return this.#ledger.duplicatesIn(messages) ?? null;
      },
    };
  }

  /** Who reads each of `partitions`: this node (`here`, also where no other node can be asked), or each owner, with its partitions. */
  #readersOf(partitions: Iterable<number>): { here: number[]; asked: Map<string, number[]> } {
    const here: number[] = [];
    const asked = new Map<string, number[]>();
    const owners = this.#p.ownership.owners();
    for (const p of new Set(partitions)) {
      const owner = owners[p]?.owner ?? null;
      if (this.#reading.has(p) || owner === null || owner === this.name || this.#owners === undefined) here.push(p);
      else asked.set(owner, [...(asked.get(owner) ?? []), p]);
    }
    return { here, asked };
  }

  /**
   * Per partition of `partitions`, what its reader says: this node where it
   * reads it (`here`), else the partition's owner, asked once for all of its
   * partitions (`ask`); null where no node could say.
   */
  async #byReader<T>(partitions: readonly number[], here: (p: number) => T | null, ask: (owner: string, ps: number[]) => Promise<readonly (T | null)[]>): Promise<Map<number, T | null>> {
    const readers = this.#readersOf(partitions);
    const answers = new Map<number, T | null>(readers.here.map((p) => [p, here(p)]));
    await Promise.all([...readers.asked].map(async ([owner, ps]) => {
      const said = await ask(owner, ps).catch((error: unknown) => this.#unasked(error, owner, ps, ps.map(() => null)));
      ps.forEach((p, i) => answers.set(p, said[i] ?? null));
    }));
    return answers;
  }

  /** Logs an owner that could not be asked, and resolves with `instead`. */
  #unasked<T>(error: unknown, owner: string, partitions: readonly number[], instead: T): T {
    this.#logger.warn({ err: error, owner, partitions }, 'a partition\'s owner could not be asked; asked again later');
    return instead;
  }

  /** How long an ask of another node waits: a share or an answer is read from memory, once the node has read as far as asked (at most its read wait). */
  get #askTimeoutMs(): number {
    return Math.min(SHARE_TIMEOUT_MS, this.#readWaitMs + 1_000);
  }

  /** What each partition's reader has seen of this node's outbox, as the outbox's reconciliation reads it: asked of the owners once per round. */
  async #readersView(): Promise<ConsumerView> {
    const outbox = this.#publisher.outboxId;
    const partitions = Array.from({ length: this.partitions }, (_, p) => p).filter((p) => this.#publisher.held(p) > 0);
    const said = await this.#byReader(partitions, (p) => this.#originsHere(outbox, p), (owner, ps) => this.#owners!.origins(owner, outbox, ps, this.#askTimeoutMs));
    const seen = new Map<number, SeenOrigins>();
    for (const [p, origins] of said) {
      if (origins === null) continue;
      const filter = this.#reading.has(p) ? this.#consumer?.filters[p] : undefined;
      seen.set(p, { seen: filter?.originsOf(outbox) ?? OriginSet.of(origins.runs), applied: origins.applied });
    }
    const startEnds = this.#startEnds;
    return { origins: (p) => seen.get(p) ?? null, end: (p) => ({ seq: this.#ends[p] ?? 0, at: this.#endsAt }), startEnd: (p) => startEnds?.[p] };
  }

  async #missingOf(pieces: readonly ChainPiece[]): Promise<MissingPiece[]> {
    return checkPieces(this.#p.blobs, pieces).catch((error: unknown) => {
      if (!(error instanceof ClusterBucketMissingError)) throw error;
      return pieces.map((piece) => ({ blob: piece.blob, problem: `the bucket ${error.bucket} does not exist` }));
    });
  }

  /** The duplicate rule's verdict on the next message of partition `p`, in order: into the speed layer, and the ledger. */
  #apply(verdict: Verdict, p: number): void {
    const speed = this.#speed[p];
    if (speed !== undefined) intoSpeed(speed, verdict, (views) => views.length === 0 ? [] : this.#compileIncluded(views));
    switch (verdict.kind) {
      case 'admitted': {
        const { admitted } = verdict;
        if (this.#awaited.has(p)) this.#settleAwaited(p);
        this.#ledger.record(p, admitted.seq, admitted.duplicates);
        break;
      }
      case 'repeated-message':
        this.#ledger.record(p, verdict.seq, verdict.count);
        break;
      case 'seal':
        this.#sealDigests[p]!.set(verdict.seq, verdict.digest);
        if (this.#sealDigests[p]!.size > SEAL_DIGESTS) this.#sealDigests[p]!.delete(this.#sealDigests[p]!.keys().next().value!);
        // The consumer is set once it has started every partition: a seal read before then is not recorded (a later one is).
        this.#sealOrigins[p]!.set(verdict.seq, this.#consumer?.filters[p]?.origins() ?? new Map());
        if (this.#sealOrigins[p]!.size > SEAL_DIGESTS) this.#sealOrigins[p]!.delete(this.#sealOrigins[p]!.keys().next().value!);
        break;
      case 'skipped':
      case 'history':
        // A history message is no ingest's: nothing waits for its duplicates.
        this.#ledger.record(p, verdict.seq, 0);
        break;
    }
  }

  /** Runs `task` every `ms`, one at a time, logging what fails. */
  #every(ms: number, task: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.#closed) return;
      running = true;
      task().catch((error: unknown) => this.#logger.warn({ err: error }, 'a cluster background task failed; retrying')).finally(() => (running = false));
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** Reads the control record; a newer published version is adopted. */
  async #poll(): Promise<void> {
    try {
      this.#record = await this.#p.control.read();
      this.#pollFailures = 0;
      this.#damage.invalid('control', []);
    } catch (error) {
      // Not valid: nothing of it is read, the served version stays, and no lease is taken or renewed from it, until it is rebuilt.
      if (error instanceof InvalidClusterRecordError) {
        this.#damage.invalid('control', [error]);
        return this.#rebuildRecord();
      }
      // The control bucket has one replica: while its server is down, batch cycles pause and nothing else does.
      if (this.#pollFailures++ % 40 === 0) this.#logger.warn({ err: error }, 'cannot read the batch control record; batch cycles pause until it is back');
      return;
    }
    if (this.#recordLost || this.#recordBehind) return this.#rebuildRecord();
    // The view changes other nodes were asked for, for status and for queries of a view being added.
    await this.#views?.refresh().then(() => (this.#viewsRecordError = undefined), (error: unknown) => {
      // Said once per cause, not at every poll.
      const message = String((error as Error)?.message ?? error);
      if (message !== this.#viewsRecordError) this.#logger.warn({ err: error }, 'cannot read the cluster\'s views record; view changes wait until it can be read');
      this.#viewsRecordError = message;
    });
    // Before any version is published too: the first cycle may be the one that was carrying the change when it died.
    this.#carryViewChanges();
    if (this.#record.published === null && this.#version === null) return this.#serveLocal();
    const published = this.#record.published;
    if (published !== null && published.version > (this.#version?.version ?? 0) && Date.now() >= this.#adoptRetryAt) void this.#adopt(published);
    // A node that cannot follow a partition it reads has a cycle run (here, or by the batch node, which may not read
    // that partition and so never finds it stalled): the cycle records what the stream lost, and the partition is read on.
    if (this.#stalled.size > 0 && this.#host?.batchRunning === false && Date.now() >= this.#repairCycleAt) {
      this.#repairCycleAt = Date.now() + REPAIR_CYCLE_MS;
      this.#host.runBatch().catch((error: unknown) => this.#logger.warn({ err: error }, 'a cycle to record what the log lost failed; retrying'));
    }
  }

  /**
   * A view change no cycle carries is switched in by the batch node's next
   * poll rather than its next scheduled cycle (which may be an hour away):
   * the node that asked runs cycles until the change is in, but it may have
   * died first, or given up while the batch node changed hands.
   */
  #carryViewChanges(): void {
    const host = this.#host;
    if (host === undefined || host.batchRunning || this.#views?.waitingForCycle !== true || !this.mayRunBatch() || Date.now() < this.#viewCycleAt) return;
    this.#viewCycleAt = Date.now() + REPAIR_CYCLE_MS;
    host.runBatch().catch((error: unknown) => this.#logger.warn({ err: error }, 'a cycle to switch in the view changes asked for failed; retrying'));
  }

  /**
   * Replaces a control record that is not valid with one naming the version
   * this node serves, and this node as the lease holder under a term above
   * every term a version or range was named by. Any node may; the
   * compare-and-set lets one win. A node that serves no version does it only
   * for a cluster that has nothing to lose (no version anywhere, no stream
   * purged): a record naming no version would otherwise make a new batch
   * node start the archive over.
   */
  async #rebuildRecord(): Promise<void> {
    const { blobs, control } = this.#p;
    if (this.#version === null ? !(await this.#clusterIsNew()) : this.#version.version < (this.#record.published?.version ?? 0)) return;
    const names = [...(await blobs.list().catch(() => [])).map((b) => b.name), ...(await localVersionFolders(this.#versionsDir))];
    const floor = Math.max(highestTerm(names), this.#version?.term ?? 0, this.#record.lease?.term ?? 0);
    if (await control.rebuild(this.#version, floor)) {
      this.#recovered.rebuiltRecords++;
      this.#logger.warn({ version: this.#version?.version ?? null, term: floor + 1 }, 'rebuilt the batch control record from the version this node serves; this node holds the batch lease');
      this.#record = await control.read();
      this.#damage.invalid('control', []);
    }
  }

  /**
   * While neither the control record nor this node names a version, serves
   * the newest one this node's disk holds whole, as a node does at start: a
   * crash of every NATS server in the middle of a cycle can leave a version
   * computed but unpublished (or published and lost with the record) that no
   * node serves, and no node that serves none may start the archive over.
   * Once served, the poll rebuilds the record from it.
   */
  async #serveLocal(): Promise<void> {
    if (Date.now() < this.#adoptRetryAt) return;
    this.#adoptRetryAt = Date.now() + ADOPT_RETRY_MS;
    const local = await newestLocalVersion(this.#versionsDir, this.#p.blobs, this.#p.cluster.partitions);
    if (local === undefined) return;
    this.#logger.warn({ version: local.version }, 'the control record names no batch version and this node serves none: serving the newest this node holds');
    await this.#adopt(local);
  }

  /**
   * Whether the control record names no version while this node serves one:
   * NATS lost the record (a crash of every server). Taking the lease on it
   * would start the terms over, and names of versions and ranges with them.
   */
  get #recordLost(): boolean {
    return this.#record.published === null && this.#version !== null;
  }

  /**
   * Whether the control record names an older version than this node
   * serves: NATS lost its latest updates. A batch node that extended the
   * record's version would publish versions lacking what the newer one
   * holds, so the record is rewritten to name this node's.
   */
  get #recordBehind(): boolean {
    const published = this.#record.published;
    return published !== null && this.#version !== null && published.version < this.#version.version;
  }

  /**
   * Whether nothing anywhere holds a batch version, so that a record naming
   * none loses nothing: no version in the object store (a listing that fails
   * says nothing), none on this node's disk, none served by any node heard
   * from. A stream purged meanwhile is then a stretch NATS lost, which the
   * first cycle records as such.
   */
  async #clusterIsNew(): Promise<boolean> {
    const { blobs, registry, cluster } = this.#p;
    // A version is one with a manifest: a cycle cut short leaves view files (its own, and other owners' parts) but none.
    if ((await newestLocalVersion(this.#versionsDir, blobs, cluster.partitions)) !== undefined) return false;
    if ((await registry.nodes()).some((n) => n.batchVersion !== null)) return false;
    return !(await blobs.list('batch/')).some((b) => b.name.endsWith('/manifest.json'));
  }

  /** Takes the lease when it is free, or renews it when this node holds it; not while the record is not valid or lost (the poll rebuilds it). */
  async #holdLease(): Promise<void> {
    if (this.#damage.invalidControlRecord !== undefined || this.#recordLost || this.#recordBehind) return;
    await this.#p.control.acquire().catch((error: unknown) => {
      if (!(error instanceof InvalidClusterRecordError)) throw error;
      this.#damage.invalid('control', [error]);
    });
  }

  /** Writes this node's heartbeat; a task of its own, so that a slow look at the others never delays it. */
  async #beat(): Promise<void> {
    await this.#p.registry.beat(heartbeat(this.#p, this.#applied(), this.#version?.version ?? null, this.#held(), this.#follows(), this.#eventsHeld()));
  }

  /** Reads the other nodes' heartbeats and where each partition ends, for status. */
  async #look(): Promise<void> {
    const { nodes, invalid } = await this.#p.registry.census();
    this.#nodes = nodes;
    this.#sightings.observe(nodes);
    this.#damage.invalid('registry', invalid);
    // What was applied before the ends are asked for: read after, it may hold messages that came after the ends were
    // read, and a stream would seem to end below what this node applied when it did not.
    const applied = this.#applied();
    const lookedAt = Date.now();
    this.#sampleApplied(applied, performance.now());
    this.#ends = [...await this.#p.log.ends()];
    this.#endsAt = lookedAt;
    // A stream that ends below what this node applied lost messages it read (a crash of every server): read it again.
    for (const { partition } of this.#awaited.list()) this.#settleAwaited(partition);
    this.#ends.forEach((end, p) => {
      if (this.#consumer?.follows(p) === true && end < applied[p]!) void this.#rebuild(p, `its stream ends at ${end}, below the ${applied[p]} this node applied`);
    });
  }

  /** The nodes whose heartbeat this node heard within a partition lease time (three heartbeats at least: a beat and a look may each be a second late). */
  #liveNodes(): string[] {
    const within = Math.max(3 * HEARTBEAT_MS, this.#p.options.partitionLeaseMs ?? PARTITION_LEASE_MS);
    return this.#nodes.filter((n) => this.#sightings.heardWithin(n.node, within)).map((n) => n.node);
  }

  /**
   * Whether `node` keeps pace with this node on partition `p` and holds its
   * speed layer whole, by its last heartbeat: it has applied what this node
   * had applied {@link HANDOVER_LAG_MS} ago (this node's own clock, so no
   * clock of another machine is compared). Asking for as far as this node
   * has applied now would never hold under steady ingest, as a heartbeat is
   * up to a second old; a lag this small costs no exactness, since a query
   * waits for its owner to have read as far as its asker (`atLeast`), and
   * an ingest for its events to be applied.
   */
  #caughtUpOn(p: number, node: string): boolean {
    const beat = this.#nodes.find((n) => n.node === node);
    return beat !== undefined && (beat.applied[p] ?? 0) >= (this.#appliedBefore(HANDOVER_LAG_MS)[p] ?? 0) && holdsBy(beat, p);
  }

  /** Keeps what this node had applied at each look, for {@link HANDOVER_LAG_MS} and a few looks more. */
  #sampleApplied(applied: readonly number[], at: number): void {
    this.#appliedSamples.push({ at, applied });
    while (this.#appliedSamples.length > 2 && this.#appliedSamples[1]!.at <= at - HANDOVER_LAG_MS - 3 * HEARTBEAT_MS) this.#appliedSamples.shift();
  }

  /** What this node had applied `ms` ago, as its looks sampled it; what it has applied now before it has sampled for that long. */
  #appliedBefore(ms: number): readonly number[] {
    const until = performance.now() - ms;
    let sample: readonly number[] | undefined;
    for (const s of this.#appliedSamples) if (s.at <= until) sample = s.applied;
    return sample ?? this.#applied();
  }

  #applied(): number[] {
    return [...(this.#consumer?.applied ?? new Array<number>(this.#p.cluster.partitions).fill(0))];
  }

  /** Queues the swap to `published`: adoptions run one at a time, in order. */
  #adopt(published: PublishedBatch): Promise<void> {
    const adoption = this.#adopting.then(async () => {
      if (published.version <= (this.#version?.version ?? 0) || this.#closed) return;
      const began = performance.now();
      const loaded = await loadSharedVersion(this.#p.blobs, this.#p.duck.serving, this.catalog, published, this.#versionsDir, new Set(this.#reading), this.#ownedHere(), this.#served).catch((error: unknown) => {
        this.#adoptRetryAt = Date.now() + ADOPT_RETRY_MS;
        throw error;
      });
      const loadMs = performance.now() - began;
      // Its leaderboard read aids are built before it serves (the old version serves meanwhile); the batch node's own are already.
      await loaded.views.settled();
      const aidsMs = performance.now() - began - loadMs;
      // The seals are in the stream before the version is published: once applied, every generation below them is
      // closed. A stalled partition waits for nothing: it is read again from the new cutoff once the version serves.
      const consumer = this.#consumer!;
      await consumer.waitForFollowed(published.cutoffs, this.#p.options.catchUpMs ?? 600_000);
      if (published.version <= (this.#version?.version ?? 0) || this.#closed) return;
      const previous = this.#chain;
      // One synchronous step: no query sees both layers holding an event, or neither.
      this.#batch = loaded.views;
      this.#chain = loaded.ranges;
      this.#archive.serveRetired((loaded.views.manifest as SharedManifest).retired).catch((error: unknown) => this.#logger.warn({ err: error }, 'could not delete local copies of archive objects retention deleted'));
      this.#stale = new Set(loaded.stale);
      this.#version = published;
      const losses = newLosses(previous, loaded.ranges);
      this.#speed.forEach((speed, p) => {
        const lost = losses.get(p) ?? [];
        // A partition whose speed layer is another node's: that node awaits what this version records as lost.
        if (speed !== undefined) this.#awaited.add(p, published.version, lost, speed.dropBefore(published.cutoffs[p]!, lost), consumer.filters[p] ?? null);
      });
      // The version's views, served from this step on: the speed layer folded any new one from the seal at its cutoff.
      this.#definitions = (loaded.views.manifest as SharedManifest).definitions;
      this.#serveCatalog(loaded.catalog);
      if (losses.size > 0) this.#damage.awaiting(this.#awaited.list());
      this.#pieces = await this.#piecesOf(published, loaded.views.manifest, loaded.ranges);
      const ms = roundedMs({ loadMs, aidsMs, totalMs: performance.now() - began });
      this.#logger.info({ version: published.version, cutoffs: published.cutoffs, ...ms }, 'serving batch version');
      // Partitions taken up while the version loaded: their tables are loaded next, in the queue after this adoption.
      for (const p of this.#reading) if (!loaded.views.has(p)) void this.#serveBatchOf(p).catch(() => undefined);
      for (const p of this.#allPartitions) if (!this.#reading.has(p) && loaded.views.has(p) && loaded.views.partitioned) this.#batch = this.#batch?.without(p);
      void this.#compactBatch();
      for (const [p, why] of this.#divergedAt(published, previous, loaded.ranges)) void this.#rebuild(p, why);
      await this.#pruneLocalVersions(published);
      // An erasure replaced objects: this node's copies of the old ones hold the erased values.
      const replaced = replacedBlobs(previous, loaded.ranges);
      if (replaced.length > 0) await this.#archive.forgetCopies(replaced);
    });
    this.#adopting = adoption.catch((error: unknown) => this.#logger.error({ err: error, version: published.version }, 'could not adopt a published batch version; the previous one keeps serving'));
    return adoption;
  }

  /**
   * The partitions this node must read again from `published`'s cutoffs: its
   * own rule's digest at the cutoff differs from the one the archive
   * recorded there (it read messages NATS later lost or replaced), or it
   * follows none there (stalled), or a new range records a stretch NATS lost.
   */
  #divergedAt(published: PublishedBatch, previous: readonly ArchivedRange[], ranges: readonly ArchivedRange[]): Map<number, string> {
    const diverged = new Map<number, string>();
    for (const [p, lost] of newLosses(previous, ranges)) {
      diverged.set(p, `the archive records sequences ${lost.map((l) => `${l.from} to ${l.to - 1}`).join(', ')} lost from the stream`);
    }
    for (const r of newRanges(previous, ranges)) {
      const cutoff = published.cutoffs[r.partition];
      const mine = this.#sealDigests[r.partition]!.get(cutoff!);
      if (r.to === cutoff && r.digest !== undefined && mine !== r.digest && this.#consumer?.follows(r.partition) === true) {
        diverged.set(r.partition, `this node's duplicate rule at ${cutoff} (${mine ?? 'no seal there'}) differs from the archive's (${r.digest})`);
      }
    }
    for (const p of this.#stalled.keys()) diverged.set(p, 'stalled');
    return diverged;
  }

  async #pruneLocalVersions(published: PublishedBatch): Promise<void> {
    const dir = join(this.#versionsDir, 'batch');
    for (const name of foldersBelow(await readdir(dir).catch(() => [] as string[]), published)) await rm(join(dir, name), { recursive: true, force: true });
  }

  /**
   * Appends validated events of one type; resolves once JetStream has
   * acknowledged them and each partition's reader (this node, or the
   * partition's owner, asked) has applied them, with the duplicates they
   * counted and the position to send back as a query's `after` on any node.
   */
  async append(eventType: string, columns: EventColumns): Promise<BackendAppend> {
    const { position, placement } = await this.#publisher.append(eventType, columns);
    this.#acknowledged = this.#acknowledged.map((seq, p) => Math.max(seq, position[p] ?? 0));
    // Per partition, the messages the events went into (a message holds many).
    const messages = new Map<number, Map<number, readonly [number, number]>>();
    for (let i = 0; i < columns.count; i++) {
      const p = placement.partition[i]!;
      const seq = placement.seq[i]!;
      if (!messages.has(p)) messages.set(p, new Map());
      messages.get(p)!.set(seq, [p, seq]);
    }
    const { duplicates, uncounted } = await this.#duplicatesOf(position, messages);
    return { duplicates, ...(uncounted ? { uncounted: true } : {}), offsets: null, position };
  }

  /**
   * The duplicates among an append's `messages`, counted by each partition's
   * reader once it applied `position` there: this node's ledger, and each
   * owner asked; what no reader could count in time is logged, left out,
   * and flagged `uncounted` (so the ingest cannot say how many it stored).
   */
  async #duplicatesOf(position: readonly number[], messages: ReadonlyMap<number, ReadonlyMap<number, readonly [number, number]>>): Promise<{ duplicates: number; uncounted: boolean }> {
    const of = (ps: readonly number[]) => ({
      wanted: position.map((seq, p) => (ps.includes(p) ? seq : 0)),
      pairs: ps.flatMap((p) => [...messages.get(p)!.values()]),
    });
    const { here, asked } = this.#readersOf(messages.keys());
    const local = of(here);
    const [appliedHere, ...remote] = await Promise.all([
      this.#consumer!.waitForFollowed(local.wanted, this.#readWaitMs).then(() => true, (error: unknown) => {
        if (!(error instanceof PositionWaitTimeoutError)) throw error;
        return false;
      }),
      ...[...asked].map(([owner, ps]) => {
        const { wanted, pairs } = of(ps);
        return this.#owners!.applied(owner, wanted, pairs, this.#askTimeoutMs).catch((error: unknown) => this.#unasked(error, owner, ps, null));
      }),
    ]);
    const counted = [here.length === 0 ? 0 : appliedHere === true ? this.#ledger.duplicatesIn(local.pairs) ?? null : null, ...(remote as (number | null)[])];
    const uncounted = counted.includes(null);
    if (uncounted) this.#logger.warn({ position }, 'ingested events were acknowledged but not yet applied by a partition\'s reader; their duplicates are not counted');
    return { duplicates: counted.reduce<number>((n, d) => n + (d ?? 0), 0), uncounted };
  }

  get #readWaitMs(): number {
    return this.#p.options.readWaitMs ?? 2_000;
  }

  /**
   * Waits until this node has applied `after` in the partitions it reads
   * (503 `position_wait_timeout` past the read wait); the owners of the
   * others wait for it as they give their share.
   */
  async waitFor(after: readonly number[]): Promise<void> {
    await this.#consumer!.waitForFollowed(after, this.#readWaitMs);
  }

  /**
   * This node's share of an answer, for another node (issue #28): the slots
   * `request.query` reads from the speed layer of each partition asked for,
   * from exactly the sequence the asker's batch version ends at there
   * ({@link ShareVersionSkewError} when this node's speed layer starts
   * elsewhere: the two serve different versions for a moment), once this
   * node has applied `request.after`.
   */
  async share(request: ShareRequest): Promise<Share> {
    const budget = new QueryBudget();
    let plan = planQuery(this.catalog, request.query, budget);
    if (request.after !== undefined) await this.waitFor(request.after);
    if (request.atLeast !== undefined) await this.#readAsFar(request.atLeast);
    for (const p of request.partitions) if (!Number.isSafeInteger(p) || p >= this.partitions) throw new InvalidQueryError('partitions', `There is no partition ${p}: the cluster has ${this.partitions}.`);
    await this.#servedFrom(request.partitions, request.cutoffs);
    const withBatch = request.batch === true && plan.layer !== 'speed';
    if (withBatch) await this.#batch?.prepare(request.partitions);
    // Planned again in the step that reads the tables: a version adopted during the waits may have changed the view, and
    // the speed layer's start checked below (the asker's cutoff) then pins the version, and with it the definition.
    plan = planQuery(this.catalog, request.query, budget);
    const tables: (AggregateTable | TableSpan)[] = request.partitions.flatMap((p, i) => {
      const speed = this.#speed[p];
      if (speed === undefined || !this.#holds(p)) throw new PartitionNotServedError(this.name, p);
      if (speed.start !== request.cutoffs[i]) throw new ShareVersionSkewError(this.name, p, request.cutoffs[i]!, speed.start);
      return plan.layer === 'batch' ? [] : speed.layer.tables(plan.view);
    });
    if (withBatch) tables.push(...this.#batchOf(request.partitions, plan));
    return { applied: this.#applied(), share: encodePartial(partialTable(plan, tables, budget)) };
  }

  /** Partitions `ps`' batch tables of the served version, for a share: over the query's range where the read aids can. */
  #batchOf(ps: readonly number[], plan: QueryPlan): (AggregateTable | TableSpan)[] {
    // The asker serves a version held per partition, at these cutoffs (the speed layer's start says so): so does this node.
    const store = this.#batch?.storeFor(ps);
    if (store === undefined) throw new PartitionNotServedError(this.name, ps.find((p) => this.#batch?.has(p) !== true) ?? ps[0]!);
    return isWide(plan) ? store.spans(plan.view.name, plan.from, plan.to) : [...store.tables(plan.view.name)];
  }

  /** Waits, at most the read wait, until this node has read each partition as far as `position` (where it follows it), and then goes on regardless. */
  async #readAsFar(position: readonly number[]): Promise<void> {
    if (position.length !== this.partitions) return;
    await this.#consumer!.waitForFollowed(position, this.#readWaitMs).catch((error: unknown) => {
      if (!(error instanceof PositionWaitTimeoutError)) throw error;
    });
  }

  /**
   * Waits (at most the read wait) while this node's speed layer of an asked
   * partition starts below the asker's cutoff: the asker serves a version
   * this node adopts within a poll or two.
   */
  async #servedFrom(partitions: readonly number[], cutoffs: readonly number[]): Promise<void> {
    const deadline = Date.now() + this.#readWaitMs;
    const behind = () => partitions.some((p, i) => (this.#speed[p]?.start ?? Number.MAX_SAFE_INTEGER) < cutoffs[i]!);
    while (behind() && Date.now() < deadline && !this.#closed) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /**
   * Whether this node holds partition `p`'s speed layer whole from the served
   * cutoff: not while reading it again or taking it over, nor while it cannot
   * follow it (stalled: its speed layer lacks what came since), when a query
   * is refused rather than answered short.
   */
  #holds(p: number): boolean {
    return this.#speed[p] !== undefined && !this.#gaining.has(p) && !this.#rebuildingNow.has(p) && !this.#stalled.has(p) && (this.#batch?.has(p) ?? true);
  }

  /**
   * After a balancing step: reads each partition this node now owns, is to
   * own or stands by for (from the served cutoff, whole before it is offered
   * here), and stops reading each one another live node owns and holds
   * whole, so that a node reads and holds about its share of the partitions.
   */
  #divide(report: BalanceReport): void {
    if (this.#startEnds === undefined || this.#closed) return;
    const wanted = new Set([...report.owned.keys(), ...this.#steady([...report.follow, ...report.standby])]);
    const owners = this.#p.ownership.owners();
    for (let p = 0; p < this.partitions; p++) {
      if (wanted.has(p)) {
        if (!this.#reading.has(p)) void this.#gain(p);
        // Read, but its batch tables not loaded (a load that failed): tried again at each step.
        else if (!this.#gaining.has(p) && this.#batch?.has(p) === false) void this.#serveBatchOf(p).catch(() => undefined);
        continue;
      }
      const owner = owners[p]!.owner;
      const moving = this.#gaining.has(p) || this.#rebuildingNow.has(p);
      if (this.#reading.has(p) && !moving && owner !== null && owner !== this.name && this.#nodeHolds(owner, p)) void this.#letGo(p, owner);
    }
  }

  /** Stops reading partition `p`, whose owner holds it whole: its speed layer, rule and what hangs on them go. */
  async #letGo(p: number, owner: string): Promise<void> {
    this.#reading.delete(p);
    this.#speed[p] = undefined;
    this.#batch = this.#batch?.without(p);
    void this.#compactBatch();
    this.#unstall(p);
    if (this.#awaited.forget(p)) this.#damage.awaiting(this.#awaited.list());
    await this.#consumer!.unfollow(p);
    this.#tail.drop(p);
    this.#sealDigests[p]!.clear();
    this.#sealOrigins[p]!.clear();
    this.#logger.info({ partition: p, owner }, 'stopped reading a partition: its owner holds it, and queries gather it from there');
  }

  /**
   * Of the partitions this node is to take over or stand by for, those it
   * has been told so at every step for a partition lease time: a view of the
   * live nodes that differs for a moment (a heartbeat late under load) would
   * otherwise have it replay partitions it lets go of a step later. Those it
   * owns are taken up at once.
   */
  #steady(assigned: readonly number[]): number[] {
    const now = Date.now();
    for (const p of [...this.#assignedSince.keys()]) if (!assigned.includes(p)) this.#assignedSince.delete(p);
    for (const p of assigned) if (!this.#assignedSince.has(p)) this.#assignedSince.set(p, now);
    const lease = this.#p.options.partitionLeaseMs ?? PARTITION_LEASE_MS;
    return assigned.filter((p) => now - this.#assignedSince.get(p)! >= lease);
  }

  /**
   * Starts reading partition `p`: followed again from the served cutoff,
   * with the duplicate rule resumed from the archive there, into a new speed
   * layer, and held once caught up with where the stream ended when it
   * started. What fails is tried again: a stalled partition by the retry of
   * stalled ones, the rest at the next balancing step.
   */
  async #gain(p: number): Promise<void> {
    this.#reading.add(p);
    this.#gaining.add(p);
    try {
      const end = (await this.#p.log.ends())[p]!;
      await this.#rebuild(p, 'this node is taking it over', false);
      if (this.#stalled.has(p) || !this.#reading.has(p)) return;
      const wanted = new Array<number>(this.partitions).fill(0);
      wanted[p] = end;
      await this.#consumer!.waitForFollowed(wanted, this.#readWaitMs * 10);
      await this.#serveBatchOf(p);
      this.#logger.info({ partition: p, from: this.#version?.cutoffs[p] ?? 0, events: this.#speed[p]?.stats().events ?? 0 }, 'reads a partition and holds its speed layer, from the served cutoff');
    } catch (error) {
      this.#logger.warn({ err: error, partition: p }, 'could not take up a partition; trying again');
      // Followed but slow to catch up: it stays read, and counts as held (a move waits for its heartbeat to have caught up).
      // Not followed at all (the stream could not be read): taken up again at the next step; a stalled one by the retries.
      if (!this.#stalled.has(p) && this.#consumer?.follows(p) !== true) {
        this.#reading.delete(p);
        this.#speed[p] = undefined;
      }
    } finally {
      this.#gaining.delete(p);
    }
  }

  /**
   * Loads partition `p`'s batch tables of the served version, where it is
   * held per partition and this node does not hold them yet: after the
   * adoptions queued before (one at a time, in order), so that a version
   * adopted meanwhile is the one loaded for.
   */
  #serveBatchOf(p: number): Promise<void> {
    const loading = this.#adopting.then(async () => {
      const batch = this.#batch;
      const served = this.#served;
      if (batch === undefined || !batch.partitioned || batch.has(p) || !this.#reading.has(p) || served === undefined || this.#version === null) return;
      const store = await loadPartitionOf(this.#p.blobs, this.#p.duck.serving, this.catalog, this.#version, this.#versionsDir, p, served);
      await store.store.settled();
      // Still the version loaded for, and still read here: else the next adoption or step loads what is due then.
      if (this.#batch?.manifest === batch.manifest && this.#reading.has(p)) this.#batch = this.#batch.with(p, store);
    });
    this.#adopting = loading.catch((error: unknown) => this.#logger.warn({ err: error, partition: p }, 'could not load a partition\'s batch tables; queries ask its owner meanwhile'));
    return loading;
  }

  /**
   * Lets go of the tables of partitions this node stopped serving that are
   * merged with others it still serves: those others are loaded apart (in
   * the queue of adoptions), and replace the merged store.
   */
  #compactBatch(): Promise<void> {
    if (this.#batch?.holdsLetGo !== true) return Promise.resolve();
    const compacting = this.#adopting.then(async () => {
      const batch = this.#batch;
      if (batch === undefined || !batch.holdsLetGo) return;
      await batch.prepare(batch.served());
      // Parts loaded for the version still served are shared by its every state: compacting the current one finds them.
      if (this.#batch?.manifest === batch.manifest) this.#batch = this.#batch.compacted();
    });
    this.#adopting = compacting.catch((error: unknown) => this.#logger.warn({ err: error }, 'could not let go of the batch tables of partitions no longer served here; they are kept until the next version'));
    return compacting;
  }

  /** The partitions whose lease this node holds. */
  #ownedHere(): Set<number> {
    return new Set(this.#p.ownership.owners().flatMap((o, p) => (o.owner === this.name ? [p] : [])));
  }

  /** Whether `node` (heard from within a lease time) holds partition `p`'s speed layer whole, by its heartbeat. */
  #nodeHolds(node: string, p: number): boolean {
    if (!this.#liveNodes().includes(node)) return false;
    const beat = this.#nodes.find((n) => n.node === node);
    return beat !== undefined && holdsBy(beat, p);
  }

  /** The partitions whose speed layer this node holds whole. */
  #held(): number[] {
    return this.#speed.flatMap((_, p) => (this.#holds(p) ? [p] : []));
  }

  /** The partitions this node's consumer follows: where its applied position counts. */
  #follows(): number[] {
    const consumer = this.#consumer;
    return consumer === undefined ? [] : Array.from({ length: this.partitions }, (_, p) => p).filter((p) => consumer.follows(p));
  }

  /** Per partition, how far the log is known to reach: what this node applied where it reads it, else the stream's end as last looked at. */
  #position(): number[] {
    return this.#applied().map((seq, p) => (this.#consumer?.follows(p) === true ? seq : Math.max(seq, this.#ends[p] ?? 0)));
  }

  /** A view the served version lacks, or built from another definition, is not answered from the speed layer alone. */
  checkServable(view: string): void {
    if (this.#stale.has(view)) throw new ViewNotReadyError(view);
  }

  /**
   * The speed layer of every partition for `query`: this node's own, and the
   * others' states gathered from their owners (`speed-gather.ts`); the take
   * fails when another version was served meanwhile, or a partition read
   * here is no longer held whole.
   */
  async speedFor(query: Query, plan: QueryPlan): Promise<SpeedPart> {
    const relevant = partitionsOfQuery(plan, this.#p.cluster.partitionBy, this.partitions);
    const gathered = await gatherSpeed(this.#gatherSource, query, plan, this.partitions, relevant);
    // The partitions read here may be some of a store's only: those are loaded apart first (once per version).
    if (gathered.batch && plan.layer !== 'speed') await this.#batch?.prepare(gathered.local);
    return {
      missing: gathered.missing,
      take: () => {
        if (gathered.stale || this.batchCutoffs() !== gathered.cutoffs || !gathered.local.every((p) => this.#holds(p))) return undefined;
        if (gathered.batch && plan.layer !== 'speed' && this.#batch?.storeFor(gathered.local) === undefined) return undefined;
        const local = plan.layer === 'batch' ? [] : gathered.local.flatMap((p) => this.#speed[p]!.layer.tables(plan.view));
        return [...local, ...gathered.tables];
      },
      // The owners gave the other partitions' batch states with their speed states: this node reads its own partitions' alone.
      ...(gathered.batch ? { takeBatch: () => this.#batch?.storeFor(gathered.local) } : {}),
      // How far the answer reads each partition: here, as far as this node applied; gathered, as far as the owner had.
      applied: () => this.#applied().map((seq, p) => gathered.read.get(p) ?? seq),
    };
  }

  /** Whether the served version is held per partition: a query of the batch layer alone gathers the others' then. */
  gathersBatch(): boolean {
    return this.#batch?.partitioned === true;
  }

  get #gatherSource(): GatherSource {
    const ownership = this.#p.ownership;
    const shares = this.#shares;
    return {
      node: this.name,
      holds: (p) => this.#holds(p),
      owner: (p) => ownership.owners()[p]?.owner ?? null,
      cutoffs: () => this.batchCutoffs(),
      batchParted: () => this.#batch?.partitioned === true,
      // Read as far as this node has, and as far as its ingests were answered: a query here shows what was ingested here.
      applied: () => this.#applied().map((seq, p) => Math.max(seq, this.#acknowledged[p]!)),
      ask: (owner, request, timeoutMs) => {
        if (shares === undefined) throw new PartitionNotServedError(owner, request.partitions[0] ?? 0);
        return shares.ask(owner, request, timeoutMs);
      },
      askTimeoutMs: this.#askTimeoutMs,
      waitMs: 2 * (this.#p.options.partitionLeaseMs ?? PARTITION_LEASE_MS),
    };
  }

  applied(): readonly number[] {
    return this.#applied();
  }

  batchCutoffs(): readonly number[] {
    return this.#version?.cutoffs ?? this.#noCutoffs;
  }

  owners(): readonly (string | null)[] {
    return this.#p.ownership.owners().map((o) => o.owner);
  }

  /** When the batch lease expires unless renewed, as of the last look (epoch ms; 0 when nobody holds it). */
  leaseExpiresAt(): number {
    return this.#record.lease?.expiresAt ?? 0;
  }

  /**
   * Resolves once this node serves `version` or a later one (the poll
   * adopts a published version within a fraction of a second), or after
   * `timeoutMs`: a cycle another node ran for this node's caller is then
   * read here too.
   */
  async adopted(version: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.#version?.version ?? 0) < version && !this.#closed) {
      if (Date.now() >= deadline) return void this.#logger.warn({ version }, 'a batch version another node published for this node\'s caller is not served here yet');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Whether this node may run the next cycle (it holds the lease, or nobody does) and the log moved past the cutoffs. */
  hasNewEvents(): boolean {
    if (!this.mayRunBatch()) return false;
    if (this.#stale.size > 0 || this.#stalled.size > 0 || Object.keys(this.#views?.pendingChanges ?? {}).length > 0) return true;
    const cutoffs = this.#version?.cutoffs;
    return this.#position().some((seq, p) => seq > (cutoffs?.[p] ?? 0));
  }

  /** Whether this node holds the batch lease, or nobody holds an unexpired one (as of the last look). */
  mayRunBatch(): boolean {
    const lease = this.#record.lease;
    return lease === null || lease.holder === this.name || lease.expiresAt <= Date.now();
  }

  /** Runs a batch cycle on this node, which must hold (or be able to take) the batch lease. */
  async cycle({ full, started, progress }: CycleContext): Promise<BatchSummary> {
    // `seal` is not read: a cluster's cycle always seals, since its partitions' speed layers start generations only there.
    // The lease held when asked: a cycle that finds it taken before it could even renew it was fenced too.
    const cycle: Cycle = { term: this.#p.control.term, version: this.#nextVersion };
    // No pass archiving ahead starts from now on, and the one running is waited for: it uses the log reading and DuckDB connection a cycle does.
    this.#cycling = true;
    try {
      await this.#archivingAhead;
      await this.#partRunning;
      const computed = await this.#compute({ full, seal: true, started, progress }, cycle).catch(async (error: unknown) => {
        const failure = await cycleFailure(error, cycle, this.#p.control, this.#logger);
        // The view changes it carried can be cancelled again, and say why it failed.
        await this.#views?.failed(cycle.version, failure).catch((err: unknown) => this.#logger.warn({ err }, 'could not take a failed cycle\'s marks out of the views record; they hold until its lease term ends'));
        throw failure;
      });
      const summary = await this.#finish(computed);
      await this.#views?.switched(computed.switched).catch((error: unknown) => this.#logger.warn({ err: error }, 'could not take the view changes switched in out of the views record; the next cycle does'));
      return summary;
    } finally {
      this.#next.resume();
      this.#archive.retiring([]);
      this.#cycling = false;
    }
  }

  /** Neither a lease taken by another node, nor one this node's previous process left to expire, nor a fenced cycle is a failing batch layer. */
  countsAsFailure(error: unknown): boolean {
    return !(error instanceof BatchLeaseHeldError || error instanceof BatchLeaseExpiringError || error instanceof BatchFencedError);
  }

  get #nextVersion(): number {
    return (this.#version?.version ?? 0) + 1;
  }

  /** Takes (or renews) the lease and catches up with the latest published version: fixes the cycle's term and version. */
  async #begin(cycle: Cycle): Promise<void> {
    const { control } = this.#p;
    if (this.#recordLost || this.#recordBehind || this.#damage.invalidControlRecord !== undefined) await this.#rebuildRecord();
    if (!(await control.acquire())) throw await control.refusal();
    cycle.term = control.term;
    const record = await control.read();
    if (record.published === null && this.#version === null && !(await this.#clusterIsNew())) {
      throw new InvalidClusterRecordError(
        `KV bucket ${this.#p.cluster.name}_control`, CONTROL_KEY, 'batch control record', 'it names no batch version, while the cluster has published some',
        'a node that serves a version rebuilds it; until then this node, which serves none, runs no cycle.',
      );
    }
    // A cycle extends the chain of the latest published version: adopt it first if another node published it.
    if (record.published !== null && record.published.version > (this.#version?.version ?? 0)) await this.#adopt(record.published);
    if ((record.published?.version ?? 0) > (this.#version?.version ?? 0)) throw new Error(`could not load batch version ${record.published!.version}, which the next one must extend`);
    cycle.version = this.#nextVersion;
  }

  /**
   * Seals the log, archives the sealed ranges and computes the views;
   * resolves once the version is published. An incremental cycle reads only
   * the ranges added to the chain (archived ahead or now) and adds one delta
   * per view to the served version; a full one reads the whole chain.
   */
  async #compute({ full, started, progress }: CycleContext, cycle: Cycle): Promise<ComputedVersion> {
    const { control, blobs } = this.#p;
    await this.#begin(cycle);
    const damaged = await this.#checkArchive();
    if (damaged.length > 0) {
      throw new ArchiveDamagedError(this.#p.blobs.name, damaged, 'a cycle extends the served version\'s chain, so it stops until the objects are restored.');
    }
    const term = cycle.term ?? 0;
    // The view changes asked for are switched in with this version: its seal carries them, its manifest names them.
    const switched = await this.#views?.beginSwitch(cycle.version, term) ?? new Map<string, PendingClusterChange>();
    const target = pendingCatalog(this.#catalog, Object.fromEntries(switched), (name) => this.#servedVersion(name));
    for (const [view, why] of target.unfit) this.#logger.error({ view, why }, 'a view change asked for no longer fits the views served; it is dropped');
    // Read before the seal: every event stored before an erasure was asked for is below this cycle's cutoffs.
    const erasing = await this.#erasures.pending();
    const sealed = await this.#seal(term, target.include);
    await assertLeaseHeld(cycle, control);
    // An erasure's cycle may seal again (its keys forgotten there): the version is published at those cutoffs.
    const erased = erasing.length === 0 ? undefined : await this.#applyErasures(erasing, sealed, cycle, target.catalog);
    const cutoffs = erased?.cutoffs ?? sealed;
    progress({ phase: 'exporting', cutoff: cutoffs.reduce((a, b) => a + b, 0) });
    const previous = this.#version?.cutoffs;
    const served = this.#served;
    // Monoids do not subtract: a cycle that erases recomputes every view from what remains.
    const base = this.#incrementalBase(full || erasing.length > 0, served, target.catalog);
    const { version } = cycle;
    const store = new SharedVersionStore(blobs, control, { version, term, cutoffs, served: served?.objects }, this.#versionsDir);
    await store.init();
    const { dir } = await store.begin();
    try {
      const at = { full: base === undefined, started, progress, cutoffs, previous, base, views: target, ...(erased === undefined ? {} : { prepared: erased.chain, retired: erased.retired, erasing: erased.frozen }) };
      const { frozenErased, ...computed } = await this.#computeInto(store, dir, at, cycle);
      return { ...computed, switched, ...(erased === undefined ? {} : { erased: { ...erased, audits: withFrozenOutcomes(erased.audits, frozenErased) } }) };
    } catch (error) {
      // Never published (or not known to be: then it is fetched again): a folder with a manifest counts as a version here.
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The rest of a cycle once its version's folder exists: the parts computed, the manifest published. */
  async #computeInto(
    store: SharedVersionStore, dir: string,
    at: {
      full: boolean; started: number; progress: CycleContext['progress']; cutoffs: number[]; previous: readonly number[] | undefined; base: BatchManifest | undefined;
      views: PendingCatalog;
      /** The whole chain up to the cutoffs, already archived (a cycle that erased): nothing is divided or archived ahead. */
      prepared?: readonly ArchivedRange[];
      /** The served retired list as that cycle's erasure wrote it again. */
      retired?: AppliedErasures['retired'];
      /** That cycle's erasures, which the frozen parts carried over go through. */
      erasing?: AppliedErasures['frozen'];
    },
    cycle: Cycle,
  ): Promise<Omit<ComputedVersion, 'switched'> & { frozenErased: ReadonlyMap<string, readonly FrozenErasure[]> }> {
    const { control } = this.#p;
    const { started, progress, cutoffs, previous } = at;
    const { catalog } = at.views;
    const { version } = cycle;
    const sealedMs = performance.now() - started;
    const term = cycle.term ?? 0;
    const prepared = at.prepared === undefined ? this.#next.take(this.#chain, term) : { chain: at.prepared, ahead: [] };
    const { ahead } = prepared;
    // Retention takes its objects out of the chain first; a cycle that retires recomputes every view from what remains.
    const retention = await this.#retention.plan(prepared.chain, this.#batch?.manifest as SharedManifest | undefined, catalog, (this.#p.options.now ?? Date.now)(), this.#p.options.retentionGraceMs ?? DEFAULT_CLUSTER_RETENTION_GRACE_MS, at.retired);
    const folded = retention.chain;
    const base = retention.retiring ? undefined : at.base;
    const work = { version, term, full: at.full || retention.retiring, cutoffs, chain: folded, ahead };
    // The other owners compute their partitions meanwhile (with the views they serve: not in a cycle that changes them);
    // the parts that fail are computed here after this node's own.
    // A cycle that retires is not divided: another owner resuming its duplicate rule would miss the retired objects' keys.
    // Nor is an erasure's: its chain was archived and written again here.
    this.#archive.retiring(retention.added);
    const plan = catalog === this.#catalog && !retention.retiring && at.prepared === undefined ? this.#partsPlan() : new Map<string, number[]>();
    const asked = new Set([...plan.values()].flat());
    const theirs = [...plan].map(([node, partitions]) => this.#askPart(node, { ...work, partitions, served: this.#version?.version ?? 0 }));
    progress({ phase: 'computing' });
    const onViewDone = (done: number, total: number, reads: ViewReads) => {
      progress({ viewsDone: done });
      this.#views?.progressed(done, total, reads);
    };
    const own = await this.#computePart({ ...work, partitions: this.#allPartitions.filter((p) => !asked.has(p)) }, dir, onViewDone, catalog);
    const parts = [own];
    const uploaded = new Set<string>();
    for (const answer of await Promise.all(theirs)) {
      await assertLeaseHeld(cycle, control);
      if (answer.part !== undefined) {
        parts.push(answer.part);
        for (const f of Object.values(answer.part.views).flat()) if (f.file !== null) uploaded.add(f.file);
      } else {
        parts.push(await this.#computePart({ ...work, partitions: answer.partitions, tag: nodeTag(answer.node, 'f') }, dir, undefined, catalog));
      }
    }
    const exportMs = performance.now() - started;
    await assertLeaseHeld(cycle, control);
    const chain = [...folded, ...ahead, ...parts.flatMap((part) => part.ranges)];
    // The views it was computed with, which every node serves with it.
    const definitions = definitionsOf(catalog, at.views.versionOf);
    // A full cycle's views that keep their aggregates carry their frozen parts, and add those of what it retires.
    const frozen = base === undefined ? await this.#frozen(retention, catalog, dir, version, at.erasing ?? []) : { parts: new Map<string, BatchPart[]>(), outcomes: new Map() };
    const manifest = withFrozen({ ...manifestOfParts({ catalog, version, cutoffs, parts: parts.map((part) => part.views), previous: base, startedAt: started }), definitions, ...retention.fields }, frozen.parts);
    const published = await store.publish(dir, manifest, { ranges: chain, uploaded });
    await this.#retention.deleteRetired(retention).catch((error: unknown) => this.#logger.warn({ err: error }, 'could not delete archive objects past retention\'s grace period; the sweep takes them'));
    const inputEvents = parts.reduce((n, part) => n + part.inputEvents, 0);
    return {
      published: { version, cutoffs, term }, manifest: published.manifest as SharedManifest, started, previous, chain, store, exportMs, sealedMs, events: chainEvents(chain), inputEvents, own,
      frozenErased: frozen.outcomes,
    };
  }

  /**
   * The frozen parts of a full cycle (`ClusterRetention.frozen`): a served
   * part an erasure rewrites is fetched from the object store into a scratch
   * folder inside the version's (this node may not serve its partition),
   * deleted once read, as it holds the erased values; a crash leaves it to
   * go with that folder.
   */
  async #frozen(retention: RetentionPlan, catalog: Catalog, dir: string, version: number, erasing: readonly FrozenErasing[]): ReturnType<ClusterRetention['frozen']> {
    const objects = new Map((this.#served?.objects ?? []).map((o) => [o.file, o.blob]));
    const scratch = join(dir, '.frozen-sources');
    const fetch = frozenPartFetcher(objects, this.#p.blobs, scratch);
    try {
      return await this.#retention.frozen(retention, catalog, this.#batch?.manifest, dir, version, erasing.length === 0 ? undefined : { list: erasing, fetch });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Archives every partition up to `cutoffs`, then erases `erasing` from the
   * archive. When the erased events held idempotency keys, a second seal
   * tells every node's duplicate rule (and the archive's) to forget them, by
   * hash, at one sequence, and the archive goes on up to it: the version is
   * published at those cutoffs, so no rule resumes from the rewritten
   * objects before that seal while others still hold the keys. Resolves
   * with the chain the version publishes and its cutoffs.
   */
  async #applyErasures(erasing: Parameters<ClusterErasures['apply']>[2], cutoffs: number[], cycle: Cycle, catalog: Catalog): Promise<AppliedErasures & { cutoffs: number[] }> {
    const term = cycle.term ?? 0;
    // No fold may read what the erasure replaces: none starts until the cycle ends (`cycle` resumes them), and the one in flight is taken.
    await this.#next.pause();
    const { chain, ahead } = this.#next.take(this.#chain, term);
    const archived = await this.#archive.extend([...chain, ...ahead], cutoffs, term);
    const applied = await this.#erasures.apply({ archive: this.#archive, connection: this.#p.duck.batch, catalog }, archived, erasing);
    if (Object.keys(applied.forget).length === 0) return { ...applied, cutoffs };
    await assertLeaseHeld(cycle, this.#p.control);
    const forgotten = await this.#p.log.seal([], applied.forget);
    return { ...applied, chain: await this.#archive.extend(applied.chain, forgotten, term), cutoffs: forgotten };
  }

  /**
   * Once a version that erased is published and served here: the older
   * versions go (their views were computed with the erased events), then the
   * objects it replaced, then the streams below its cutoffs; only then are
   * the erasures recorded done. A failure leaves them pending: the next
   * cycle applies them again, finding nothing left to rewrite.
   */
  async #erased(computed: ComputedVersion, missing: readonly MissingPiece[]): Promise<void> {
    const { published, chain, store, erased, manifest } = computed;
    if (erased === undefined) return;
    // Older versions' view files were computed with the erased events: overwritten in the servers' files, then gone.
    // Not those the served version names in an older folder: it inherited them as the very bytes it computed without
    // the erased events (`inheritedFrom` matches digests), and erasing them would leave it damaged on every node.
    const named = namedBy(manifest, versionFolder(published.version, published.term));
    for (const blob of await this.#p.blobs.list('batch/')) if (!named.has(blob.name)) await this.#p.blobs.erase(blob.name);
    await store.prune(1, published.version);
    for (const blob of erased.replaced) await this.#p.blobs.erase(blob);
    await this.#archive.forgetCopies(erased.replaced);
    const { registry, log } = this.#p;
    const below = verifiedBelow(chain, missing, published.cutoffs.length).map((seq, p) => Math.min(seq, published.cutoffs[p]!));
    await purgeErased({ registry, log, logger: this.#logger, forgetBelow: (purged) => this.#forgetBelow(chain, purged) }, below);
    await this.#erasures.done(erased.audits, published.version);
  }

  recordErasure(entry: ErasureEntry): Promise<void> {
    return this.#erasures.ask(entry);
  }

  erasures(): Promise<ErasureAudit[]> {
    return this.#erasures.audit();
  }

  /**
   * Asks for batch cycles (on the batch node, whichever it is) until erasure
   * `id` is done, then waits for every live node to serve the version that
   * applied it: the batch node records it done once it serves that version,
   * and the others adopt it at their next poll.
   */
  async completeErasure(id: string): Promise<void> {
    // A batch node restarted cannot take its lease back until its old term runs out: cycles asked meanwhile are refused.
    await this.#erasures.complete(id, () => this.#host!.runBatch({ full: true }), 2 * (this.#p.options.leaseMs ?? DEFAULT_LEASE_MS));
    await this.#erasures.served(id, (version) => this.#servingBelow(version));
  }

  /** The live nodes (this one included) that serve a batch version below `version`, as their heartbeats say (read by the last look, at most a second ago). */
  #servingBelow(version: number): string[] {
    const others = this.#nodes.filter((n) => n.node !== this.name && this.#sightings.heardWithin(n.node, LIVENESS_MS) && (n.batchVersion ?? 0) < version);
    return [...((this.#version?.version ?? 0) < version ? [this.name] : []), ...others.map((n) => n.node)];
  }

  /** Every partition number, in order. */
  get #allPartitions(): number[] {
    return Array.from({ length: this.partitions }, (_, p) => p);
  }

  /**
   * Which other node computes which partitions in a divided cycle: each
   * partition whose owner is another node heard from that reads it whole, as
   * its heartbeat says; this node computes the rest.
   */
  #partsPlan(): Map<string, number[]> {
    const plan = new Map<string, number[]>();
    const owners = this.#p.ownership.owners();
    for (let p = 0; p < this.partitions; p++) {
      const owner = owners[p]?.owner ?? null;
      if (owner === null || owner === this.name || this.#parts === undefined) continue;
      const beat = this.#nodes.find((n) => n.node === owner);
      if (beat === undefined || !holdsBy(beat, p)) continue;
      plan.set(owner, [...(plan.get(owner) ?? []), p]);
    }
    return plan;
  }

  /**
   * Asks `node` for its part; resolves with it, or without one when the node
   * refused, failed, answered what does not extend the chain, or stopped
   * being heard from while computing (this node then computes those
   * partitions itself).
   */
  async #askPart(node: string, request: PartRequest): Promise<{ node: string; partitions: readonly number[]; part?: ComputedPart }> {
    const { partitions } = request;
    const mine = new Set(partitions);
    const asking = this.#parts!.ask(node, { ...request, chain: rangesOf(request.chain, mine), ahead: rangesOf(request.ahead, mine) }, this.#p.options.partTimeoutMs ?? PART_TIMEOUT_MS);
    // The process asked: one that restarted under the same name since (a kill -9, then a start) lost the request with its memory.
    const instance = this.#nodes.find((n) => n.node === node)?.instance;
    const sight = () => ({ beat: this.#nodes.find((n) => n.node === node), heard: this.#sightings.heardWithin(node, FORGET_AFTER_MS) });
    const watch = watchPartOwner(node, request.version, instance, sight, PART_WATCH_MS);
    try {
      const answer = await Promise.race([asking, watch.gone]);
      const read = (files: readonly ViewFileComputed[]) => files.reduce((n, f) => n + f.inputEvents, 0);
      return { node, partitions, part: { ranges: answer.ranges, views: answer.views, inputEvents: Math.max(0, ...Object.values(answer.views).map(read)) } };
    } catch (error) {
      this.#logger.warn({ err: error, node, partitions }, 'another owner did not compute its part of the batch cycle; this node computes those partitions');
      return { node, partitions };
    } finally {
      watch.stop();
      asking.catch(() => undefined);
    }
  }

  /** A part computed here, into `dir` (the batch node's part, or one in place of an owner that did not answer). */
  #computePart(work: PartWork, dir: string, onViewDone?: (done: number, total: number, reads: ViewReads) => void, catalog = this.#catalog): Promise<ComputedPart> {
    return computePart({ archive: this.#archive, catalog, connection: this.#p.duck.batch, ...(onViewDone === undefined ? {} : { onViewDone }) }, work, dir);
  }

  /**
   * This node's part of a divided cycle another node runs: refused unless it
   * serves the version the cycle builds on and owns every partition asked;
   * its files are uploaded into the version's folder under its tag.
   */
  async #answerPart(request: PartRequest): Promise<PartAnswer> {
    if (request.served > (this.#version?.version ?? 0)) await this.adopted(request.served, PART_ADOPT_WAIT_MS);
    const serving = this.#version?.version ?? 0;
    if (serving !== request.served) throw new CyclePartRefusedError(request.version, `it serves batch version ${serving}, not ${request.served} that the cycle builds on`);
    const owners = this.#p.ownership.owners();
    const notMine = request.partitions.filter((p) => owners[p]?.owner !== this.name || !this.#holds(p));
    if (notMine.length > 0) throw new CyclePartRefusedError(request.version, `it does not own and read partition${notMine.length === 1 ? '' : 's'} ${notMine.join(', ')} whole`);
    const folder = versionFolder(request.version, request.term);
    const dir = join(this.#versionsDir, folder);
    await mkdir(dir, { recursive: true });
    // Neither a pass archiving ahead nor a cycle of this node's beside it: they use the same reading of the log and DuckDB connection.
    if (this.#cycling) throw new CyclePartRefusedError(request.version, 'it runs a batch cycle itself');
    this.#cycling = true;
    const running = (async () => {
      await this.#archivingAhead;
      const part = await this.#computePart({ ...request, tag: nodeTag(this.name) }, dir);
      for (const f of Object.values(part.views).flat()) if (f.file !== null) await this.#p.blobs.put(`${folder}/${f.file}`, join(dir, f.file));
      return { ranges: part.ranges, views: part.views };
    })();
    this.#partRunning = running.then(() => undefined, () => undefined);
    try {
      return await running;
    } finally {
      this.#cycling = false;
    }
  }

  /** Realigns streams that lost their tail, seals every partition, and resolves with the cutoffs: never below where the archive ends. */
  async #seal(term: number, include: readonly ViewJson[]): Promise<number[]> {
    const archived = this.#archive.endsOf(this.#chain);
    await this.#realign(archived, this.#next.ends(this.#chain, term));
    const cutoffs = await this.#p.log.seal(include);
    const behind = cutoffs.findIndex((seq, p) => seq < archived[p]!);
    if (behind !== -1) throw new LogBehindArchiveError(behind, cutoffs[behind]!, archived[behind]!);
    return cutoffs;
  }

  /** The version this node serves, as a version built on it shares files with it; undefined before the first. */
  get #served(): ServedVersion | undefined {
    if (this.#batch === undefined || this.#version === null) return undefined;
    const folder = versionFolder(this.#version.version, this.#version.term);
    // The served manifest is the one published, which names where inherited files are.
    return { views: this.#batch, dir: join(this.#versionsDir, folder), objects: versionObjects(this.#batch.manifest, folder) };
  }

  /**
   * The served version an incremental cycle builds on, or undefined when
   * this cycle must recompute everything (`incremental-policy.ts` says when,
   * as it does for the embedded engine). Its SQL reads from offset 0: the
   * sources are the new ranges alone.
   */
  #incrementalBase(full: boolean, served: ServedVersion | undefined, catalog: Catalog): BatchManifest | undefined {
    // The archive's retention generation is the served version's: only a cycle retires, and it recomputes in full (`#computeInto`).
    const { retiredGeneration } = served?.views.manifest ?? {};
    if (served === undefined || !mayBuildOn(served.views.manifest, catalog, { ...this.#p.options, full, ...(retiredGeneration === undefined ? {} : { retiredGeneration }) })) return undefined;
    // A version of an earlier release holds files of every partition at once: each node cannot load its own alone.
    return isPartitioned(served.views.manifest) ? served.views.manifest : undefined;
  }


  /**
   * A stream that ends below where the archive ends lost its tail in NATS
   * (a crash of every server): the next messages would take sequences the
   * archive has already passed, and no consumer would count them. Its first
   * sequence is moved to where the archive ends (a purge past its end); what
   * was published below since the crash comes back from the nodes' outboxes.
   * Ranges archived ahead past where a stream now ends hold messages it lost:
   * they are dropped, and the cycle archives from the served chain's end.
   */
  async #realign(archived: readonly number[], prepared: readonly number[]): Promise<void> {
    const { log } = this.#p;
    for (let p = 0; p < log.partitions; p++) {
      const { lastSeq } = await log.bounds(p);
      if (lastSeq < prepared[p]! - 1) this.#next.dropAhead();
      if (lastSeq >= archived[p]! - 1) continue;
      const purged = await log.purgeBelow(p, archived[p]!);
      this.#logger.warn({ partition: p, streamEnd: lastSeq, archiveEnd: archived[p], purged }, 'a partition stream ended below where the archive ends (NATS lost its tail); its next sequence is now the archive\'s end');
    }
  }

  /**
   * Archives ahead of the next cycle, on the batch node, up to what this
   * node applied, each partition holding at least `archiveAheadEvents` events not
   * archived yet (its speed layer holds the events past the served cutoff):
   * a cycle then archives only the rest. It uses the cycle's reading of the
   * log and its DuckDB connection, so one pass at a time and never beside a
   * cycle, which waits for the pass running.
   */
  async #archiveAhead(): Promise<void> {
    const term = this.#batchNodeTerm();
    if (term === undefined || this.#cycling) return;
    const ends = this.#next.ends(this.#chain, term);
    // The partitions another owner archives as its part of the next cycle are not archived ahead here.
    const theirs = new Set([...this.#partsPlan().values()].flat());
    const to = this.#position().map((seq, p) => {
      if (theirs.has(p)) return 0;
      // A partition whose speed layer is another node's is counted in messages: at most its events, so archived ahead later rather than sooner.
      const waiting = (this.#speed[p]?.stats().events ?? seq - (this.#version?.cutoffs[p] ?? 0)) - this.#next.aheadEvents(p);
      return seq + 1 > ends[p]! && waiting >= (this.#p.options.archiveAheadEvents ?? AHEAD_EVENTS) ? seq + 1 : 0;
    });
    if (to.every((seq) => seq === 0)) return;
    const pass = this.#next.archiveAhead(this.#chain, term, to);
    this.#archivingAhead = pass.catch(() => undefined);
    await pass;
  }

  /**
   * Compaction on the batch node, beside cycles (its own DuckDB connection):
   * folds groups of ranges while there are any, then sweeps the archive.
   */
  async #compact(): Promise<void> {
    const run = (async () => {
      for (let term = this.#batchNodeTerm(); term !== undefined; term = this.#batchNodeTerm()) {
        this.#compactor ??= await this.#p.duck.instance.connect();
        const connection = this.#compactor;
        if (!(await this.#next.foldOnce(this.#chain, term, (group) => this.#archive.fold(group, term, connection)))) break;
      }
      if (this.#batchNodeTerm() !== undefined) await this.#sweep();
    })();
    this.#compacting = run.catch(() => undefined);
    await run;
  }

  /** The lease term to work under between cycles: none unless this node holds the lease and nothing is damaged. */
  #batchNodeTerm(): number | undefined {
    const lease = this.#record.lease;
    const term = this.#p.control.term;
    if (this.#closed || term === null || lease?.holder !== this.name || lease.term !== term) return undefined;
    if (lease.expiresAt <= Date.now() || this.#damage.status() !== null || this.#stalled.size > 0) return undefined;
    return term;
  }

  /** Deletes, at most every `SWEEP_MS`, the archive objects no kept version, served chain or unpublished work holds. */
  async #sweep(): Promise<void> {
    // A cycle running has taken the folds and ranges archived ahead it publishes: they are in no list the sweep spares.
    if (Date.now() < this.#sweepAt || this.#version === null || this.#cycling) return;
    this.#sweepAt = Date.now() + SWEEP_MS;
    const holding = new Set([...this.#chain.flatMap(objectsOf), ...this.#next.unpublished()]);
    const { blobs, options, cluster } = this.#p;
    const deleted = await sweepArchive(blobs, {
      keep: options.keepVersions ?? 3, published: this.#version, partitions: cluster.partitions, versionsDir: this.#versionsDir,
      holding, minAgeMs: options.leaseMs ?? DEFAULT_LEASE_MS, now: Date.now(),
    });
    if (deleted.length === 0) return;
    await this.#archive.forgetCopies(deleted);
    this.#logger.info({ objects: deleted.length }, 'deleted archive objects no kept batch version names (folded by compaction, or left by a fenced node)');
  }

  /** Serves the version this node just published, purges what the previous one absorbed, and reports it. */
  async #finish(computed: ComputedVersion): Promise<BatchSummary> {
    const { published, previous, chain, store, manifest } = computed;
    const phases = { sealMs: computed.sealedMs, computeMs: computed.exportMs - computed.sealedMs, ownArchiveMs: computed.own.timing?.archiveMs ?? 0, ownViewsMs: computed.own.timing?.viewsMs ?? 0, publishMs: performance.now() - computed.started - computed.exportMs, adoptMs: 0, checkMs: 0, purgeMs: 0 };
    let at = performance.now();
    const lap = (phase: keyof typeof phases): void => {
      const now = performance.now();
      phases[phase] = now - at;
      at = now;
    };
    // Loaded as any node loads a version: the other owners' files are fetched, this node's own are on its disk.
    await this.#adopt(published);
    lap('adoptMs');
    // Read back: the new version's chain as the object store holds it now, which is what a purge may rest on.
    const missing = await this.#checkArchive();
    lap('checkMs');
    if (previous !== undefined) {
      await this.#purge(previous, chain, missing).catch((error: unknown) => this.#logger.warn({ err: error }, 'could not purge archived messages from the log; the next cycle tries again'));
    }
    await store.prune(this.#p.options.keepVersions ?? 3, published.version).catch((error: unknown) => this.#logger.warn({ err: error }, 'could not prune old batch versions'));
    await this.#erased(computed, missing).catch((error: unknown) => this.#logger.warn({ err: error }, 'could not finish an erasure after its version was published; the next cycle applies it again'));
    lap('purgeMs');
    // Where a cycle's time goes, for an operator sizing the cluster (and for bench:scale).
    this.#logger.info({ version: published.version, mode: manifest.mode ?? 'full', phases: roundedMs(phases) }, 'batch cycle done');
    const summary: BatchSummary = {
      version: published.version, cutoff: manifest.cutoff, cutoffs: [...published.cutoffs], events: computed.events,
      durationMs: performance.now() - computed.started, exportMs: computed.exportMs,
      mode: manifest.mode ?? 'full', inputEvents: computed.inputEvents,
      views: viewFigures(manifest),
    };
    return summary;
  }

  /**
   * Removes from each partition's stream the messages below the previous
   * version's cutoff: archived two cycles ago, absorbed by the versions
   * since, and applied by every node heard from that reads the partition (a
   * node that is down, or takes the partition up later, reads it from the
   * archive at its served cutoff).
   */
  async #purge(below: readonly number[], chain: readonly ArchivedRange[], missing: readonly MissingPiece[]): Promise<void> {
    const { nodes, invalid } = await this.#p.registry.census();
    // An entry that is not a heartbeat may be a node that has not applied what would be purged.
    if (invalid.length > 0) return void this.#logger.warn({ invalid: invalid.map((e) => e.key) }, 'not purging the log: a registry entry is not a heartbeat, so how far its node applied the log is unknown');
    // Never below a range the object store was not just found to hold whole: the stream may be its only other copy.
    const verified = verifiedBelow(chain, missing, below.length);
    const purgedBelow = new Map<number, number>();
    try {
      for (let p = 0; p < below.length; p++) {
        const seq = Math.min(below[p]!, verified[p]!);
        if (seq <= 1 || !nodes.every((n) => !readsBy(n, p) || (n.applied[p] ?? 0) >= seq)) continue;
        const purged = await this.#p.log.purgeBelow(p, seq);
        purgedBelow.set(p, seq);
        if (purged > 0) this.#logger.info({ partition: p, below: seq, messages: purged }, 'purged archived messages from the log');
      }
    } finally {
      await this.#forgetBelow(chain, purgedBelow);
    }
  }

  /**
   * What no one reads once each partition `p` of `below` is purged below
   * `below.get(p)`: the archive's rule snapshots below it, and the keys
   * objects of history messages below it (erased: they hold keys in clear).
   * Once per purge, not per partition: finding the history objects lists
   * the whole object store.
   */
  async #forgetBelow(chain: readonly ArchivedRange[], below: ReadonlyMap<number, number>): Promise<void> {
    for (const [p, seq] of below) await this.#archive.forgetSnapshotsBelow(chain, p, seq);
    const erased = await forgetHistoryBelow(this.#p.blobs, below, join(this.#p.options.dataDir, 'cluster'));
    if (erased > 0) this.#logger.info({ below: Object.fromEntries(below), objects: erased }, 'erased the staged history objects of messages purged from the log');
  }

  /** This node's share of the status: the cluster as it sees it. */
  status(): BackendStatus {
    return {
      sealedSegments: 0,
      idempotencyKeys: this.#consumer?.filters.reduce((n, f) => n + (f?.keys.size ?? 0), 0) ?? 0,
      cluster: this.#clusterStatus(this.#readApplied()),
      retention: retentionFigures(this.#batch?.manifest as SharedManifest | undefined),
    };
  }

  /** A damaged archive stops the batch layer whichever node runs it: every node's status says so, not only the batch node's. */
  failing(): BatchFailure | null {
    const damage = this.#damage.status();
    if (damage === null) return null;
    return { consecutive: 1, since: damage.since, lastAt: damage.since, error: damage.message, code: damage.missing.length > 0 ? 'archive_damaged' : 'cluster_record_invalid' };
  }

  speedStats(): RealtimeStats {
    const all = this.#speed.flatMap((s) => (s === undefined ? [] : [s.stats()]));
    const sum = (pick: (s: RealtimeStats) => number) => all.reduce((n, s) => n + pick(s), 0);
    return { from: 0, events: sum((s) => s.events), keys: sum((s) => s.keys), bytes: sum((s) => s.bytes), generations: sum((s) => s.generations) };
  }

  /** Per partition, how far it is applied: by this node where it reads it, else by its owner, as the owner's last heartbeat says. */
  #readApplied(): number[] {
    const owners = this.#p.ownership.owners();
    return this.#applied().map((seq, p) => {
      if (this.#consumer?.follows(p) === true) return seq;
      const beat = this.#nodes.find((n) => n.node === owners[p]?.owner);
      return beat !== undefined && readsBy(beat, p) ? beat.applied[p] ?? seq : seq;
    });
  }

  /**
   * Per partition whose speed layer this node holds, the events it holds of
   * it: the served archive's below where its speed layer starts, and the
   * speed layer's; null for the others (their holders count them).
   */
  #eventsHeld(): (number | null)[] {
    const archived = archivedEvents(this.#chain, this.partitions, this.#speed.map((speed) => speed?.start ?? 0));
    return this.#speed.map((speed, p) => (speed === undefined || !this.#holds(p) ? null : archived[p]! + speed.stats().events));
  }

  #clusterStatus(applied: readonly number[]): ClusterStatus {
    const lease = this.#record.lease;
    const now = Date.now();
    const ends = this.#ends.map((end, p) => Math.max(end, applied[p] ?? 0));
    // A partition whose speed layer is held elsewhere is counted by its holders, as their heartbeats tell.
    const events = partitionEvents(archivedEvents(this.#chain, this.partitions), this.#eventsHeld(), this.#nodes, this.#p.ownership.owners().map((o) => o.owner));
    if (!this.#sizes.knows(this.#chain)) void this.#sizes.learn(this.#chain);
    const bytes = this.#sizes.bytes(this.#chain, this.partitions);
    return {
      name: this.#p.cluster.name,
      node: this.name,
      batchNode: lease !== null && lease.expiresAt > now ? lease.holder : null,
      leaseTerm: lease?.term ?? 0,
      partitionRebuilds: this.#divergences,
      partitions: ends.map((end, p) => {
        const { owner, epoch, moveTo } = this.#p.ownership.owners()[p]!;
        return {
          partition: p, end, applied: applied[p] ?? 0, batchCutoff: this.#version?.cutoffs[p] ?? 0, archived: this.#version?.cutoffs[p] ?? 0, owner, epoch, moveTo,
          speedHere: this.#holds(p), events: events[p]!.total, archivedEvents: events[p]!.archived, archiveBytes: bytes[p] ?? null,
        };
      }),
      events: knownSum(events.map((e) => e.total)),
      archiveBytes: knownSum(bytes),
      ownerMoves: this.#p.ownership.movesSeen,
      recentMoves: [...this.#p.ownership.moves()],
      nodes: this.#nodes.map((n) => ({
        node: n.node, url: n.url, applied: n.applied, ...(n.reads === undefined ? {} : { reads: n.reads }), batchVersion: n.batchVersion, seenAgoMs: Math.round(this.#sightings.agoMs(n.node) ?? now - n.at),
        // Counted over the partitions the node reads: the others are their readers' to apply.
        lagMessages: ends.reduce((lag, end, p) => lag + (readsBy(n, p) ? Math.max(0, end - (n.applied[p] ?? 0)) : 0), 0),
      })),
      archiveDamaged: this.#damage.status(),
      outboxEvents: this.#publisher.held(),
      recovered: { ...this.#recovered },
    };
  }

  /** Stops every background task: on close, and when opening fails part way. */
  halt(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
  }

  /** Stops following the log, lets the lease go (so another node need not wait for it to expire), and disconnects. */
  async close(): Promise<void> {
    // The work between cycles that runs (halt stopped the next) uses the log, the store and DuckDB closed below.
    await this.#shares?.close();
    await this.#owners?.close();
    await this.#parts?.close();
    // A part another node asked for uses the DuckDB connection and the log reading closed below.
    await this.#partRunning;
    await this.#releasing;
    await this.#archivingAhead;
    await this.#compacting;
    await this.#adopting;
    await this.#consumer?.stop();
    await this.#p.ownership.close().catch((error: unknown) => this.#logger.warn({ err: error }, 'could not release the partition leases'));
    await this.#p.control.release().catch(() => undefined);
    await this.#p.registry.leave(this.name, this.#p.instanceId).catch(() => undefined);
    await this.#p.log.close();
    await this.#p.outbox.close();
    await this.#p.nc.close();
    this.#compactor?.closeSync();
    this.#p.duck.serving.closeSync();
    this.#p.duck.batch.closeSync();
    this.#p.duck.instance.closeSync();
    await this.#p.lock.release();
  }
}

/** Milliseconds to the nearest one, for a log line. */
function roundedMs<K extends string>(phases: Record<K, number>): Record<K, number> {
  return Object.fromEntries(Object.entries<number>(phases).map(([k, v]) => [k, Math.round(v)])) as Record<K, number>;
}
