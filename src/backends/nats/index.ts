/**
 * Cluster mode (see docs/cluster.md): a partitioned event log on NATS
 * JetStream, one replicated stream per partition, with the routing, message
 * format, positions and duplicate rule that let every node derive the same
 * events (see `cluster-log.ts` for its design); and the batch lease and its
 * fenced publish (`batch-control.ts`). Nothing here is loaded by
 * `import 'tandem'`; the NATS client packages are optional peers, imported
 * when a log opens.
 *
 * @module
 */
export { ClusterLog, type ClusterLogOptions, type ClusterAppendOutcome, type AppendPlacement } from './cluster-log.ts';
export { LogConsumer, type LogConsumerOptions, type VerdictListener } from './log-consumer.ts';
export { FirstOccurrenceFilter, DEFAULT_MESSAGE_ID_WINDOW, type Admitted, type Verdict, type FirstOccurrenceOptions, type FilterSnapshot } from './first-occurrence.ts';
export { encodeMessages, decodeMessage, DEFAULT_MAX_MESSAGE_BYTES, MESSAGE_FORMAT, HEADERS, type LogMessage, type EncodedMessage, type HeaderReader } from './log-message.ts';
export { emptyPosition, laterOf, reaches, type IngestPosition } from './ingest-position.ts';
export { PartitionRouter, keyPartition } from './partition-router.ts';
export { checkClusterName, partitionStream, partitionSubject, partitionDescription } from './partition-names.ts';
export { partitionStreamConfig, ensurePartitionStreams, type PartitionStreamSettings } from './partition-streams.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './publish-retry.ts';
export { fnv1a32, fnv1a32Of } from './fnv1a.ts';
export { loadKv, loadNats, loadObj, NATS_PACKAGES, type NatsModules } from './nats-modules.ts';
export { ObjectBlobStore, type ObjectBlobStoreOptions } from './object-blob-store.ts';
export type { Following, PartitionBounds } from './partition-reader.ts';
export { BatchControl, CONTROL_KEY, type BatchControlOptions, type BatchLease, type ControlRecord, type PublishedBatch, type PublishRefusal } from './batch-control.ts';
export { MemoryRevisionedStore, type Revisioned, type RevisionedStore } from './revisioned-store.ts';
export { KvRevisionedStore, type KvStoreOptions } from './kv-revisioned-store.ts';
export {
  AppendRejectedError, AppendUnacknowledgedError, ClusterLogClosedError, EventTooLargeError, InvalidClusterOptionError,
  NatsClientMissingError, NatsConnectError, PartitionCountMismatchError, PartitionPurgedError, PartitionStreamMismatchError, PositionWaitTimeoutError,
} from './errors.ts';
export { ClusterNode, type ClusterNodeOptions } from './cluster-node.ts';
export { BatchFencedError, BatchLeaseHeldError, MissingClusterConfigError, NodeNameTakenError, PartitionDivergedError, ViewNotReadyError } from './errors.ts';
export { PartitionArchive, type ArchivedRange } from './partition-archive.ts';
export { connectNats } from './cluster-log.ts';
