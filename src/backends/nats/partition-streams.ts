/**
 * Creates each partition's stream, or checks the one that is there. A stream
 * keeps every acknowledged event: file storage, limits retention with no
 * limit set, and `discard: new`, so that if an operator ever sets a limit a
 * full stream refuses publishes instead of dropping acknowledged events.
 * Only the archive step will purge a prefix it has copied; single messages
 * can never be deleted (`deny_delete`), so sequences have no holes.
 *
 * A stream that exists with other settings is never changed here: the
 * partition count (in the description), the replica count, the subject and
 * the retention all decide where events are or whether they stay, so a
 * mismatch refuses to open with {@link PartitionStreamMismatchError}, or
 * {@link PartitionCountMismatchError} for another partition count. Every
 * existing stream of the cluster is checked before any missing one is
 * created, so a refused node leaves the log as it found it.
 *
 * @module
 */
import type { JetStreamManager, StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { PartitionCountMismatchError, PartitionStreamMismatchError } from './errors.ts';
import type { NatsModules } from './nats-modules.ts';
import { partitionCountOf, partitionDescription, partitionOfStream, partitionStream, partitionSubject } from './partition-names.ts';
import { placementPending, retryTransient, STREAM_NOT_FOUND } from './publish-retry.ts';

export interface PartitionStreamSettings {
  readonly clusterName: string;
  readonly partitions: number;
  readonly replicas: number;
  /** JetStream's window for Nats-Msg-Id duplicates. */
  readonly duplicateWindowMs: number;
  /** The largest payload the log publishes: a stream with a smaller `max_msg_size` is refused. */
  readonly maxMessageBytes: number;
  /** How long requests that time out (a stream without a leader yet) are retried. */
  readonly retryForMs: number;
}

const STREAM_NAME_IN_USE = 10058;

/** The settings partition `partition`'s stream is created with. */
export function partitionStreamConfig(nats: NatsModules, settings: PartitionStreamSettings, partition: number): Partial<StreamConfig> & { name: string } {
  const { StorageType, RetentionPolicy, DiscardPolicy } = nats.jetstream;
  return {
    name: partitionStream(settings.clusterName, partition),
    description: partitionDescription(settings.clusterName, partition, settings.partitions),
    subjects: [partitionSubject(settings.clusterName, partition)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: settings.replicas,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    max_msg_size: -1,
    discard: DiscardPolicy.New,
    deny_delete: true,
    deny_purge: false,
    duplicate_window: settings.duplicateWindowMs * 1_000_000,
  };
}

/** Checks every existing stream of the cluster, then creates the missing ones; resolves with their infos, in partition order. */
export async function ensurePartitionStreams(jsm: JetStreamManager, nats: NatsModules, settings: PartitionStreamSettings): Promise<StreamInfo[]> {
  const found = await retryTransient(nats, settings.retryForMs, () => clusterStreams(jsm, nats, settings.clusterName));
  checkPartitionCount(settings, found);
  for (const [p, info] of found) checkStream(info, partitionStreamConfig(nats, settings, p), settings.maxMessageBytes);
  const settled = await Promise.allSettled(Array.from({ length: settings.partitions }, async (_, p) => {
    const known = found.get(p);
    if (known !== undefined) return known;
    const wanted = partitionStreamConfig(nats, settings, p);
    const info = await retryTransient(nats, settings.retryForMs, async () => await existing(jsm, nats, wanted.name) ?? await create(jsm, nats, wanted), placementPending);
    checkStream(info, wanted, settings.maxMessageBytes);
    return info;
  }));
  // All at once, since each takes a round of its Raft group; a failure is told for the lowest partition, the same every time.
  return settled.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  });
}

/** The streams of cluster `clusterName`'s log that exist now, by partition, in partition order. */
async function clusterStreams(jsm: JetStreamManager, nats: NatsModules, clusterName: string): Promise<Map<number, StreamInfo>> {
  const partitions: number[] = [];
  for await (const name of jsm.streams.names()) {
    const p = partitionOfStream(clusterName, name);
    if (p !== undefined) partitions.push(p);
  }
  const found = new Map<number, StreamInfo>();
  for (const p of partitions.sort((a, b) => a - b)) {
    // Listed, then deleted before its info was read: as good as missing.
    const info = await existing(jsm, nats, partitionStream(clusterName, p));
    if (info !== undefined) found.set(p, info);
  }
  return found;
}

/** Throws {@link PartitionCountMismatchError} when the streams found record another partition count, or go past the configured one. */
function checkPartitionCount(settings: PartitionStreamSettings, found: ReadonlyMap<number, StreamInfo>): void {
  let count: number | undefined;
  for (const [p, info] of found) {
    const recorded = partitionCountOf(info.config.description);
    if (p >= settings.partitions || (recorded !== undefined && recorded !== settings.partitions)) count = Math.max(count ?? 0, p + 1, recorded ?? 0);
  }
  if (count !== undefined) throw new PartitionCountMismatchError(settings.clusterName, count, settings.partitions, [...found.values()].map((info) => info.config.name));
}

async function existing(jsm: JetStreamManager, nats: NatsModules, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (error instanceof nats.jetstream.JetStreamApiError && error.code === STREAM_NOT_FOUND) return undefined;
    throw error;
  }
}

async function create(jsm: JetStreamManager, nats: NatsModules, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  try {
    return await jsm.streams.add(config);
  } catch (error) {
    // Another node created it meanwhile, with other settings than ours: read it, and let the check name the difference.
    if (error instanceof nats.jetstream.JetStreamApiError && error.code === STREAM_NAME_IN_USE) return jsm.streams.info(config.name);
    // NATS 2.9 in a cluster has answered a create with "stream not found" while the new stream's group formed
    // (seen once in about twenty runs of the cluster tests on this machine): the stream appears a moment later.
    if (error instanceof nats.jetstream.JetStreamApiError && error.code === STREAM_NOT_FOUND) return appeared(jsm, nats, config);
    throw error;
  }
}

/** The stream's info once it exists, polled for a few seconds; if it never appears, one more create settles it. */
async function appeared(jsm: JetStreamManager, nats: NatsModules, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  for (let wait = 50; wait <= 3_200; wait *= 2) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    const info = await existing(jsm, nats, config.name).catch(() => undefined);
    if (info !== undefined) return info;
  }
  return jsm.streams.add(config);
}

/** Throws {@link PartitionStreamMismatchError} naming the first setting of `info` that differs from what the log needs. */
export function checkStream(info: StreamInfo, wanted: Partial<StreamConfig> & { name: string }, maxMessageBytes: number): void {
  const actual = info.config as unknown as Record<string, unknown>;
  const expected = wanted as unknown as Record<string, unknown>;
  for (const setting of ['description', 'subjects', 'storage', 'retention', 'num_replicas', 'max_msgs', 'max_bytes', 'max_age', 'max_msgs_per_subject', 'discard', 'deny_delete'] as const) {
    if (JSON.stringify(actual[setting]) !== JSON.stringify(expected[setting])) {
      throw new PartitionStreamMismatchError(wanted.name, setting, expected[setting], actual[setting]);
    }
  }
  const maxMsgSize = info.config.max_msg_size ?? -1;
  if (maxMsgSize !== -1 && maxMsgSize < maxMessageBytes) throw new PartitionStreamMismatchError(wanted.name, 'max_msg_size', `at least ${maxMessageBytes}`, maxMsgSize);
}
