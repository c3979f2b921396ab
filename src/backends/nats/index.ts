/**
 * Cluster mode (`tandem/cluster`, see docs/cluster.md): a node of a Tandem
 * cluster on NATS JetStream, its options, and the errors a caller of it can
 * meet, each with a stable `code` (the server answers each code it maps with
 * its status). Everything else of the folder is the node's own working
 * parts, listed for the tests in `internal.ts`.
 *
 * Nothing here is loaded by `import 'tandem'`, and importing this loads no
 * NATS client: they are optional peers, imported when a node opens.
 *
 * @example
 * ```ts
 * import { ClusterNode, NodeNameTakenError } from 'tandem/cluster';
 *
 * const node = await ClusterNode.open({ dataDir: './n1', config, servers: 'nats://127.0.0.1:4222', node: 'n1' });
 * ```
 *
 * @module
 */

// The node.
export { ClusterNode, type ClusterNodeOptions } from './cluster-node.ts';

// Opening: what to install, which servers, the config's `cluster` section, the node's name, and the streams found in NATS.
export {
  NatsClientMissingError, NatsConnectError, InvalidClusterOptionError, MissingClusterConfigError, NodeNameTakenError,
  PartitionCountMismatchError, PartitionRoutingMismatchError, PartitionStreamMismatchError,
} from './errors.ts';

// Ingest and queries: an event too large for a message, an append NATS refused or did not confirm, a node closing, a position or a view not reached yet.
export {
  EventTooLargeError, AppendRejectedError, AppendUnacknowledgedError, ClusterLogClosedError, PositionWaitTimeoutError, ViewNotReadyError,
} from './errors.ts';

// Batch cycles: the lease another node holds or took over, and the records, objects and messages a cycle found missing or damaged in NATS.
export {
  BatchLeaseHeldError, BatchLeaseExpiringError, BatchFencedError, InvalidClusterRecordError, ArchiveDamagedError, ClusterBucketMissingError, BucketStalledError, ClusterBucketBrokenError, LogBehindArchiveError,
} from './errors.ts';

// An erasure done, but a node still serves a version that counts the erased events.
export { ErasureNotServedError, ErasurePendingError } from './errors.ts';
// A history import's staged object missing or damaged in the object store (`tandem ingest --history --nats`).
export { HistoryObjectMissingError } from './errors.ts';

// A cycle asked of the node holding the lease: nobody answers for it, it went silent or ran past the wait, it failed there, or answered garbage.
export {
  BatchHolderUnreachableError, BatchHolderSilentError, BatchRequestTimeoutError, RemoteBatchFailedError, InvalidBatchMessageError,
} from './errors.ts';
// A query's speed layer gathered from the partitions' owners: some could not be read in time, a share was too large, or an owner failed or answered garbage.
export {
  PartitionsUnavailableError, PartitionNotServedError, ShareTooLargeError, RemoteShareFailedError, InvalidShareMessageError, ShareOwnerUnreachableError, ShareVersionSkewError,
} from './errors.ts';
