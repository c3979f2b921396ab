import type { FrozenErasure, IncrementalPolicy } from '../batch/index.ts';
import type { TandemConfig } from '../definitions/index.ts';
import type { RealtimeStats } from '../speed/index.ts';

/**
 * A pino-compatible logger; Tandem logs nothing unless given one.
 *
 * @example
 * ```ts
 * const tandem = await Tandem.open({ dataDir, config, logger: pino() });
 * ```
 */
export interface EngineLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/**
 * How to open an engine: where its data lives, its config, and its limits.
 *
 * @example
 * ```ts
 * const tandem = await Tandem.open({ dataDir: './data', config, maxSpeedBytes: 512 * 2 ** 20, logger: console });
 * ```
 */
export interface TandemOptions extends IncrementalPolicy {
  /** Directory for the log, the master dataset and the batch views; created if missing. */
  readonly dataDir: string;
  /** The definitions, from `defineConfig` or a parsed JSON config. Validated on open. */
  readonly config: TandemConfig | unknown;
  /**
   * Segment size at which the log rolls over. Default 64 MiB. A cycle stops
   * at the end of the last segment exported in the background, so the speed
   * layer holds up to one segment more than the events since the last cycle;
   * smaller segments keep that share small and cost ingest more exports.
   */
  readonly segmentBytes?: number;
  /**
   * Export each segment to the master dataset's Parquet as soon as it rolls
   * over, in the background, so that a batch cycle finds it there and stops
   * at its end, exporting nothing itself. Default true; false exports
   * everything at the cycle's start, which then seals the log.
   */
  readonly exportInBackground?: boolean;
  /**
   * Milliseconds between batch cycles run by the engine itself, as
   * `tandem serve --batch-every` runs them: a cycle starts only after the
   * previous one ended and is skipped when no event arrived since; a failed
   * one is logged and the previous version keeps serving. Without it, cycles
   * run only when `runBatch` is called (or the speed layer nears its limit).
   */
  readonly batchEvery?: number;
  /** Published batch versions kept on disk. Default 3. */
  readonly keepVersions?: number;
  /**
   * Backpressure: events that may wait to be made durable before `ingest`
   * refuses more with a `log_overloaded` error (HTTP 503 with Retry-After).
   * Default 1,000,000.
   */
  readonly maxPendingEvents?: number;
  /**
   * Backpressure on memory: keys (series and bucket, summed over views) the
   * speed layer may hold. Past half of it a batch run starts early; at the
   * limit `ingest` refuses more with a `speed_layer_full` error (HTTP 503
   * with Retry-After) until that run publishes. Default 5,000,000.
   */
  readonly maxSpeedKeys?: number;
  /**
   * Backpressure on memory, by size: the estimated heap bytes the speed
   * layer's tables may take, long dimension values included (a key limit
   * alone bounds nothing when each key holds a 64 KB value). Works as
   * `maxSpeedKeys` does. Default 1 GiB.
   */
  readonly maxSpeedBytes?: number;
  /**
   * How long a view's backfill (after `applyView`) rests after each chunk of
   * the master dataset, as a share of the time the chunk took: 0.5 rests
   * half as long as it works, leaving ingest and queries most of the CPU.
   * It runs on one DuckDB thread either way. Default 0.5; 0 runs flat out.
   */
  readonly backfillRestShare?: number;
  /**
   * Retention's second phase: how long a file retired from the master
   * dataset (by an event type's `retention`) stays on disk, under
   * `master/_retired/`, before it is deleted. Default one day.
   */
  readonly retentionGraceMs?: number;
  /** The clock retention's horizons are read from (ms since the epoch); `Date.now` unless a test sets another. */
  readonly now?: () => number;
  readonly logger?: EngineLogger;
}

/**
 * How to run one batch cycle.
 *
 * @example
 * ```ts
 * await tandem.runBatch({ full: true });   // recompute every view from the whole master dataset
 * ```
 */
export interface BatchOptions {
  /** Recompute every view from the whole master dataset instead of adding the new events to the published views. */
  readonly full?: boolean;
  /**
   * Seal the log where it ends now and absorb every event below it. Without
   * it, an embedded engine's cycle stops at the end of the last log segment
   * already exported to Parquet in the background (when one is past the
   * published cutoff), so that it exports nothing itself, and the events of
   * the partial segment stay in the speed layer; answers are exact either
   * way. A cluster's cycles always seal.
   */
  readonly seal?: boolean;
}

/**
 * An event refused on its own, with its position in the request and the field at fault.
 *
 * @example
 * ```ts
 * const { rejected } = await tandem.ingest('order', events);
 * for (const { index, field, error } of rejected) console.warn(index, field, error);
 * ```
 */
export interface RejectedEvent {
  /** Position of the event in the request. */
  readonly index: number;
  /** The offending field, or '' when the event is not an object. */
  readonly field: string;
  readonly error: string;
}

/**
 * What an ingest did: events stored, duplicates dropped, events rejected one by one, and the offsets of those stored.
 *
 * @example
 * ```ts
 * const { accepted, stored, duplicates, rejected, lastOffset } = await tandem.ingest('order', events);
 * for (const r of rejected) console.warn(`event ${r.index}: ${r.error}`);
 * ```
 */
export interface IngestResult {
  /** Valid events: stored now, or already in the log under the same idempotency key. */
  readonly accepted: number;
  /** How many of the accepted events were already in the log. */
  readonly duplicates: number;
  /**
   * How many of the accepted events this call stored: `accepted` less
   * `duplicates`, the figure billing and counts want. Null only in cluster
   * mode when a partition's reader could not count the duplicates in time
   * (its read wait), so neither is known exactly; the embedded engine always
   * knows.
   */
  readonly stored: number | null;
  readonly rejected: readonly RejectedEvent[];
  /**
   * Fields some events had and their event type does not declare, left out
   * of the stored events (for a type with `undeclaredFields: 'ignore'`);
   * absent when there were none.
   */
  readonly ignoredFields?: readonly string[];
  /** Offsets of the events stored by this call, or null if none were. */
  readonly firstOffset: number | null;
  readonly lastOffset: number | null;
  /**
   * Where this ingest's events are: an answer whose `meta.applied` is at
   * least this in every partition includes them (`answerIncludes`), in
   * either mode; send it back as a query's `after` to wait for them on any node. In cluster mode, per partition, the last stream
   * sequence this ingest was acknowledged at; embedded, one number, the
   * log's end once they were stored.
   */
  readonly position?: readonly number[];
}

/**
 * What a published batch cycle did.
 *
 * @example
 * ```ts
 * const { version, cutoff, durationMs } = await tandem.runBatch();
 * ```
 */
export interface BatchSummary {
  readonly version: number;
  /** Offsets below it went into this version (embedded mode; in cluster mode, see `cutoffs`). */
  readonly cutoff: number;
  /** Cluster mode: per log partition, the stream sequence below which its events went into this version. */
  readonly cutoffs?: readonly number[];
  /** Events in the master dataset below the cutoff: all of them went into this version. */
  readonly events: number;
  /** The whole cycle, from sealing the log to publishing the version: the duration status reports for it too. */
  readonly durationMs: number;
  /** Of which: sealing the log and exporting to Parquet what the background had not exported yet. */
  readonly exportMs: number;
  /** `incremental`: the published views plus the events since their cutoff; `full`: every view recomputed from everything. */
  readonly mode?: 'full' | 'incremental';
  /** Events this cycle read from the master dataset. */
  readonly inputEvents?: number;
  readonly views: Readonly<Record<string, { readonly rows: number; readonly durationMs: number }>>;
}

/**
 * Retention as status shows it: per event type with a `retention`, the
 * horizon (events older may have left the master dataset), and the files
 * and events retired so far, of which files `awaitingDeletion` are still
 * on disk for the grace period.
 *
 * @example
 * ```ts
 * const { horizons, retiredEvents } = tandem.status().retention ?? { horizons: {}, retiredEvents: 0 };
 * ```
 */
export interface RetentionStatus {
  readonly horizons: Readonly<Record<string, string>>;
  readonly retiredFiles: number;
  readonly retiredEvents: number;
  readonly awaitingDeletion: number;
}

/**
 * What the audit log keeps of an erasure done (`tandem.erase`): who asked,
 * when, which event type and fields, and how many events and files it took
 * out; never the values it matched.
 *
 * @example
 * ```ts
 * const { events, files } = await tandem.erase({ eventType: 'order', where: { customer: 'c-123' } });
 * ```
 */
export interface ErasureAudit {
  readonly id: string;
  readonly by: string;
  readonly requestedAt: string;
  readonly completedAt: string;
  readonly eventType: string;
  /** The fields the predicate named. */
  readonly fields: readonly string[];
  /** Events taken out of the master dataset. */
  readonly events: number;
  /** Parquet files written again without them. */
  readonly files: number;
  /** Views keeping aggregates of the type that had frozen rows: what the erasure did to them (`src/batch/frozen-erasure.ts`). */
  readonly frozen?: readonly FrozenErasure[];
}

/**
 * A snapshot of the three layers, for status pages and metrics.
 *
 * @example
 * ```ts
 * const { logEnd, batch, speed } = tandem.status();
 * console.log(`log end ${logEnd}, batch v${batch?.version}, ${speed.keys} speed keys`);
 * ```
 */
export interface EngineStatus {
  readonly logEnd: number;
  readonly sealedSegments: number;
  readonly idempotencyKeys: number;
  readonly batch: {
    readonly version: number;
    readonly cutoff: number;
    readonly createdAt: string;
    readonly ageMs: number;
    readonly durationMs: number;
    /** The batch tables this process holds (in cluster mode, those of its own partitions): their slots, one per series and bucket. */
    readonly slots: number;
    /** Their estimated heap bytes, dimension values and sketches included. */
    readonly bytes: number;
  } | null;
  readonly batchRunning: boolean;
  /** Where the running batch cycle is, or null when none runs. */
  readonly batchProgress: BatchProgress | null;
  readonly recentBatches: readonly BatchSummary[];
  /** Set while batch runs keep failing (the published version keeps serving, but ages), null once one succeeds. */
  readonly batchFailing: BatchFailure | null;
  readonly speed: RealtimeStats;
  /** Embedded engines whose event types declare a `retention`: each type's horizon now, and what retention took out of the master dataset. */
  readonly retention?: RetentionStatus;
  /** View changes whose batch layer is being backfilled, oldest first. */
  readonly viewChanges: readonly ViewChangeStatus[];
  /** Each view's version: raised whenever its definition changes. */
  readonly viewVersions: Readonly<Record<string, number>>;
  /** Cluster mode only: the nodes, the batch lease, and each partition's positions. */
  readonly cluster?: ClusterStatus;
}

/**
 * A cluster as one node sees it.
 *
 * @example
 * ```ts
 * const cluster = tandem.status().cluster;
 * for (const p of cluster?.partitions ?? []) console.log(p.partition, p.end - p.applied);
 * ```
 */
export interface ClusterStatus {
  readonly name: string;
  /** This node's name. */
  readonly node: string;
  /** The node holding the batch lease, or null when nobody holds an unexpired one. */
  readonly batchNode: string | null;
  readonly leaseTerm: number;
  /** Times this node read a partition again from the served cutoff: a leader change lost messages it had read, or it could not follow it. */
  readonly partitionRebuilds: number;
  readonly partitions: readonly PartitionStatus[];
  /**
   * Events the cluster holds, summed over the partitions (each event once,
   * duplicates not counted): null while a partition's count is unknown here
   * (no node holding its speed layer has told it yet).
   */
  readonly events?: number | null;
  /** Bytes of the archive (the master dataset's Parquet objects in the object store) the served version reads; null until every object's size is looked up. */
  readonly archiveBytes?: number | null;
  /** Changes of a partition's owner this node has seen since it started. */
  readonly ownerMoves?: number;
  /** The latest of them, oldest first. */
  readonly recentMoves?: readonly PartitionMove[];
  /** Every node seen in the last minute, with how far it has applied the log. */
  readonly nodes: readonly NodeStatus[];
  /** What of the cluster's shared state this node found missing or invalid; null while all is whole. */
  readonly archiveDamaged?: ArchiveDamage | null;
  /** Events this node took that its outbox still holds on its disk: not yet in an archived range verified in the object store. */
  readonly outboxEvents?: number;
  /** What this node has put back since it started, of what NATS lost. */
  readonly recovered?: {
    /** Events published again from its outbox. */
    readonly republishedEvents: number;
    /** Objects of the archive uploaded again from its own copies. */
    readonly restoredObjects: number;
    /** Times it rebuilt the control record. */
    readonly rebuiltRecords: number;
  };
}

/**
 * Pieces of a cluster's shared state (in NATS) a node found missing or not
 * valid: while any is, answers may lack what they held, and the status says so.
 *
 * @example
 * ```ts
 * const damage = tandem.status().cluster?.archiveDamaged;
 * if (damage) console.warn(damage.message, damage.missing);
 * ```
 */
export interface ArchiveDamage {
  /** Objects of the served version's chain missing from the object store, or whose digest differs from the manifest's. */
  readonly missing: readonly string[];
  /** Records that are not valid, as `<bucket> <key>`. */
  readonly invalid: readonly string[];
  /** Log partitions whose events this node's answers lack: it cannot follow them from the served version's cutoff, or it awaits again events a version recorded as lost by NATS. */
  readonly partitions?: readonly number[];
  /** What is wrong, what it means for answers, and what happens next, in one sentence. */
  readonly message: string;
  /** When this node first found it (ISO 8601). */
  readonly since: string;
}

/**
 * One log partition as a node sees it.
 *
 * @example
 * ```ts
 * const lagging = tandem.status().cluster?.partitions.filter((p) => p.end > p.applied);
 * ```
 */
export interface PartitionStatus {
  readonly partition: number;
  /** The stream's last sequence, as of the node's last look. */
  readonly end: number;
  /**
   * The last sequence of the partition's stream applied: by this node where
   * it reads the partition, else by the partition's owner, as of its last
   * heartbeat.
   */
  readonly applied: number;
  /** Sequences below it are in the published batch view. */
  readonly batchCutoff: number;
  /** Sequences below it are archived in the object store and may be purged from the stream. */
  readonly archived: number;
  /**
   * Events the partition holds up to `applied` (in its archive and past it),
   * each once: a message may carry many events, so this, not a sequence, is
   * the partition's size. Counted by the node holding its speed layer; null
   * while none has told this node.
   */
  readonly events?: number | null;
  /** Events of the partition in the archive the served version reads (below `archived`). */
  readonly archivedEvents?: number;
  /** Bytes of those events' Parquet objects in the object store; null until looked up. */
  readonly archiveBytes?: number | null;
  /** The node that owns the partition (holds its lease), as this node last saw; null while none does. */
  readonly owner?: string | null;
  /** The fencing epoch of the owner's lease; null while none holds it. */
  readonly epoch?: number | null;
  /** The node the owner is handing the partition to, once it caught up; null when none. */
  readonly moveTo?: string | null;
  /**
   * Whether this node holds the partition's speed layer whole (it owns it,
   * is taking it over, or stands by): queries on other nodes gather its
   * recent events from the owner.
   */
  readonly speedHere?: boolean;
}

/**
 * A change of a partition's owner, as a node saw it.
 *
 * @example
 * ```ts
 * for (const m of tandem.status().cluster?.recentMoves ?? []) console.log(`partition ${m.partition}: ${m.from} -> ${m.to}`);
 * ```
 */
export interface PartitionMove {
  readonly partition: number;
  readonly from: string | null;
  readonly to: string | null;
  /** When this node saw it (ISO 8601). */
  readonly at: string;
}

/**
 * A node of the cluster, from its last heartbeat.
 *
 * @example
 * ```ts
 * for (const n of tandem.status().cluster?.nodes ?? []) console.log(n.node, n.lagMessages);
 * ```
 */
export interface NodeStatus {
  readonly node: string;
  /** Its HTTP address, when it serves one. */
  readonly url: string | null;
  /** Per partition, the last sequence it has applied (of those it reads). */
  readonly applied: readonly number[];
  /** The partitions it reads: those it owns, takes over or stands by for; absent for a node of an older release, which reads every one. */
  readonly reads?: readonly number[];
  /** Messages it has yet to apply, summed over the partitions it reads, against the ends this node knows. */
  readonly lagMessages: number;
  readonly batchVersion: number | null;
  readonly seenAgoMs: number;
}

/**
 * Batch runs that failed since the last one that published.
 *
 * @example
 * ```ts
 * const failing = tandem.status().batchFailing;
 * if (failing !== null) console.error(`${failing.consecutive} batch runs failed: ${failing.error}`);
 * ```
 */
export interface BatchFailure {
  /** Failed runs in a row. */
  readonly consecutive: number;
  /** When the first of them failed (ISO). */
  readonly since: string;
  /** When the latest failed (ISO). */
  readonly lastAt: string;
  /** What the latest failure said. */
  readonly error: string;
  /** Its error code, when it was a Tandem error. */
  readonly code: string | null;
}

/**
 * Where a running batch cycle is.
 *
 * @example
 * ```ts
 * const progress = tandem.status().batchProgress;
 * if (progress !== null) console.log(progress.phase, `${progress.viewsDone}/${progress.viewsTotal}`);
 * ```
 */
export interface BatchProgress {
  readonly startedAt: string;
  readonly phase: 'sealing' | 'exporting' | 'computing';
  /** Known once the log is sealed. */
  readonly cutoff: number | null;
  readonly viewsDone: number;
  readonly viewsTotal: number;
}

/**
 * A view change under way: the new definition folds live events already,
 * and its batch layer is computed from the master dataset in the
 * background; the old definition (if any) answers until it switches in.
 *
 * @example
 * ```ts
 * for (const c of tandem.status().viewChanges) console.log(c.view, `v${c.version}`, `${c.filesDone}/${c.filesTotal} files`);
 * ```
 */
export interface ViewChangeStatus {
  readonly view: string;
  /** `add` for a new name, `change` for a new definition of a served view. */
  readonly action: 'add' | 'change';
  /** The version the change makes. */
  readonly version: number;
  /** The version answering meanwhile; null for a new view. */
  readonly serving: number | null;
  /** `backfilling` while its batch files are computed, `switching` during the batch cycle that serves it, `retrying` after that cycle failed. */
  readonly state: 'backfilling' | 'switching' | 'retrying';
  readonly startedAt: string;
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly eventsDone: number;
  readonly eventsTotal: number;
  /** Milliseconds left at the rate so far; null until something is done. */
  readonly etaMs: number | null;
  /** Why the last switch failed, while `retrying`. */
  readonly error: string | null;
}

/**
 * What applying or dropping a view did.
 *
 * @example
 * ```ts
 * const change = await tandem.applyView(view);   // { view: 'by_plan', action: 'add', version: 1, state: 'backfilling' }
 * ```
 */
export interface ViewChangeAnswer {
  readonly view: string;
  readonly action: 'add' | 'change' | 'drop' | 'unchanged';
  /** The version the view has (or will have once backfilled); for a drop, the version dropped. */
  readonly version: number;
  /** `backfilling` until the new definition answers, `served` when it already does (unchanged), `dropped`. */
  readonly state: 'backfilling' | 'served' | 'dropped';
}
