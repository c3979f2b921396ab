/**
 * The options of a cluster node.
 *
 * @module
 */
import type { IncrementalPolicy } from '../../batch/index.ts';
import type { EngineLogger } from '../../engine/engine-types.ts';

/** How long the batch lease lasts without renewal, unless `leaseMs` says otherwise. */
export const DEFAULT_LEASE_MS = 15_000;

/**
 * How to start a cluster node. Its batch cycles are incremental over the
 * archive ranges each one adds, with a full recompute as the embedded
 * engine runs it (`fullBatchEveryMs`, `maxBatchDeltas`, or asked for).
 *
 * @example
 * ```ts
 * const node = await ClusterNode.open({ dataDir: './node1', config, servers: ['nats://127.0.0.1:4222'], node: 'node1' });
 * ```
 */
export interface ClusterNodeOptions extends IncrementalPolicy {
  /** The node's local directory: its copies of the archive and of batch versions. */
  readonly dataDir: string;
  /** The definitions, with a `cluster` section. */
  readonly config: unknown;
  /** NATS server URLs, any of the cluster's. */
  readonly servers: string | readonly string[];
  /** This node's name, unique in the cluster: a name a running node holds is refused (`NodeNameTakenError`). Default: `<host>-<pid>`. */
  readonly node?: string;
  /** The node's HTTP address, shown to the other nodes. */
  readonly url?: string;
  /** How long the batch lease lasts without renewal. Default 15 s. */
  readonly leaseMs?: number;
  /**
   * How long a partition's ownership lease lasts without a renewal (default
   * 6 s): a node that dies or freezes loses its partitions after it, and the
   * others take them within about a third of it more.
   */
  readonly partitionLeaseMs?: number;
  /** How long a query with `after` (and an ingest, for its own events) waits for this node to apply a position. Default 2 s. */
  readonly readWaitMs?: number;
  /** How long opening waits for the node to apply what the log held when it started. Default 10 minutes. */
  readonly catchUpMs?: number;
  /** How often the node checks that the object store holds the served version's whole chain. Default 5 s. */
  readonly archiveCheckMs?: number;
  /**
   * Events a partition holds past the last archived range before the batch
   * node archives them ahead of the next cycle, in the background, so that a
   * cycle archives only what arrived since. Default 10,000.
   */
  readonly archiveAheadEvents?: number;
  /**
   * How long a batch cycle waits for another owner's part (its partitions
   * archived and its views computed) before it computes those partitions
   * itself. Default 30 minutes; a part whose node is no longer heard from is
   * given up on within a second of that anyway.
   */
  readonly partTimeoutMs?: number;
  /** Published versions kept in the object store. Default 3. */
  readonly keepVersions?: number;
  /** Keys the node's speed layer may hold: past half the batch node runs a cycle early, at the limit ingest answers 503. Default 5,000,000. */
  readonly maxSpeedKeys?: number;
  /** The same bound by estimated heap bytes. Default 1 GiB. */
  readonly maxSpeedBytes?: number;
  /**
   * Retention's second phase: how long an archive object retired by an
   * event type's `retention` stays in the object store before the batch
   * node deletes it. Default one day.
   */
  readonly retentionGraceMs?: number;
  /** The clock retention's horizons are read from (ms since the epoch); `Date.now` unless a test sets another. */
  readonly now?: () => number;
  readonly logger?: EngineLogger;
}
