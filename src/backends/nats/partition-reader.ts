/**
 * Reading a partition's stream in sequence order, through ordered consumers
 * (ephemeral, without acks, recreated by the client when it sees a gap).
 * What is handed on is strict: exactly the messages `fromSeq`, `fromSeq + 1`,
 * … in turn (a stream never loses a message in the middle: `deny_delete`),
 * each once. The client's own recovery was not enough against NATS 2.9 when
 * a server died: an ordered consumer could sit still after its server came
 * back, and one pulling by bytes stalled on "message size exceeds maxbytes".
 * So this reader pulls by message count, and keeps its own cursor and a
 * watchdog: when nothing arrived for {@link STALL_MS} while the stream holds
 * more, or when a message other than the one due arrives, it drops the
 * consumer and reads again from the message due.
 *
 * `replay` reads a range and ends; `follow` reads from a sequence on and
 * keeps delivering what is appended.
 *
 * @module
 */
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Catalog } from '../../definitions/index.ts';
import { PartitionDivergedError, PartitionPurgedError } from './errors.ts';
import { decodeMessage, HEADERS, type LogMessage } from './log-message.ts';
import type { NatsModules } from './nats-modules.ts';
import type { HistoryKeyReader } from './history-objects.ts';
import { partitionStream } from './partition-names.ts';
import { retryTransient } from './publish-retry.ts';

/** Messages an ordered consumer asks for at a time (each at most the message size: 32 MiB at 512 KiB). */
const PULL_MESSAGES = 64;
/**
 * Messages whose ids a reader remembers, to check against the stream when it
 * replaces its consumer: far more than a leader hands out before they are
 * replicated (one pull of {@link PULL_MESSAGES}).
 */
const VERIFIED_TAIL = 256;
/** Without a message for this long while the stream holds more, the consumer is replaced. */
export const STALL_MS = 4_000;

/** A partition's stream's first and last sequence now (both 0 while it has never held a message). */
export interface PartitionBounds {
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** A message's place and id, read without its payload. */
export interface MessageId {
  readonly seq: number;
  readonly msgId: string;
}

/** A running `follow`. */
export interface Following {
  /** Settles when following ends: by {@link stop} (fulfilled) or an error (rejected with it). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** How a reading is stopped from outside: the consumer being read is closed, which ends its iterator. */
interface Control {
  stopped: boolean;
  current: ConsumerMessages | undefined;
}

export class PartitionReader {
  readonly #nats: NatsModules;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #catalog: Catalog;
  readonly #clusterName: string;
  readonly #retryForMs: number;

  constructor(nats: NatsModules, js: JetStreamClient, jsm: JetStreamManager, catalog: Catalog, clusterName: string, retryForMs: number) {
    this.#nats = nats;
    this.#js = js;
    this.#jsm = jsm;
    this.#catalog = catalog;
    this.#clusterName = clusterName;
    this.#retryForMs = retryForMs;
  }

  /** The stream's bounds; retried while the stream has no leader to answer (within the retry budget). */
  async bounds(partition: number): Promise<PartitionBounds> {
    const { state } = await retryTransient(this.#nats, this.#retryForMs, () => this.#jsm.streams.info(partitionStream(this.#clusterName, partition)));
    return { firstSeq: state.first_seq, lastSeq: state.last_seq };
  }

  /** Throws {@link PartitionPurgedError} if messages from `fromSeq` on are no longer all in the stream. */
  async #checkFrom(partition: number, fromSeq: number): Promise<PartitionBounds> {
    const bounds = await this.bounds(partition);
    if (fromSeq < bounds.firstSeq) throw new PartitionPurgedError(partition, fromSeq, bounds.firstSeq);
    return bounds;
  }

  async #consume(partition: number, fromSeq: number, headersOnly: boolean): Promise<ConsumerMessages> {
    const consumer = await retryTransient(this.#nats, this.#retryForMs, () => this.#js.consumers.get(partitionStream(this.#clusterName, partition), {
      deliver_policy: this.#nats.jetstream.DeliverPolicy.StartSequence,
      opt_start_seq: fromSeq,
      ...(headersOnly ? { headers_only: true } : {}),
    }));
    return consumer.consume({ max_messages: PULL_MESSAGES });
  }

  /**
   * Messages `fromSeq`, `fromSeq + 1`, … of the partition, each once, as
   * `read` makes them of what NATS delivers, for as long as the caller reads
   * and `control` is not stopped; `headersOnly` asks NATS for no payloads.
   */
  async *#messages<T>(partition: number, fromSeq: number, control: Control, read: (m: JsMsg) => T | Promise<T>, headersOnly = false): AsyncGenerator<T> {
    let next = fromSeq;
    const tail: { seq: number; msgId: string }[] = [];
    for (let replaced = false; !control.stopped; replaced = true) {
      // A consumer replaced after a fault may follow a new leader that lost what the old one handed out.
      if (replaced) await this.#verifyTail(partition, tail);
      const messages = await this.#consume(partition, next, headersOnly);
      control.current = messages;
      if (control.stopped) {
        // Closing a consumer that has not pulled yet did not resolve on nats.js 3 (seen as a node's close hanging
        // when it stopped right after it started): it is closed without waiting, and the connection's close ends it.
        void messages.close().catch(() => undefined);
        return;
      }
      let progress = Date.now();
      let checking = false;
      // While a message is read (a history message's keys are fetched), the consumer waits on us, not we on it.
      let reading = false;
      const watchdog = setInterval(() => {
        if (checking || reading || Date.now() - progress < STALL_MS) return;
        checking = true;
        this.bounds(partition).then(({ lastSeq }) => {
          if (lastSeq >= next && Date.now() - progress >= STALL_MS) void messages.close().catch(() => undefined);
        }, () => undefined).finally(() => (checking = false));
      }, STALL_MS / 4);
      try {
        for await (const m of messages) {
          if (m.seq < next) continue;
          if (m.seq > next) {
            // Not the message due: purged from under us, or the consumer lost its place. Read again from the one due.
            const { firstSeq } = await this.bounds(partition);
            if (firstSeq > next) throw new PartitionPurgedError(partition, next, firstSeq);
            break;
          }
          progress = Date.now();
          next = m.seq + 1;
          tail.push({ seq: m.seq, msgId: m.headers?.get(HEADERS.msgId) ?? '' });
          if (tail.length > VERIFIED_TAIL) tail.shift();
          reading = true;
          const item = await Promise.resolve(read(m)).finally(() => (reading = false));
          progress = Date.now();
          yield item;
        }
      } catch (error) {
        if (error instanceof PartitionPurgedError || control.stopped) throw error;
        // The consumer failed (its server went away, say): read again from the message due, after a breath.
        await new Promise((resolve) => setTimeout(resolve, 250));
      } finally {
        clearInterval(watchdog);
        await messages.close().catch(() => undefined);
      }
    }
  }

  /**
   * Checks that the stream still holds, at each sequence, the message this
   * reader last read there; throws {@link PartitionDivergedError} at the
   * first that differs. Sequences purged since are past checking, and fine.
   */
  async #verifyTail(partition: number, tail: readonly { seq: number; msgId: string }[]): Promise<void> {
    const stream = partitionStream(this.#clusterName, partition);
    for (const { seq, msgId } of tail) {
      const stored = await retryTransient(this.#nats, this.#retryForMs, () => this.#jsm.streams.getMessage(stream, { seq }).then(
        (m): string | null => (m === null ? null : m.header?.get(HEADERS.msgId) ?? ''),
        (error: unknown) => {
          // Not found: purged (below the first sequence) or lost in the leader change.
          if (/no message found|not found/i.test(String((error as Error).message))) return null;
          throw error;
        },
      ));
      if (stored === null) {
        const { firstSeq } = await this.bounds(partition);
        if (seq < firstSeq) continue;
      }
      if (stored !== msgId) throw new PartitionDivergedError(partition, seq, msgId, stored ?? '');
    }
  }

  /**
   * The messages of `partition` with sequences from `fromSeq` to `toSeq`
   * (inclusive; by default the stream's last sequence when the call starts),
   * in order. A `toSeq` past the end waits for the messages to come.
   */
  replay(partition: number, fromSeq = 1, toSeq?: number): AsyncGenerator<LogMessage> {
    return this.#range(partition, fromSeq, toSeq, this.#decode(partition), false);
  }

  /**
   * The ids of the messages of `partition` from `fromSeq` to `toSeq`
   * (inclusive), in order, read without their payloads: what tells that
   * messages read earlier are still the stream's, at a fraction of reading
   * them again.
   */
  ids(partition: number, fromSeq: number, toSeq: number): AsyncGenerator<MessageId> {
    return this.#range(partition, fromSeq, toSeq, (m) => ({ seq: m.seq, msgId: m.headers?.get(HEADERS.msgId) ?? '' }), true);
  }

  /** What `read` makes of messages `fromSeq` to `toSeq` (default: the stream's last sequence when the call starts), then ends. */
  async *#range<T extends { readonly seq: number }>(partition: number, fromSeq: number, toSeq: number | undefined, read: (m: JsMsg) => T | Promise<T>, headersOnly: boolean): AsyncGenerator<T> {
    const bounds = await this.#checkFrom(partition, fromSeq);
    const end = toSeq ?? bounds.lastSeq;
    if (end < fromSeq) return;
    for await (const item of this.#messages(partition, fromSeq, { stopped: false, current: undefined }, read, headersOnly)) {
      yield item;
      if (item.seq >= end) return;
    }
  }

  /** Reads a history message's keys before it is handed on (`history-objects.ts`); set once the node has its object store. */
  historyKeys: HistoryKeyReader | undefined;

  #decode(partition: number): (m: JsMsg) => Promise<LogMessage> {
    return async (m) => {
      const message = decodeMessage(this.#catalog, partition, m.seq, m.headers, m.data);
      if (message.kind !== 'history' || message.body.keys === undefined) return message;
      if (this.historyKeys === undefined) throw new Error(`history message ${m.seq} of partition ${partition} read by a log that cannot read history keys`);
      return { ...message, keys: await this.historyKeys(message) };
    };
  }

  /**
   * Calls `onMessage` with every message of `partition` from `fromSeq` on, in
   * order, each once, as they come, until stopped. An error thrown by
   * `onMessage` ends following, and `done` rejects with it.
   */
  async follow(partition: number, fromSeq: number, onMessage: (message: LogMessage) => void): Promise<Following> {
    await this.#checkFrom(partition, fromSeq);
    const control: Control = { stopped: false, current: undefined };
    const done = (async () => {
      for await (const message of this.#messages(partition, fromSeq, control, this.#decode(partition))) {
        if (control.stopped) return;
        onMessage(message);
      }
    })();
    return {
      done,
      async stop() {
        control.stopped = true;
        await control.current?.close().catch(() => undefined);
        await done.catch(() => undefined);
      },
    };
  }
}
