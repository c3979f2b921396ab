/**
 * Cluster mode's event log: one JetStream stream per partition, replicated
 * (R=3 on a 3-server cluster), written by every node and read by every node.
 *
 * - **Routing** (`partition-router.ts`): an event with an idempotency key goes
 *   to `fnv1a32(eventType, key) mod P`, so every copy of a key lands in one
 *   partition whichever node received it; events without a key go whole, per
 *   append, to the next partition in turn.
 * - **Messages** (`log-message.ts`): one message per append and partition
 *   (split past 512 KiB), NDJSON of the normalized rows, with the event type,
 *   count and format in headers and a `Nats-Msg-Id` of `writer:append:partition:chunk`,
 *   the same on every retry of that message and never reused.
 * - **Appending**: an append resolves only once JetStream has acknowledged
 *   every message of it (a quorum of replicas holds each), with each
 *   event's position (partition, sequence, line) and the append's
 *   {@link IngestPosition}; a publish that is not acknowledged is retried
 *   with the same id for a bounded time (`publish-retry.ts`), then the append
 *   fails with a typed error that says which partitions did acknowledge.
 * - **Positions** (`ingest-position.ts`): an event's offset is (sequence of its
 *   message, line within it); across the log a position is a vector of
 *   sequences, one per partition.
 * - **Reading** (`partition-reader.ts`): `replay` a range of a partition, or
 *   `follow` it live; every message comes once, in sequence order. What
 *   counts is decided by `first-occurrence.ts` (the same rule on every node)
 *   and applied by `log-consumer.ts`.
 *
 * The NATS client packages are optional peer dependencies, loaded when the
 * log opens (`nats-modules.ts`).
 *
 * @module
 */
import { natsCredentials } from './nats-credentials.ts';
import { redactUrl } from '../../util/redact-url.ts';
import { randomBytes } from 'node:crypto';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { selectEvents, UnknownEventTypeError, type Catalog, type EventColumns, type EventTypeSchema, type ViewJson } from '../../definitions/index.ts';
import { AppendRejectedError, AppendUnacknowledgedError, ClusterLogClosedError, InvalidClusterOptionError, NatsConnectError } from './errors.ts';
import { emptyPosition, laterOf, type IngestPosition } from './ingest-position.ts';
import {
  DEFAULT_MAX_MESSAGE_BYTES, encodeMessages, HEADERS, HISTORY_FORMAT, historyBody, MESSAGE_FORMAT, type HistoryBody, originHeader, SEAL_FORMAT, sealBodies, type EncodedMessage, type ForgottenKeys, type LogMessage, type MessageOrigin,
} from './log-message.ts';
import type { HistoryKeyReader } from './history-objects.ts';
import { loadNats, type NatsModules } from './nats-modules.ts';
import { checkClusterName, partitionStream, partitionSubject } from './partition-names.ts';
import { PartitionReader, type Following, type MessageId, type PartitionBounds } from './partition-reader.ts';
import { PartitionRouter, routingKeys } from './partition-router.ts';
import { ensurePartitionStreams } from './partition-streams.ts';
import { DEFAULT_RETRY_POLICY, publishWithRetry, retryTransient, type PublishResult, type RetryPolicy } from './publish-retry.ts';

export interface ClusterLogOptions {
  /** NATS server URLs to connect to (any of the cluster's). Needed unless `connection` is given. */
  readonly servers?: string | readonly string[];
  /** A connection to use instead of opening one; `close()` leaves it open. */
  readonly connection?: NatsConnection;
  /** Prefixes every stream and subject, so several clusters can share a NATS system. */
  readonly clusterName: string;
  /** Log partitions: one stream each. Fixed for the life of the cluster (routing is `hash mod P`). */
  readonly partitions: number;
  /** Replicas of each partition's stream. Default 3. */
  readonly replicas?: number;
  readonly catalog: Catalog;
  /** How long one publish waits for its acknowledgement. Default 2 s. */
  readonly ackTimeoutMs?: number;
  /** How long a publish is retried before the append fails. Default 30 s. */
  readonly retryForMs?: number;
  /** Payload bytes per message at most. Default 512 KiB, and never more than the server's `max_payload` allows. */
  readonly maxMessageBytes?: number;
  /** JetStream's duplicate window for `Nats-Msg-Id`, set when a stream is created. Default 2 minutes. */
  readonly duplicateWindowMs?: number;
  /** The connection's name, as the servers show it. */
  readonly connectionName?: string;
}

/**
 * Where an append's events get their origins: a node's outbox, which makes
 * them durable on its disk before they are published (`node-outbox.ts`).
 */
export interface OriginSource {
  /** The outbox's id: the first part of every origin it gives. */
  readonly id: string;
  /** Makes `events` (the append's events for `partition`, in order) durable, and resolves with the origin of the first. */
  record(partition: number, eventType: string, events: EventColumns): Promise<number>;
}

/** One partition's share of an append: the events' indexes in it, in order, and their messages. */
interface PartitionShare {
  readonly partition: number;
  readonly indexes: readonly number[];
  readonly messages: readonly EncodedMessage[];
}

/** Where each event of an append went: event `i` is line `line[i]` of message `seq[i]` in partition `partition[i]`. */
export interface AppendPlacement {
  readonly partition: Uint32Array;
  readonly seq: Float64Array;
  readonly line: Uint32Array;
}

export interface ClusterAppendOutcome {
  /** Per partition, the highest sequence acknowledged for this append (0 where it put nothing). */
  readonly position: IngestPosition;
  readonly placement: AppendPlacement;
  /** Messages published. */
  readonly messages: number;
  /** Of those, the ones JetStream recognised by their id as already stored (a retry whose first attempt had been stored). */
  readonly duplicateMessages: number;
  /** Publish attempts beyond the first, over all messages. */
  readonly retries: number;
}

/** A message to publish, and the origin of its first event when it has one. */
interface OriginMessage {
  readonly partition: number;
  readonly message: EncodedMessage;
  readonly origin?: MessageOrigin;
}

/** The messages of `shares`, each with the origin of its first event: its share's first origin plus the events before it. */
function withOrigins(shares: readonly PartitionShare[], id: string, firsts: readonly number[]): OriginMessage[] {
  return shares.flatMap((share, s) => {
    let first = firsts[s]!;
    return share.messages.map((message) => {
      const origin = { id, first };
      first += message.indexes.length;
      return { partition: share.partition, message, origin };
    });
  });
}

/** Bytes left under the server's `max_payload` for headers and protocol. */
const HEADER_ROOM = 4 * 1024;

export class ClusterLog {
  readonly clusterName: string;
  readonly partitions: number;
  readonly replicas: number;
  readonly catalog: Catalog;
  /** Identifies this writer in its messages' ids: random, so ids never repeat across writers or restarts. */
  readonly writerId = randomBytes(8).toString('hex');
  readonly #nats: NatsModules;
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #reader: PartitionReader;
  readonly #router: PartitionRouter;
  readonly #retry: RetryPolicy;
  readonly #maxMessageBytes: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #following = new Set<Following>();
  #acknowledged: number[];
  #appends = 0;
  #seals = 0;
  #closed = false;

  private constructor(options: ClusterLogOptions, nats: NatsModules, nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, maxMessageBytes: number) {
    this.clusterName = options.clusterName;
    this.partitions = options.partitions;
    this.replicas = options.replicas ?? 3;
    this.catalog = options.catalog;
    this.#nats = nats;
    this.#nc = nc;
    this.#ownsConnection = options.connection === undefined;
    this.#js = js;
    this.#jsm = jsm;
    this.#retry = { ackTimeoutMs: options.ackTimeoutMs ?? DEFAULT_RETRY_POLICY.ackTimeoutMs, retryForMs: options.retryForMs ?? DEFAULT_RETRY_POLICY.retryForMs };
    this.#reader = new PartitionReader(nats, js, jsm, options.catalog, options.clusterName, this.#retry.retryForMs);
    this.#router = new PartitionRouter(options.partitions, randomBytes(2).readUInt16LE(0));
    this.#maxMessageBytes = maxMessageBytes;
    this.#acknowledged = emptyPosition(options.partitions);
  }

  /** Connects (unless given a connection), creates or checks every partition's stream, and resolves with the log. */
  static async open(options: ClusterLogOptions): Promise<ClusterLog> {
    checkClusterName(options.clusterName);
    if (!Number.isInteger(options.partitions) || options.partitions < 1 || options.partitions > 1024) {
      throw new InvalidClusterOptionError('partitions', `The partition count must be an integer from 1 to 1024, not ${options.partitions}.`);
    }
    const replicas = options.replicas ?? 3;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new InvalidClusterOptionError('replicas', `The replica count must be an integer from 1 to 5 (JetStream's limit), not ${replicas}.`);
    const nats = await loadNats();
    const nc = options.connection ?? await connect(nats, options);
    try {
      // Making the manager asks JetStream for the account's info, which answers 503 while the cluster recovers from a crash.
      const retryForMs = options.retryForMs ?? DEFAULT_RETRY_POLICY.retryForMs;
      const jsm = await retryTransient(nats, retryForMs, () => nats.jetstream.jetstreamManager(nc, { timeout: options.ackTimeoutMs ?? DEFAULT_RETRY_POLICY.ackTimeoutMs }));
      const serverMax = nc.info?.max_payload ?? 1024 * 1024;
      const maxMessageBytes = Math.min(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, serverMax - HEADER_ROOM);
      await ensurePartitionStreams(jsm, nats, {
        clusterName: options.clusterName, partitions: options.partitions, replicas,
        duplicateWindowMs: options.duplicateWindowMs ?? 120_000, maxMessageBytes, retryForMs,
      });
      return new ClusterLog(options, nats, nc, nats.jetstream.jetstream(nc), jsm, maxMessageBytes);
    } catch (error) {
      if (options.connection === undefined) await nc.close().catch(() => undefined);
      throw error;
    }
  }

  /** The stream of a partition. */
  streamOf(partition: number): string {
    return partitionStream(this.clusterName, partition);
  }

  /** Per partition, the highest sequence any append through this log has had acknowledged. */
  get acknowledged(): IngestPosition {
    return this.#acknowledged;
  }

  /** The largest payload of one message. */
  get maxMessageBytes(): number {
    return this.#maxMessageBytes;
  }

  /**
   * Appends validated events of one type and resolves once JetStream has
   * acknowledged all of them. Duplicates are not dropped here: every copy is
   * published, and the consumers' rule (`first-occurrence.ts`) decides which
   * counts, the same way on every node.
   */
  append(eventType: string, events: EventColumns, origins?: OriginSource): Promise<ClusterAppendOutcome> {
    if (this.#closed) return Promise.reject(new ClusterLogClosedError());
    const schema = this.catalog.eventTypes.get(eventType);
    if (schema === undefined) return Promise.reject(new UnknownEventTypeError(eventType));
    let shares: PartitionShare[];
    try {
      shares = this.#encode(schema, events);
    } catch (error) {
      return Promise.reject(error);
    }
    const append = this.#appends++;
    const done = this.#originsOf(eventType, events, shares, origins).then((messages) => this.#publish(eventType, events.count, messages, `${append}`));
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done)).catch(() => undefined);
    return done;
  }

  /**
   * Publishes again, to partition `partition`, events a node's outbox holds
   * (`events`, whose first has origin `origin`), under new message ids: after
   * NATS lost them, or a restart left it unknown whether they were stored.
   * Every consumer drops those it has seen by their origins. Resolves with
   * the highest sequence they were acknowledged at.
   */
  async republish(partition: number, eventType: string, events: EventColumns, origin: MessageOrigin): Promise<number> {
    if (this.#closed) throw new ClusterLogClosedError();
    const schema = this.catalog.eventTypes.get(eventType);
    if (schema === undefined) throw new UnknownEventTypeError(eventType);
    const indexes = Array.from({ length: events.count }, (_, i) => i);
    const share: PartitionShare = { partition, indexes, messages: encodeMessages(eventType, schema.fields, events, indexes, this.#maxMessageBytes) };
    const messages = withOrigins([share], origin.id, [origin.first]);
    const outcome = await this.#publish(eventType, events.count, messages, `r${this.#appends++}`);
    return outcome.position[partition]!;
  }

  /** Each partition's events made durable by `origins` (in parallel), then the messages with the origins they got. */
  async #originsOf(eventType: string, events: EventColumns, shares: readonly PartitionShare[], origins: OriginSource | undefined): Promise<OriginMessage[]> {
    if (origins === undefined) return shares.flatMap((share) => share.messages.map((message) => ({ partition: share.partition, message })));
    const firsts = await Promise.all(shares.map((share) => origins.record(share.partition, eventType, selectEvents(events, share.indexes))));
    return withOrigins(shares, origins.id, firsts);
  }

  #encode(schema: EventTypeSchema, events: EventColumns): PartitionShare[] {
    const partitionOf = this.#router.route(schema.name, events.count, routingKeys(schema, events, this.catalog.cluster?.partitionBy[schema.name]));
    const byPartition: number[][] = Array.from({ length: this.partitions }, () => []);
    for (let i = 0; i < events.count; i++) byPartition[partitionOf[i]!]!.push(i);
    // Everything is encoded before anything is published: an event too large refuses the append whole.
    return byPartition.flatMap((indexes, partition) =>
      indexes.length === 0 ? [] : [{ partition, indexes, messages: encodeMessages(schema.name, schema.fields, events, indexes, this.#maxMessageBytes) }]);
  }

  async #publish(eventType: string, count: number, messages: readonly OriginMessage[], append: string): Promise<ClusterAppendOutcome> {
    const chunks = new Map<number, number>();
    const results = await Promise.all(messages.map(({ partition, message, origin }) => {
      const chunk = chunks.get(partition) ?? 0;
      chunks.set(partition, chunk + 1);
      const h = this.#nats.transport.headers();
      h.set(HEADERS.format, MESSAGE_FORMAT);
      h.set(HEADERS.eventType, eventType);
      h.set(HEADERS.count, String(message.indexes.length));
      if (origin !== undefined) h.set(HEADERS.origin, originHeader(origin));
      const msgId = `${this.writerId}:${append}:${partition}:${chunk}`;
      return publishWithRetry(this.#nats, this.#js, partitionSubject(this.clusterName, partition), message.payload, h, msgId, this.#retry);
    }));
    const position = emptyPosition(this.partitions);
    const placement: AppendPlacement = { partition: new Uint32Array(count), seq: new Float64Array(count), line: new Uint32Array(count) };
    let failed: { partition: number; result: Exclude<PublishResult, { ok: true }> } | undefined;
    let duplicateMessages = 0;
    let retries = 0;
    results.forEach((result, m) => {
      const { partition, message } = messages[m]!;
      if (!result.ok) {
        failed ??= { partition, result };
        return;
      }
      const seq = result.ack.seq;
      position[partition] = Math.max(position[partition]!, seq);
      if (result.ack.duplicate) duplicateMessages++;
      retries += result.attempts - 1;
      message.indexes.forEach((i, line) => {
        placement.partition[i] = partition;
        placement.seq[i] = seq;
        placement.line[i] = line;
      });
    });
    this.#acknowledged = laterOf(this.#acknowledged, position);
    if (failed !== undefined) {
      const { partition, result } = failed;
      if (result.kind === 'closed') throw new ClusterLogClosedError();
      if (result.kind === 'rejected') throw new AppendRejectedError(partition, result.reason, position, result.cause);
      throw new AppendUnacknowledgedError(partition, result.waitedMs, position, result.cause);
    }
    return { position, placement, messages: messages.length, duplicateMessages, retries };
  }

  /**
   * Appends a seal to every partition and resolves with their sequences: the
   * cutoff vector of a batch cycle. Everything below a seal was appended
   * before it; every consumer rotates its speed layer at it, folding the
   * definitions `include` names from there on (views a cycle switches in).
   */
  async seal(include: readonly ViewJson[] = [], forget: ForgottenKeys = {}): Promise<number[]> {
    let cutoffs: number[] = [];
    // Keys too many for one message are forgotten over several seals in a row: the last one's sequences are the cutoffs.
    for (const body of sealBodies(include, forget, this.#maxMessageBytes)) cutoffs = await this.#sealWith(body);
    return cutoffs;
  }

  /** One seal with `body`, in every partition. */
  async #sealWith(body: Uint8Array): Promise<number[]> {
    if (this.#closed) throw new ClusterLogClosedError();
    const seal = this.#seals++;
    const results = await Promise.all(Array.from({ length: this.partitions }, (_, partition) => {
      const h = this.#nats.transport.headers();
      h.set(HEADERS.format, SEAL_FORMAT);
      return publishWithRetry(this.#nats, this.#js, partitionSubject(this.clusterName, partition), body, h, `${this.writerId}:seal:${seal}:${partition}`, this.#retry);
    }));
    return results.map((result, partition) => {
      if (result.ok) return result.ack.seq;
      if (result.kind === 'closed') throw new ClusterLogClosedError();
      if (result.kind === 'rejected') throw new AppendRejectedError(partition, result.reason, emptyPosition(this.partitions), result.cause);
      throw new AppendUnacknowledgedError(partition, result.waitedMs, emptyPosition(this.partitions), result.cause);
    });
  }

  /**
   * Appends a history message naming a staged object (`history-objects.ts`)
   * to `partition` and resolves with its sequence, which places the
   * object's rows. `msgId` is the same on every retry and every run for
   * one chunk of one file, so that a publish repeated counts once.
   */
  async publishHistory(partition: number, eventType: string, body: HistoryBody, msgId: string): Promise<{ seq: number; duplicate: boolean }> {
    if (this.#closed) throw new ClusterLogClosedError();
    const h = this.#nats.transport.headers();
    h.set(HEADERS.format, HISTORY_FORMAT);
    h.set(HEADERS.eventType, eventType);
    h.set(HEADERS.count, String(body.rows));
    const result = await publishWithRetry(this.#nats, this.#js, partitionSubject(this.clusterName, partition), historyBody(body), h, msgId, this.#retry);
    // A duplicate: JetStream holds a message of this id already (an earlier run's), and `seq` is that one's.
    if (result.ok) return { seq: result.ack.seq, duplicate: result.ack.duplicate };
    if (result.kind === 'closed') throw new ClusterLogClosedError();
    if (result.kind === 'rejected') throw new AppendRejectedError(partition, result.reason, emptyPosition(this.partitions), result.cause);
    throw new AppendUnacknowledgedError(partition, result.waitedMs, emptyPosition(this.partitions), result.cause);
  }

  /** How this log's readers read a history message's keys: set once the node has its object store. */
  readHistoryKeysWith(reader: HistoryKeyReader): void {
    this.#reader.historyKeys = reader;
  }

  /**
   * Removes a partition's messages below `seq` from its stream, once the
   * archive holds them: the stream keeps what the speed layers still need,
   * not all of history. Resolves with the messages removed.
   */
  async purgeBelow(partition: number, seq: number): Promise<number> {
    const response = await retryTransient(this.#nats, this.#retry.retryForMs, () => this.#jsm.streams.purge(this.streamOf(partition), { seq }));
    return response.purged;
  }

  /** A partition's first and last sequence now. */
  bounds(partition: number): Promise<PartitionBounds> {
    return this.#reader.bounds(partition);
  }

  /** Per partition, its last sequence now: where the log ends. */
  async ends(): Promise<IngestPosition> {
    return Promise.all(Array.from({ length: this.partitions }, async (_, p) => (await this.bounds(p)).lastSeq));
  }

  /** The messages of a partition from `fromSeq` to `toSeq` inclusive (default: its last sequence now), in order. */
  replay(partition: number, fromSeq = 1, toSeq?: number): AsyncGenerator<LogMessage> {
    if (this.#closed) throw new ClusterLogClosedError();
    return this.#reader.replay(partition, fromSeq, toSeq);
  }

  /** The ids of a partition's messages from `fromSeq` to `toSeq` inclusive, in order, read without their payloads. */
  messageIds(partition: number, fromSeq: number, toSeq: number): AsyncGenerator<MessageId> {
    if (this.#closed) throw new ClusterLogClosedError();
    return this.#reader.ids(partition, fromSeq, toSeq);
  }

  /** Calls `onMessage` with every message of a partition from `fromSeq` on, in order, as they come, until stopped or closed. */
  async follow(partition: number, fromSeq: number, onMessage: (message: LogMessage) => void): Promise<Following> {
    if (this.#closed) throw new ClusterLogClosedError();
    const following = await this.#reader.follow(partition, fromSeq, onMessage);
    this.#following.add(following);
    void following.done.finally(() => this.#following.delete(following)).catch(() => undefined);
    return following;
  }

  /** Waits for appends in flight, stops every `follow`, and closes the connection if the log opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    await Promise.all([...this.#following].map((f) => f.stop()));
    if (this.#ownsConnection) await this.#nc.close();
  }
}

/** Opens a connection to a NATS cluster the way a node keeps one: reconnecting for as long as it runs. */
export async function connectNats(options: Pick<ClusterLogOptions, 'servers' | 'connectionName'>): Promise<NatsConnection> {
  return connect(await loadNats(), options);
}

async function connect(nats: NatsModules, options: Pick<ClusterLogOptions, 'servers' | 'connectionName'>): Promise<NatsConnection> {
  const servers = typeof options.servers === 'string' ? [options.servers] : [...options.servers ?? []];
  if (servers.length === 0) throw new InvalidClusterOptionError('servers', 'Cluster mode needs at least one NATS server URL, or a connection.');
  const credentials = natsCredentials(servers);
  try {
    return await nats.transport.connect({
      ...credentials, servers: [...credentials.servers], name: options.connectionName ?? 'tandem',
      // A node keeps trying for as long as it runs: appends wait (within their retry budget) rather than fail.
      maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5_000,
    });
  } catch (error) {
    // The addresses as given, secrets masked: which user a node tried is worth knowing, never the password.
    throw new NatsConnectError(servers.map(redactUrl), error);
  }
}
