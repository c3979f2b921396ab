/**
 * Typed errors of cluster mode's log, one class per failure mode, each with a
 * stable `code` and a one-sentence message that says what to do.
 *
 * @module
 */
import { redactUrlsInText } from '../../util/redact-url.ts';
import { TandemError } from '../../definitions/errors.ts';
import type { HistoryFileOutcome } from '../../master/index.ts';

/**
 * The optional NATS client packages are not installed: cluster mode loads
 * them only when it starts, so `import 'tandem'` never needs them.
 *
 * @example
 * ```ts
 * await ClusterNode.open(options).catch((error) => {
 *   if (error instanceof NatsClientMissingError) console.error(error.message); // npm install the packages it names
 * });
 * ```
 */
export class NatsClientMissingError extends TandemError {
  readonly code = 'nats_client_missing';
  constructor(readonly packages: readonly string[], cause: unknown) {
    super(`Cluster mode needs the NATS client packages, which are not installed: run 'npm install ${packages.join(' ')}'.`, { cause });
  }
}

/**
 * No NATS server of the list could be reached when the log opened.
 *
 * @example
 * ```ts
 * await ClusterNode.open(options).catch((error) => {
 *   if (error instanceof NatsConnectError) console.error(error.servers, error.cause);
 * });
 * ```
 */
export class NatsConnectError extends TandemError {
  readonly code = 'nats_connect_failed';
  constructor(readonly servers: readonly string[], cause: unknown) {
    // The client's own message may quote an address as given; no secret may reach a log through it.
    super(`Could not connect to any NATS server of ${servers.join(', ')}: ${redactUrlsInText((cause as Error).message ?? String(cause))}.`, { cause });
  }
}

/**
 * A cluster option is out of range (a cluster name with characters a stream name cannot hold, no partitions, …).
 *
 * @example
 * ```ts
 * await ClusterNode.open({ ...options, servers: [] }).catch((error) => {
 *   if (error instanceof InvalidClusterOptionError) console.error(error.option, error.message);
 * });
 * ```
 */
export class InvalidClusterOptionError extends TandemError {
  readonly code = 'invalid_cluster_option';
  constructor(readonly option: string, message: string) {
    super(message);
  }
}

/**
 * The config places events in partitions by another rule than the one the
 * cluster recorded (`cluster.partitionBy`): the copies of one event could
 * land in two partitions and count twice.
 *
 * @example
 * ```ts
 * if (error instanceof PartitionRoutingMismatchError) console.error(error.recorded, error.configured);
 * ```
 */
export class PartitionRoutingMismatchError extends TandemError {
  readonly code = 'partition_routing_mismatch';
  constructor(readonly clusterName: string, readonly recorded: Readonly<Record<string, string>>, readonly configured: Readonly<Record<string, string>>) {
    const say = (rule: Readonly<Record<string, string>>) => (Object.keys(rule).length === 0 ? 'by idempotency key' : `by ${Object.entries(rule).map(([t, f]) => `${t}.${f}`).join(', ')}`);
    super(`Cluster ${clusterName} places events ${say(recorded)} where the config says ${say(configured)}: the rule is fixed for the life of a cluster, since duplicates are dropped per partition, so set cluster.partitionBy back or give the cluster another name.`);
  }
}

/**
 * A partition's stream exists with settings this log cannot use as they are
 * (another partition count, replica count or subject, a size or age limit
 * that would discard events): it is never changed behind an operator's back.
 *
 * @example
 * ```ts
 * await ClusterNode.open(options).catch((error) => {
 *   if (error instanceof PartitionStreamMismatchError) console.error(`${error.stream}: ${error.setting}`);
 * });
 * ```
 */
export class PartitionStreamMismatchError extends TandemError {
  readonly code = 'partition_stream_mismatch';
  constructor(readonly stream: string, readonly setting: string, readonly expected: unknown, readonly actual: unknown) {
    super(`Stream ${stream} has ${setting} ${JSON.stringify(actual)} where this cluster needs ${JSON.stringify(expected)}: fix the stream or the cluster settings, since changing either would misplace or lose events.`);
  }
}

/**
 * The cluster's log has another partition count than the config (streams
 * left by a config with more or fewer partitions): events are routed by a
 * hash modulo the count, so a log opened with another one would look for keys
 * in the wrong partitions. Refused before any stream is created.
 *
 * @example
 * ```ts
 * await ClusterNode.open(options).catch((error) => {
 *   if (error instanceof PartitionCountMismatchError) console.error(`${error.found} partitions, config says ${error.configured}`);
 * });
 * ```
 */
export class PartitionCountMismatchError extends TandemError {
  readonly code = 'partition_count_mismatch';
  constructor(readonly clusterName: string, readonly found: number, readonly configured: number, readonly streams: readonly string[]) {
    super(`Cluster ${clusterName}'s log has ${found} partitions (streams ${streams.join(', ')}) where the config says ${configured}: a cluster keeps its partition count for life, since events are placed by a hash modulo it, so set partitions back to ${found} or give the cluster another name.`);
  }
}

/**
 * One event encodes to more bytes than one message may carry, so the append was refused whole and nothing was published.
 *
 * @example
 * ```ts
 * await node.ingest('order', events).catch((error) => {
 *   if (error instanceof EventTooLargeError) console.error(`event ${error.index} takes ${error.bytes} bytes`);
 * });
 * ```
 */
export class EventTooLargeError extends TandemError {
  readonly code = 'event_too_large';
  constructor(readonly eventType: string, readonly index: number, readonly bytes: number, readonly limit: number) {
    super(`Event ${index} of type '${eventType}' takes ${bytes} bytes encoded, more than the ${limit} a log message may carry, so nothing of this append was stored.`);
  }
}

/**
 * A partition's stream did not acknowledge a message within the retry budget
 * (no quorum, no leader, no connection): the events may or may not be stored,
 * so the append can be retried, and its idempotency keys make that safe.
 *
 * @example
 * ```ts
 * await node.ingest('order', events).catch((error) => {
 *   if (error instanceof AppendUnacknowledgedError) console.error(error.partition, error.acknowledged); // retry later
 * });
 * ```
 */
export class AppendUnacknowledgedError extends TandemError {
  readonly code = 'append_unacknowledged';
  constructor(readonly partition: number, readonly waitedMs: number, readonly acknowledged: readonly number[], cause: unknown) {
    super(`Partition ${partition} did not acknowledge the append within ${Math.round(waitedMs / 1000)} s, so its events may or may not be stored: retry it, and its idempotency keys keep it from counting twice.`, { cause });
  }
}

/**
 * A partition's stream answered a publish with an error that retrying cannot
 * clear (the stream is gone, full, or refuses the message): nothing of that
 * message was stored.
 *
 * @example
 * ```ts
 * await node.ingest('order', events).catch((error) => {
 *   if (error instanceof AppendRejectedError) console.error(error.partition, error.reason);
 * });
 * ```
 */
export class AppendRejectedError extends TandemError {
  readonly code = 'append_rejected';
  constructor(readonly partition: number, readonly reason: string, readonly acknowledged: readonly number[], cause: unknown) {
    super(`Partition ${partition} refused the append (${reason}), so that partition's events were not stored.`, { cause });
  }
}

/**
 * Events were asked for below the start of a partition's stream: they were
 * archived and purged from it, so they must be read from the archive.
 *
 * @example
 * ```ts
 * for await (const m of log.replay(0, 1)) { ... } // throws PartitionPurgedError once the head is archived
 * ```
 */
export class PartitionPurgedError extends TandemError {
  readonly code = 'partition_purged';
  constructor(readonly partition: number, readonly fromSeq: number, readonly firstSeq: number) {
    super(`Partition ${partition} starts at sequence ${firstSeq}, after the requested ${fromSeq}: the earlier events were archived, so read them from the archive.`);
  }
}

/**
 * A consumer did not reach a position within the time it was given.
 *
 * @example
 * ```ts
 * await node.query({ view: 'revenue', granularity: 'all', after: position }).catch((error) => {
 *   if (error instanceof PositionWaitTimeoutError) console.error(error.applied, error.wanted); // answer 503, Retry-After
 * });
 * ```
 */
export class PositionWaitTimeoutError extends TandemError {
  readonly code = 'position_wait_timeout';
  constructor(readonly wanted: readonly number[], readonly applied: readonly number[], readonly waitedMs: number) {
    super(`The log was applied up to [${applied.join(', ')}] and not yet to [${wanted.join(', ')}] after ${waitedMs} ms: retry shortly.`);
  }
}

/**
 * The cluster log is closed or closing; no more appends or reads are accepted.
 *
 * @example
 * ```ts
 * await node.ingest('order', events).catch((error) => {
 *   if (error instanceof ClusterLogClosedError) console.error('the node is shutting down');
 * });
 * ```
 */
export class ClusterLogClosedError extends TandemError {
  readonly code = 'cluster_log_closed';
  constructor() {
    super('The cluster log is closed.');
  }
}

/**
 * A batch cycle was asked of a node that does not hold the batch lease: one
 * node at a time runs the batch layer, and the cycle runs there.
 *
 * @example
 * ```ts
 * await node.runBatch().catch((error) => {
 *   if (error instanceof BatchLeaseHeldError) console.log(`${error.holder} runs the batch layer`);
 * });
 * ```
 */
export class BatchLeaseHeldError extends TandemError {
  readonly code = 'batch_lease_held';
  constructor(readonly holder: string) {
    super(`Node ${holder} holds the batch lease, so batch cycles run there; ask that node, or wait for its lease to expire.`);
  }
}

/**
 * A batch cycle was asked of the batch node right after it restarted: the
 * control record still names it as the holder of a lease term its previous
 * process took (a process killed does not let its lease go), and the new
 * process, which did not take that term, cannot renew it, only take a new
 * one once it has expired. The condition passes by itself, so the server
 * answers 503 with `Retry-After` set to the time left (`retryAfterMs`).
 * A lease term whose write this process made but never saw confirmed reads
 * alike, and passes alike.
 *
 * @example
 * ```ts
 * await node.runBatch().catch(async (error) => {
 *   if (error instanceof BatchLeaseExpiringError) await new Promise((r) => setTimeout(r, error.retryAfterMs));
 * });
 * ```
 */
export class BatchLeaseExpiringError extends TandemError {
  readonly code = 'batch_lease_expiring';
  constructor(readonly node: string, readonly expiresInMs: number) {
    super(`Batch node ${node} restarted and cannot run cycles until the lease its previous process held expires in ${waitSeconds(expiresInMs)} s; retry then.`);
  }

  /** How long to wait before asking again: until the old term has expired, at least a second. */
  get retryAfterMs(): number {
    return waitSeconds(this.expiresInMs) * 1000;
  }
}

/** Whole seconds to wait for `ms` to pass, at least one: what Retry-After can say. */
function waitSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * A batch cycle was fenced: the node lost its lease while it ran (another
 * node took it), so its version was not published and a newer holder's
 * versions win. Whatever step of the cycle failed first (often a NATS
 * request whose timer ran out while the node was frozen) is its `cause`.
 *
 * @example
 * ```ts
 * await node.runBatch().catch((error) => {
 *   if (error instanceof BatchFencedError) console.warn(error.reason, error.cause);
 * });
 * ```
 */
export class BatchFencedError extends TandemError {
  readonly code = 'batch_fenced';
  constructor(readonly version: number, readonly reason: string, options?: { cause?: unknown }) {
    super(`Batch version ${version} was not published: ${reason}; the node that holds the lease now publishes instead.`, options);
  }
}

/**
 * A node was started under the name of a node that is running (its
 * heartbeat, written by another process, still changes): two processes
 * under one name would overwrite each other's place in the cluster.
 *
 * @example
 * ```ts
 * await ClusterNode.open(options).catch((error) => {
 *   if (error instanceof NodeNameTakenError) console.error(`${error.node} runs at ${error.url ?? error.host}`);
 * });
 * ```
 */
export class NodeNameTakenError extends TandemError {
  readonly code = 'node_name_taken';
  constructor(readonly node: string, readonly url: string | null, readonly host: string | null, livenessMs: number) {
    const where = `${host === null ? '' : ` on ${host}`}${url === null ? '' : ` at ${url}`}`;
    super(`Node name '${node}' is in use by a running node${where}: start this one with another --node name, or, if that node has died, start this one again once it has been silent for ${Math.ceil(livenessMs / 1000)} s.`);
  }
}

/**
 * The config has no `cluster` section, which `--nats` needs: every node must
 * agree on the partitions and the names, so they live in the shared config.
 *
 * @example
 * ```ts
 * await ClusterNode.open(options).catch((error) => {
 *   if (error instanceof MissingClusterConfigError) console.error(error.message);
 * });
 * ```
 */
export class MissingClusterConfigError extends TandemError {
  readonly code = 'missing_cluster_config';
  constructor() {
    super('Cluster mode needs a "cluster" section in the config, such as {"name": "shop", "partitions": 4, "replicas": 3}.');
  }
}

/**
 * A consumer had read messages that the partition's stream no longer holds at
 * their sequences: seen on NATS 2.9 after a stream leader was killed, when a
 * message the old leader had handed out before replicating it was lost and
 * another took its sequence. What was derived from the partition past its
 * last cutoff must be rebuilt from the stream.
 *
 * @example
 * ```ts
 * const consumer = await LogConsumer.start(log, listener, {
 *   onError: (error, p) => { if (error instanceof PartitionDivergedError) rebuild(p); },
 * });
 * ```
 */
export class PartitionDivergedError extends TandemError {
  readonly code = 'partition_diverged';
  constructor(readonly partition: number, readonly seq: number, readonly seen: string, readonly stored: string) {
    super(`Partition ${partition} holds another message at sequence ${seq} (${stored || 'none'}) than the one this node read there (${seen}), after a change of its stream's leader; the partition is re-read.`);
  }
}

export { ViewNotReadyError } from '../../engine/errors.ts';

/**
 * A record read back from NATS is not what Tandem wrote there: not JSON, or
 * not of its shape (a crash cut it short, an operator edited it, another
 * program wrote the key). `store` names the bucket and `key` the record;
 * nothing reads a field of it.
 *
 * @example
 * ```ts
 * await node.runBatch().catch((error) => {
 *   if (error instanceof InvalidClusterRecordError) console.error(`${error.store} ${error.key}: ${error.reason}`);
 * });
 * ```
 */
export class InvalidClusterRecordError extends TandemError {
  readonly code = 'cluster_record_invalid';
  constructor(readonly store: string, readonly key: string, readonly what: string, readonly reason: string, readonly advice: string, cause?: unknown) {
    super(`The ${what} '${key}' in ${store} is not valid (${reason}): ${advice}`, { cause });
  }
}

/**
 * Objects of a published version's chain are not in the object store as its
 * manifest lists them (gone, or holding other bytes), and this node holds
 * no good copy of them: what needs them (a cycle, a node resuming from the
 * archive) stops rather than answer short.
 *
 * @example
 * ```ts
 * await node.runBatch().catch((error) => {
 *   if (error instanceof ArchiveDamagedError) console.error(error.missing);
 * });
 * ```
 */
export class ArchiveDamagedError extends TandemError {
  readonly code = 'archive_damaged';
  constructor(readonly store: string, readonly missing: readonly { readonly blob: string; readonly problem: string }[], readonly consequence: string) {
    const first = missing[0]!;
    const more = missing.length > 1 ? ` and ${missing.length - 1} more` : '';
    super(`${first.blob}${more} of the published batch version's archive ${missing.length > 1 ? 'are' : 'is'} not in ${store} as the manifest lists (${first.problem}): ${consequence}`);
  }
}

/**
 * A bucket the cluster keeps its archive in no longer exists in NATS
 * (destroyed by hand, or lost with its servers).
 *
 * @example
 * ```ts
 * await node.runBatch().catch((error) => {
 *   if (error instanceof ClusterBucketMissingError) console.error(error.bucket);
 * });
 * ```
 */
export class ClusterBucketMissingError extends TandemError {
  readonly code = 'cluster_bucket_missing';
  constructor(readonly bucket: string, cause?: unknown) {
    super(`The object store bucket ${bucket} does not exist in NATS: every object of the archive is missing from it, so batch cycles stop until it is restored.`, { cause });
  }
}

/**
 * NATS answers every write to an object-store bucket that its files are
 * gone (`no such file or directory`): NATS 2.9 does so for a while, at
 * times for good, when the bucket is destroyed and created again at once.
 * Nothing in the bucket can be read or written then; putting the archive
 * back destroys it and creates it again first.
 *
 * @example
 * ```ts
 * await blobs.put(name, file).catch((error) => {
 *   if (error instanceof ClusterBucketBrokenError) await blobs.renew();
 * });
 * ```
 */
export class ClusterBucketBrokenError extends TandemError {
  readonly code = 'cluster_bucket_broken';
  constructor(readonly bucket: string, readonly reason: string) {
    super(`NATS has lost the files of the object store bucket ${bucket} (${reason}), so nothing can be written to it until it is destroyed and created again, which putting the archive back does.`);
  }
}

/**
 * Listing an object-store bucket, or reading an object of it, stalled: NATS
 * stopped delivering, as it does when the bucket is destroyed meanwhile.
 * What asked fails this once; a background check tries again on its next
 * turn, and a cycle can be asked again.
 *
 * @example
 * ```ts
 * await blobs.list().catch((error) => {
 *   if (error instanceof BucketStalledError) console.warn(error.message);
 * });
 * ```
 */
export class BucketStalledError extends TandemError {
  readonly code = 'bucket_stalled';
  constructor(readonly bucket: string, readonly doing: string, readonly afterMs: number) {
    super(`${doing[0]!.toUpperCase()}${doing.slice(1)} in the object store bucket ${bucket} stalled for ${afterMs} ms (the bucket may have been removed meanwhile), so it was given up and may be asked again.`);
  }
}

/**
 * A seal landed below where the archive ends: the partition's stream lost
 * its tail in NATS while the cycle ran. The cycle stops; the next one moves
 * the stream past the archive's end first.
 *
 * @example
 * ```ts
 * await node.runBatch().catch((error) => {
 *   if (error instanceof LogBehindArchiveError) setTimeout(retry, 5_000);
 * });
 * ```
 */
export class LogBehindArchiveError extends TandemError {
  readonly code = 'log_behind_archive';
  constructor(readonly partition: number, readonly seal: number, readonly archived: number) {
    super(`Partition ${partition}'s stream took a seal at sequence ${seal}, below where the archive ends (${archived}): NATS lost messages while the cycle ran, so it stops and the next cycle moves the stream past the archive's end.`);
  }
}

/** A wait as a reader takes it in: seconds up to two minutes, whole minutes past. */
const spelled = (ms: number) => (ms < 120_000 ? `${Math.ceil(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

/**
 * A node asked the batch lease's holder to run a cycle, and no process
 * answers batch requests under that node's name (NATS answered "no
 * responders"): the holder has stopped, and its lease runs out within one
 * lease duration, or it runs a Tandem version that takes no batch requests.
 *
 * @example
 * ```ts
 * await requests.ask('n1', {}).catch((error) => {
 *   if (error instanceof BatchHolderUnreachableError) setTimeout(retry, 5_000); // another node takes the lease
 * });
 * ```
 */
export class BatchHolderUnreachableError extends TandemError {
  readonly code = 'batch_holder_unreachable';
  constructor(readonly holder: string, readonly subject: string) {
    super(`Node ${holder} holds the batch lease, but no node answers batch requests under that name (it has stopped, or runs a Tandem version without them): retry once its lease has run out and another node has taken it.`);
  }
}

/**
 * The batch lease's holder was asked to run a cycle and has sent nothing
 * (not even that it is still running) for longer than a live holder ever
 * stays silent: it is frozen, has crashed, or has lost its connection to NATS.
 *
 * @example
 * ```ts
 * await requests.ask('n1', {}).catch((error) => {
 *   if (error instanceof BatchHolderSilentError) console.warn(`${error.holder} silent for ${error.silentMs} ms`);
 * });
 * ```
 */
export class BatchHolderSilentError extends TandemError {
  readonly code = 'batch_holder_silent';
  constructor(readonly holder: string, readonly silentMs: number) {
    super(`Node ${holder}, which holds the batch lease, has not answered the request for a batch cycle for ${spelled(silentMs)} (it is frozen, has crashed, or has lost NATS): a cycle it started may still publish; retry shortly, and should it be gone, another node takes the lease once it runs out.`);
  }
}

/**
 * The batch lease's holder kept running the cycle it was asked for past the
 * longest the asking node waits: the cycle goes on there and publishes when
 * it is done.
 *
 * @example
 * ```ts
 * await requests.ask('n1', {}).catch((error) => {
 *   if (error instanceof BatchRequestTimeoutError) console.log('still running; status shows when it publishes');
 * });
 * ```
 */
export class BatchRequestTimeoutError extends TandemError {
  readonly code = 'batch_request_timeout';
  constructor(readonly holder: string, readonly waitedMs: number) {
    super(`Node ${holder}, which holds the batch lease, was still running the batch cycle after ${spelled(waitedMs)}, the longest this node waits for it: the cycle publishes when it is done (see /v1/status), and asking again joins it.`);
  }
}

/**
 * The batch lease's holder ran the cycle it was asked for, and the cycle
 * failed with an error this node has no class for (or that did not come
 * whole): `remoteCode` and `remoteMessage` are the holder's own.
 *
 * @example
 * ```ts
 * await requests.ask('n1', {}).catch((error) => {
 *   if (error instanceof RemoteBatchFailedError) console.error(error.holder, error.remoteCode, error.remoteMessage);
 * });
 * ```
 */
export class RemoteBatchFailedError extends TandemError {
  readonly code = 'remote_batch_failed';
  constructor(readonly holder: string, readonly remoteCode: string, readonly remoteMessage: string) {
    super(`Node ${holder}, which holds the batch lease, ran the batch cycle and it failed (${remoteCode}): ${remoteMessage}`);
  }
}

/**
 * A batch request or reply between two nodes is not what Tandem sends (not
 * JSON, or not of its shape): the nodes run Tandem versions that do not
 * understand each other, or another program uses the subject. Nothing reads
 * a field of it.
 *
 * @example
 * ```ts
 * await requests.ask('n1', {}).catch((error) => {
 *   if (error instanceof InvalidBatchMessageError) console.error(`${error.node}'s ${error.kind}: ${error.reason}`);
 * });
 * ```
 */
export class InvalidBatchMessageError extends TandemError {
  readonly code = 'batch_message_invalid';
  constructor(readonly node: string, readonly kind: 'request' | 'reply', readonly reason: string, cause?: unknown) {
    super(kind === 'reply'
      ? `Node ${node} answered the request for a batch cycle with a reply that is not valid (${reason}), so whether its cycle published is unknown: run one Tandem version on every node.`
      : `A request for a batch cycle from ${node} is not valid (${reason}), so no cycle ran for it: run one Tandem version on every node.`, { cause });
  }
}

/**
 * A publish under a partition's lease carried an epoch that is no longer the
 * partition's: another node took the lease since (it expired, or this node
 * handed it over), this node released it, or its record is not valid. What
 * it would publish is refused; the partition's current owner publishes
 * instead.
 *
 * @example
 * ```ts
 * await leases.publish(3, epoch, { version: 8, cutoff: 1_200 }).catch((error) => {
 *   if (error instanceof PartitionFencedError) console.warn(`partition ${error.partition}: ${error.reason}`);
 * });
 * ```
 */
export class PartitionFencedError extends TandemError {
  readonly code = 'partition_fenced';
  constructor(readonly partition: number, readonly epoch: number, readonly reason: string, options?: { cause?: unknown }) {
    super(`Partition ${partition} refused a publish under epoch ${epoch} because ${reason}; its current owner publishes instead.`, options);
  }
}

/**
 * A node asked to hand over a partition whose lease it does not hold: only
 * the owner may say which node takes a partition next.
 *
 * @example
 * ```ts
 * await leases.handOver(3, 'n2').catch((error) => {
 *   if (error instanceof PartitionNotOwnedError) console.warn(`${error.node} does not own partition ${error.partition}`);
 * });
 * ```
 */
export class PartitionNotOwnedError extends TandemError {
  readonly code = 'partition_not_owned';
  constructor(readonly node: string, readonly partition: number) {
    super(`Node ${node} holds no lease on partition ${partition}, so it cannot hand the partition over; only its owner can.`);
  }
}

/**
 * A partition's owner published a version that is not newer than the one
 * its record holds (a retry of a publish that landed, or a new owner that did
 * not start from its predecessor's version): a partition's versions only go up.
 *
 * @example
 * ```ts
 * await leases.publish(3, epoch, { version: 8, cutoff: 1_200 }).catch((error) => {
 *   if (error instanceof PartitionVersionStaleError) console.warn(`partition ${error.partition} is at ${error.published}`);
 * });
 * ```
 */
export class PartitionVersionStaleError extends TandemError {
  readonly code = 'partition_version_stale';
  constructor(readonly partition: number, readonly version: number, readonly published: number) {
    super(`Partition ${partition} already has version ${published}, so version ${version} was not published: a partition's versions only go up.`);
  }
}

/**
 * A partition's owner was asked for its share of an answer from another
 * cutoff than its speed layer starts at: the two nodes serve different batch
 * versions for a moment (one adopted a newer one first). The asker adopts
 * the newer version, or waits for the owner to, and asks again.
 *
 * @example
 * ```ts
 * await shares.ask('n2', request).catch((error) => {
 *   if (error instanceof ShareVersionSkewError) setTimeout(askAgain, 250);
 * });
 * ```
 */
export class ShareVersionSkewError extends TandemError {
  readonly code = 'share_version_skew';
  constructor(readonly node: string, readonly partition: number, readonly asked: number, readonly starts: number) {
    super(`Node ${node} was asked for partition ${partition} from sequence ${asked}, but its speed layer starts at ${starts} (the two nodes serve different batch versions for a moment), so ask again once both serve the same one.`);
  }
}

/**
 * A partition's owner could not be asked for its share of an answer: no
 * process answers on its subject (it stopped, or is not a node of this
 * cluster), or it did not answer in time.
 *
 * @example
 * ```ts
 * await shares.ask('n2', request).catch((error) => {
 *   if (error instanceof ShareOwnerUnreachableError) console.warn(error.message);
 * });
 * ```
 */
export class ShareOwnerUnreachableError extends TandemError {
  readonly code = 'share_owner_unreachable';
  constructor(readonly node: string, readonly reason: string, cause?: unknown) {
    super(`Node ${node} could not be asked for its share of an answer (${reason}), so the partitions it owns cannot be read from it now.`, { cause });
  }
}

/**
 * A share of an answer would take more than a share may (64 MiB, sent in
 * as many NATS messages as it takes): the query reads more of a partition
 * than that. Narrow the query (a shorter range, fewer groups, a coarser view).
 *
 * @example
 * ```ts
 * await shares.ask('n2', request).catch((error) => {
 *   if (error instanceof ShareTooLargeError) console.warn(error.bytes);
 * });
 * ```
 */
export class ShareTooLargeError extends TandemError {
  readonly code = 'share_too_large';
  constructor(readonly node: string, readonly bytes: number, readonly maxBytes: number) {
    super(`Node ${node}'s share of the answer takes ${bytes} bytes, more than the ${maxBytes} a share may take, so narrow the query (a shorter range, fewer groups, a coarser view).`);
  }
}

/**
 * A share request or reply between two nodes is not of its shape: the nodes
 * run different Tandem versions.
 *
 * @example
 * ```ts
 * await shares.ask('n2', request).catch((error) => {
 *   if (error instanceof InvalidShareMessageError) console.error(error.reason);
 * });
 * ```
 */
export class InvalidShareMessageError extends TandemError {
  readonly code = 'share_message_invalid';
  constructor(readonly node: string, readonly kind: 'request' | 'reply', readonly reason: string, cause?: unknown) {
    super(kind === 'reply'
      ? `Node ${node} answered a share request with a reply that is not valid (${reason}): run one Tandem version on every node.`
      : `A share request from ${node} is not valid (${reason}), so it was refused: run one Tandem version on every node.`, { cause });
  }
}

/**
 * A partition's owner failed to give its share of an answer, for a reason
 * this node has no class for: `remoteCode` and the sentence are the owner's.
 *
 * @example
 * ```ts
 * await shares.ask('n2', request).catch((error) => {
 *   if (error instanceof RemoteShareFailedError) console.warn(error.remoteCode);
 * });
 * ```
 */
export class RemoteShareFailedError extends TandemError {
  readonly code = 'remote_share_failed';
  constructor(readonly node: string, readonly remoteCode: string, readonly remoteMessage: string) {
    super(`Node ${node} could not give its share of the answer (${remoteCode}): ${remoteMessage.replace(/\.$/, '')}.`);
  }
}

/**
 * A node was asked for a partition's speed layer it does not hold whole: it
 * does not own the partition (any more), or is still reading it after
 * taking it over. The asker tries again once it sees the partition's owner
 * change.
 *
 * @example
 * ```ts
 * await shares.ask('n2', request).catch((error) => {
 *   if (error instanceof PartitionNotServedError) console.warn(error.partition);
 * });
 * ```
 */
export class PartitionNotServedError extends TandemError {
  readonly code = 'partition_not_served';
  constructor(readonly node: string, readonly partition: number) {
    super(`Node ${node} does not hold partition ${partition}'s speed layer (it does not own it, or is still reading it after taking it over), so ask its owner.`);
  }
}

/**
 * A query needs the speed layer of partitions that no node could give in
 * time: their owner does not answer and no other node has taken them over
 * yet (a node that dies loses its partitions within about a lease time).
 * Nothing is answered short: retry, or send `allowPartial` to answer without
 * them, named in `meta.missingPartitions`.
 *
 * @example
 * ```ts
 * await node.query({ view: 'revenue' }).catch((error) => {
 *   if (error instanceof PartitionsUnavailableError) console.warn(error.partitions, error.reasons);
 * });
 * ```
 */
export class PartitionsUnavailableError extends TandemError {
  readonly code = 'partitions_unavailable';
  constructor(readonly partitions: readonly number[], readonly reasons: readonly string[], readonly waitedMs: number) {
    super(`The speed layer of partition${partitions.length === 1 ? '' : 's'} ${partitions.join(', ')} could not be read from any node within ${waitedMs} ms (${reasons.join('; ') || 'no node owns them yet'}), so retry shortly, or send allowPartial to answer without them.`);
  }
}

/**
 * A partition's owner could not be asked what only the node reading a
 * partition knows (which of this node's outbox events it has seen, the
 * duplicates of an ingest): it did not answer, answered with an error, or
 * answered with a message that is not valid. The asker tries again at its
 * next round, or answers the ingest without the count.
 *
 * @example
 * ```ts
 * await owners.origins('n2', [1, 3]).catch((error) => {
 *   if (error instanceof OwnerAskFailedError) logger.warn({ node: error.node }, error.message);
 * });
 * ```
 */
export class OwnerAskFailedError extends TandemError {
  readonly code = 'owner_ask_failed';
  constructor(readonly node: string, readonly what: string, readonly reason: string, cause?: unknown) {
    super(`Node ${node} could not be asked for ${what} (${reason}), so this node asks again later.`, { cause });
  }
}

/**
 * A request another node sent to a partition's owner is not of its shape:
 * the nodes run different Tandem versions.
 *
 * @example
 * ```ts
 * await owners.applied('n2', position, messages, 2_000).catch((error) => {
 *   if (error instanceof OwnerAskFailedError && /owner_request_invalid/.test(error.reason)) console.error('upgrade every node');
 * });
 * ```
 */
export class InvalidOwnerRequestError extends TandemError {
  readonly code = 'owner_request_invalid';
  constructor(readonly reason: string, cause?: unknown) {
    super(`A request from another node is not valid (${reason}), so it was refused: run one Tandem version on every node.`, { cause });
  }
}

/**
 * A node asked to compute its part of a batch cycle (the partitions it owns,
 * issue #28) did not: it did not answer in time, stopped being heard from,
 * refused (it does not serve the version the cycle builds on, or no longer
 * owns the partitions), or answered with ranges that do not extend the
 * chain. The node running the cycle computes those partitions itself, so the
 * cycle goes on; the failure is logged, never shown to a user.
 *
 * @example
 * ```ts
 * const part = await parts.ask('n2', request, 60_000).catch((error) => {
 *   if (error instanceof CyclePartFailedError) return computeHere(request.partitions);
 *   throw error;
 * });
 * ```
 */
export class CyclePartFailedError extends TandemError {
  readonly code = 'cycle_part_failed';
  constructor(readonly node: string, readonly version: number, readonly reason: string, cause?: unknown) {
    super(`Node ${node} did not compute its part of batch version ${version} (${reason}), so the node running the cycle computes those partitions itself.`, { cause });
  }
}

/**
 * A node was asked for its part of a batch cycle it cannot compute as asked:
 * it serves another version than the one the cycle builds on, or does not
 * own every partition asked. It refuses before writing anything.
 *
 * @example
 * ```ts
 * throw new CyclePartRefusedError(12, 'this node serves batch version 10, not 11 that the cycle builds on');
 * ```
 */
export class CyclePartRefusedError extends TandemError {
  readonly code = 'cycle_part_refused';
  constructor(readonly version: number, readonly reason: string) {
    super(`This node cannot compute its part of batch version ${version}: ${reason}.`);
  }
}

/**
 * An erasure is recorded but the batch cycles asked for it ran without
 * applying it (each finished, yet the erasure is still pending): the batch
 * node applies it with a later cycle, and the erase call can be repeated.
 *
 * @example
 * ```ts
 * await node.erase({ eventType: 'order', where: { customer: 'c-123' } }).catch((error) => {
 *   if (error instanceof ErasurePendingError) console.warn(`erasure ${error.erasure} still pending after ${error.cycles} cycles`);
 * });
 * ```
 */
export class ErasurePendingError extends TandemError {
  readonly code = 'erasure_pending';
  constructor(readonly erasure: string, readonly cycles: number) {
    super(`Erasure ${erasure} is still pending after ${cycles} batch cycles; the batch node applies it with a later cycle.`);
  }
}

/**
 * An erasure was applied and its batch version published, but a live node
 * still serves an older version, whose views count the erased events: the
 * erase call does not claim "no answer counts them" until every node serves
 * the new version. The erasure stays done; those nodes stop counting the
 * events once they adopt it (a node that cannot is in its own status).
 *
 * @example
 * ```ts
 * await node.erase({ eventType: 'order', where: { customer: 'c-123' } }).catch((error) => {
 *   if (error instanceof ErasureNotServedError) console.warn(error.nodes, error.version);
 * });
 * ```
 */
export class ErasureNotServedError extends TandemError {
  readonly code = 'erasure_not_served';
  constructor(readonly erasure: string, readonly version: number, readonly nodes: readonly string[]) {
    super(`Erasure ${erasure} is published in batch version ${version}, but ${nodes.length === 1 ? 'node' : 'nodes'} ${nodes.join(', ')} still ${nodes.length === 1 ? 'serves' : 'serve'} an older version that counts the erased events, until ${nodes.length === 1 ? 'it adopts' : 'they adopt'} version ${version}.`);
  }
}

/**
 * A history message names a staged object that the object store does not
 * hold with the SHA-256 the message gives (deleted by hand, or damaged): no
 * consumer can apply the duplicate rule past it, so the partition is not
 * read further until the object is restored.
 *
 * @example
 * ```ts
 * consumer.onError = (error) => {
 *   if (error instanceof HistoryObjectMissingError) console.error(`restore ${error.object}`);
 * };
 * ```
 */
export class HistoryObjectMissingError extends TandemError {
  readonly code = 'history_object_missing';
  constructor(readonly object: string, readonly partition: number, readonly seq: number, readonly problem: string) {
    super(`The history object ${object} named by message ${seq} of partition ${partition} is not in the object store as the message says (${problem}): restore it, or the partition is read no further.`);
  }
}

/**
 * An erasure rewrites a frozen part of the served version, but the served
 * version's manifest names no object for that file: the cycle cannot read
 * the part to rewrite it, so it stops before publishing anything (a bug, or
 * a manifest that does not list its own parts).
 *
 * @example
 * ```ts
 * await node.runBatch({ full: true }).catch((error) => {
 *   if (error instanceof FrozenPartUnnamedError) console.error(error.file);
 * });
 * ```
 */
export class FrozenPartUnnamedError extends TandemError {
  readonly code = 'frozen_part_unnamed';
  constructor(readonly file: string) {
    super(`The served version names no object for its frozen part ${file}, so the erasure cannot rewrite it and this cycle publishes nothing.`);
  }
}

/**
 * Staging a history file for a cluster placed a different number of rows
 * in partitions and chunks than it found good: a row lost (or doubled)
 * there would be silently not imported (or counted twice), so nothing of the
 * file is published.
 *
 * @example
 * ```ts
 * await importHistoryIntoCluster(target, 'usage', files).catch((error) => {
 *   if (error instanceof HistoryRowsMisplacedError) console.error(error.path, error.placed, error.good);
 * });
 * ```
 */
export class HistoryRowsMisplacedError extends TandemError {
  readonly code = 'history_rows_misplaced';
  constructor(readonly path: string, readonly placed: number, readonly good: number) {
    super(`Staging history file ${path} placed ${placed} of its ${good} good rows in partitions, so nothing of it is published.`);
  }
}

/**
 * A history message of a keyed event type reached the duplicate rule
 * without its idempotency keys (or with another number of them than its
 * rows): the partition's reader reads them from the keys object before
 * handing the message on, so the rule cannot decide its rows and stops.
 *
 * @example
 * ```ts
 * consumer.onError = (error) => {
 *   if (error instanceof HistoryKeysMissingError) console.error(error.partition, error.seq);
 * };
 * ```
 */
export class HistoryKeysMissingError extends TandemError {
  readonly code = 'history_keys_missing';
  constructor(readonly partition: number, readonly seq: number, readonly rows: number, readonly keys: number | undefined) {
    super(`History message ${seq} of partition ${partition} reached the duplicate rule with ${keys === undefined ? 'no keys' : `${keys} keys`} for its ${rows} rows, so the partition is read no further.`);
  }
}

/** A file a cluster history import staged and published: what its summary says before a cycle archives it (no kept or duplicate counts yet). */
export type StagedHistoryFile = Omit<HistoryFileOutcome, 'imported' | 'duplicates'>;

/**
 * A cluster history import staged and published its files, each chunk a
 * message in its partition's stream, but the batch cycle it asked for to
 * archive them failed (`cause`). Nothing is lost: the messages stay in the
 * streams, and the next cycle that runs (scheduled or asked) archives them,
 * the duplicate rule deciding alike; importing again is not needed (each
 * file's run is recorded done). `staged` is what a summary can say before
 * that cycle: rows, rejections and offsets per file, not yet what was kept.
 *
 * @example
 * ```ts
 * await importHistoryIntoCluster(target, 'usage', files).catch((error) => {
 *   if (error instanceof HistoryPublishPendingError) for (const f of error.staged) console.log(f.file, f.rows, f.rejected);
 * });
 * ```
 */
export class HistoryPublishPendingError extends TandemError {
  readonly code = 'history_publish_pending';
  constructor(readonly eventType: string, readonly staged: readonly StagedHistoryFile[], readonly skipped: readonly string[], readonly messages: number, cause: unknown) {
    const rows = staged.reduce((n, f) => n + f.rows - f.rejected, 0);
    // The cause may be an HTTP client's, quoting the node's address as given: no secret may reach a log through it.
    const why = redactUrlsInText(cause instanceof Error ? cause.message : String(cause));
    super(`The ${rows} good rows of ${staged.length} ${staged.length === 1 ? 'file' : 'files'} of event type '${eventType}' are staged in ${messages} history ${messages === 1 ? 'message' : 'messages'} of the cluster's streams, but the batch cycle asked to archive them failed (${why.replace(/\.$/, '')}): the next cycle that runs archives them, with no need to import them again.`, { cause });
  }
}
