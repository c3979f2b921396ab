/**
 * One node asking another a question over NATS request/reply, and answering
 * such questions (issue #28): what share requests (`share-requests.ts`) and
 * owner requests (`owner-requests.ts`) have in common. Each node answers on
 * its own subject of the channel in a queue group, with one reply: `ok` and
 * the answer, or `failed` and a typed error (its code, sentence and fields),
 * rebuilt on the asking side as its own class where it has one. An answer
 * travels in as many messages as it takes (ended by an empty one, NATS's
 * "sentinel" request); one larger than {@link MAX_REPLY_BYTES} is replaced
 * by the channel's error for that, rather than cut.
 *
 * @module
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { EngineLogger } from '../../engine/index.ts';
import type { TandemError } from '../../definitions/errors.ts';
import { errorPayload, type ErrorPayload } from './batch-request-messages.ts';
import { ClusterLogClosedError } from './errors.ts';

/** Room left in a message for its headers and subject. */
const HEADROOM_BYTES = 4_096;
/** The most a reply may take, over all its messages: a share of a wide query's batch states is the largest. */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/** A reply as it travels. */
export type PeerReply<A> = ({ readonly state: 'ok' } & A) | { readonly state: 'failed'; readonly error: ErrorPayload };

/** What makes one channel: its subjects, its messages' shapes, and its errors. */
export interface ChannelKind<Q, A> {
  /** What is asked for, in a sentence's subject: `The share`. */
  readonly what: string;
  /** Every process of one node name answers in this queue group, so that one of them answers each request. */
  readonly queue: string;
  subject(cluster: string, node: string): string;
  parseRequest(text: string): Q;
  parseReply(text: string, node: string): PeerReply<A>;
  /** The node's error as its own class where the asker has one. */
  rebuild(node: string, error: ErrorPayload): TandemError;
  /** No process of `node` answered (`timedOut`: not in time). */
  unreachable(node: string, reason: string, cause: unknown): TandemError;
  /** The answer takes `bytes`, more than a reply may. */
  tooLarge(node: string, bytes: number, maxBytes: number): TandemError;
}

export interface PeerChannelOptions<Q, A> {
  readonly cluster: string;
  /** This node. */
  readonly node: string;
  /** This node's answer to a request another node sent. */
  readonly answer: (request: Q) => Promise<A>;
  readonly logger?: EngineLogger;
}

/**
 * A node's side of one channel: asks other nodes, and answers them.
 *
 * @example
 * ```ts
 * const channel = await PeerChannel.serve(nc, SHARES, { cluster: 'shop', node: 'n1', answer: (request) => backend.share(request) });
 * const answer = await channel.ask('n2', request, 5_000);
 * ```
 */
export class PeerChannel<Q, A extends object> {
  #closed = false;
  readonly #subscription: Subscription;
  readonly #answering = new Set<Promise<void>>();

  private constructor(private readonly nc: NatsConnection, private readonly kind: ChannelKind<Q, A>, private readonly options: PeerChannelOptions<Q, A>) {
    this.#subscription = nc.subscribe(kind.subject(options.cluster, options.node), {
      queue: kind.queue,
      callback: (error, msg) => (error === null ? this.#take(msg) : options.logger?.warn({ err: error }, `the ${kind.queue} subscription failed`)),
    });
  }

  /** Starts answering on this node's subject; resolves once the server has the subscription. */
  static async serve<Q, A extends object>(nc: NatsConnection, kind: ChannelKind<Q, A>, options: PeerChannelOptions<Q, A>): Promise<PeerChannel<Q, A>> {
    const channel = new PeerChannel(nc, kind, options);
    await nc.flush();
    return channel;
  }

  /** Asks `node`; a failure there comes back as the channel's own class for it. */
  async ask(node: string, request: Q, timeoutMs: number): Promise<A> {
    if (this.#closed) throw new ClusterLogClosedError();
    let text: string;
    try {
      text = await this.#request(this.kind.subject(this.options.cluster, node), JSON.stringify(request), timeoutMs);
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError' || /timeout/i.test(String((error as Error)?.message));
      throw this.kind.unreachable(node, timedOut ? `no answer within ${timeoutMs} ms` : 'no process answers on its subject', error);
    }
    const reply = this.kind.parseReply(text, node);
    if (reply.state === 'failed') throw this.kind.rebuild(node, reply.error);
    const { state: _state, ...answer } = reply;
    return answer as unknown as A;
  }

  /**
   * One request, and its reply as the answering node sent it: in as many
   * messages as it takes, ended by an empty one (a share of a wide query's
   * batch states may take more than one message holds).
   */
  async #request(subject: string, data: string, timeoutMs: number): Promise<string> {
    const replies = await this.nc.requestMany(subject, data, { strategy: 'sentinel', maxWait: timeoutMs });
    const chunks: Uint8Array[] = [];
    for await (const msg of replies) {
      if (msg.data.length === 0) return Buffer.concat(chunks).toString('utf8');
      chunks.push(msg.data);
    }
    const error = new Error(`timeout: the reply ended after ${chunks.length} of its messages`);
    error.name = 'TimeoutError';
    throw error;
  }

  /** Stops answering, after the answers under way. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#subscription.drain().catch(() => undefined);
    await Promise.all(this.#answering);
  }

  #take(msg: Msg): void {
    const answering = this.#answer(msg).finally(() => this.#answering.delete(answering));
    this.#answering.add(answering);
  }

  async #answer(msg: Msg): Promise<void> {
    const { kind, options } = this;
    let reply: PeerReply<A>;
    try {
      reply = { state: 'ok', ...await options.answer(kind.parseRequest(msg.string())) };
    } catch (error) {
      options.logger?.warn({ err: error }, `a request another node sent failed here (${kind.what})`);
      reply = { state: 'failed', error: errorPayload(options.node, error, kind.what) };
    }
    let bytes = Buffer.from(JSON.stringify(reply), 'utf8');
    if (bytes.length > MAX_REPLY_BYTES) {
      bytes = Buffer.from(JSON.stringify({ state: 'failed', error: errorPayload(options.node, kind.tooLarge(options.node, bytes.length, MAX_REPLY_BYTES), kind.what) }), 'utf8');
    }
    const chunk = (this.nc.info?.max_payload ?? 1_048_576) - HEADROOM_BYTES;
    try {
      for (let at = 0; at < bytes.length; at += chunk) msg.respond(bytes.subarray(at, at + chunk));
      msg.respond(new Uint8Array(0));
    } catch (error) {
      // The connection is closing: the asker hears nothing and gives up after its timeout.
      options.logger?.warn({ err: error }, 'could not answer another node\'s request');
    }
  }
}
