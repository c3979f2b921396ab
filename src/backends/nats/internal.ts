/**
 * Every name of cluster mode, the public face (`index.ts`) and the working
 * parts behind it, for the tests and benchmarks that drive a part alone (a
 * log without a node, a filter without a log). The package exports none of
 * the parts, and no source file imports this: a file of the folder imports
 * its siblings directly.
 *
 * @module
 */
export * from './index.ts';
export { ClusterLog, connectNats, type ClusterLogOptions, type ClusterAppendOutcome, type AppendPlacement } from './cluster-log.ts';
export { LogConsumer, type LogConsumerOptions, type VerdictListener } from './log-consumer.ts';
export { FirstOccurrenceFilter, DEFAULT_MESSAGE_ID_WINDOW, type Admitted, type Verdict, type FirstOccurrenceOptions, type FilterSnapshot } from './first-occurrence.ts';
export { encodeMessages, decodeMessage, DEFAULT_MAX_MESSAGE_BYTES, MESSAGE_FORMAT, HISTORY_FORMAT, historyBody, HEADERS, type HistoryBody, type LogMessage, type EncodedMessage, type HeaderReader } from './log-message.ts';
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
export { PartitionPurgedError, PartitionDivergedError, HistoryObjectMissingError, FrozenPartUnnamedError, HistoryRowsMisplacedError, HistoryKeysMissingError, HistoryPublishPendingError, type StagedHistoryFile } from './errors.ts';
export { PartitionArchive } from './partition-archive.ts';
export type { ArchivedRange, SharedManifest } from './shared-manifest.ts';
export { importClusterHistory, importHistoryIntoCluster, chunkOffsets, type ClusterHistoryParts, type ClusterHistoryTarget } from './cluster-history-import.ts';
export { stageHistoryFile, routingField, checkAllPlaced, type StagedChunk, type StagedFile } from './history-staging.ts';
export { historyKeyReader, historyObjectNames, fetchHistoryObject, HISTORY_PREFIX, type HistoryKeyReader } from './history-objects.ts';
export { outcomeName, type HistoryOutcome } from './history-archive.ts';
export { forgetHistoryBelow, OUTCOME_KEEP_MS, type HistoryBlobs } from './history-cleanup.ts';
export { frozenPartFetcher } from './frozen-sources.ts';
