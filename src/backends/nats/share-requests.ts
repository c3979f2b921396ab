/**
 * Asking a partition's owner for its share of an answer, and answering such
 * asks (issue #28): the exchange scatter-gather queries run on. Each node
 * answers on its own subject (`share-messages.ts`) in a queue group, with
 * one reply: its applied position and its share as states, or a typed
 * error. A share that does not fit in one NATS message is refused
 * (`share_too_large`) rather than cut.
 *
 * @module
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { EngineLogger } from '../../engine/index.ts';
import type { PartialStates } from '../../serving/index.ts';
import { errorPayload, type ErrorPayload } from './batch-request-messages.ts';
import {
  ClusterLogClosedError, PartitionNotServedError, RemoteShareFailedError, ShareOwnerUnreachableError, ShareTooLargeError, ShareVersionSkewError,
} from './errors.ts';
import { parseShareReply, parseShareRequest, shareSubject, type ShareReply, type ShareRequest } from './share-messages.ts';
import type { TandemError } from '../../definitions/errors.ts';

/** How long an ask waits for the owner's reply by default: a share is read from memory, so seconds mean the owner is gone or stuck. */
export const SHARE_TIMEOUT_MS = 10_000;

/** Every process of one node name answers in this group, so one of them answers each request. */
const QUEUE = 'tandem-share';

/** Room left in a message for its headers and subject. */
const HEADROOM_BYTES = 4_096;

/** What an owner answers with. */
export interface Share {
  readonly applied: readonly number[];
  readonly share: PartialStates;
}

export interface ShareRequestsOptions {
  readonly cluster: string;
  /** This node. */
  readonly node: string;
  /** This node's share for a request another node sent. */
  readonly answer: (request: ShareRequest) => Promise<Share>;
  readonly logger?: EngineLogger;
}

/**
 * A node's side of share requests.
 *
 * @example
 * ```ts
 * const shares = await ShareRequests.serve(nc, { cluster: 'shop', node: 'n1', answer: (request) => backend.share(request) });
 * const { share } = await shares.ask('n2', { query, partitions: [1], cutoffs: [120] });
 * ```
 */
export class ShareRequests {
  #closed = false;
  readonly #subscription: Subscription;
  readonly #answering = new Set<Promise<void>>();

  private constructor(private readonly nc: NatsConnection, private readonly options: ShareRequestsOptions) {
    this.#subscription = nc.subscribe(shareSubject(options.cluster, options.node), {
      queue: QUEUE,
      callback: (error, msg) => (error === null ? this.#take(msg) : options.logger?.warn({ err: error }, 'the share request subscription failed')),
    });
  }

  static async serve(nc: NatsConnection, options: ShareRequestsOptions): Promise<ShareRequests> {
    const requests = new ShareRequests(nc, options);
    await nc.flush();
    return requests;
  }

  /** Asks `owner` for its share; a failure there comes back as its own class where this node has one. */
  async ask(owner: string, request: Omit<ShareRequest, 'from'>, timeoutMs = SHARE_TIMEOUT_MS): Promise<Share> {
    if (this.#closed) throw new ClusterLogClosedError();
    let text: string;
    try {
      const reply = await this.nc.request(shareSubject(this.options.cluster, owner), JSON.stringify({ from: this.options.node, ...request }), { timeout: timeoutMs });
      text = reply.string();
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError' || /timeout/i.test(String((error as Error)?.message));
      throw new ShareOwnerUnreachableError(owner, timedOut ? `no answer within ${timeoutMs} ms` : 'no process answers on its subject', error);
    }
    const reply: ShareReply = parseShareReply(text, owner);
    if (reply.state === 'ok') return { applied: reply.applied, share: reply.share };
    throw rebuilt(owner, reply.error);
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
    let reply: ShareReply;
    try {
      reply = { state: 'ok', ...await this.options.answer(parseShareRequest(msg.string())) };
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'a share request another node sent failed here');
      reply = { state: 'failed', error: errorPayload(this.options.node, error, 'The share') };
    }
    const max = (this.nc.info?.max_payload ?? 1_048_576) - HEADROOM_BYTES;
    let text = JSON.stringify(reply);
    const bytes = Buffer.byteLength(text);
    if (bytes > max) text = JSON.stringify({ state: 'failed', error: errorPayload(this.options.node, new ShareTooLargeError(this.options.node, bytes, max), 'The share') });
    try {
      msg.respond(text);
    } catch (error) {
      // The connection is closing: the asker hears nothing and gives up after its timeout.
      this.options.logger?.warn({ err: error }, 'could not answer a share request');
    }
  }
}

/** The owner's error as its own class where this node has one (so it keeps its code), else {@link RemoteShareFailedError}. */
function rebuilt(owner: string, payload: ErrorPayload): TandemError {
  const f = payload.fields ?? {};
  const n = (key: string) => (typeof f[key] === 'number' ? f[key] : undefined);
  if (payload.code === 'share_version_skew' && n('partition') !== undefined && n('asked') !== undefined && n('starts') !== undefined) {
    return new ShareVersionSkewError(owner, n('partition')!, n('asked')!, n('starts')!);
  }
  if (payload.code === 'partition_not_served' && n('partition') !== undefined) return new PartitionNotServedError(owner, n('partition')!);
  if (payload.code === 'share_too_large' && n('bytes') !== undefined && n('maxBytes') !== undefined) return new ShareTooLargeError(owner, n('bytes')!, n('maxBytes')!);
  return new RemoteShareFailedError(owner, payload.code, payload.message);
}
