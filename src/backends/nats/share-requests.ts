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
import type { NatsConnection } from '@nats-io/transport-node';
import type { EngineLogger } from '../../engine/index.ts';
import type { PartialStates } from '../../serving/index.ts';
import type { ErrorPayload } from './batch-request-messages.ts';
import {
  PartitionNotServedError, RemoteShareFailedError, ShareOwnerUnreachableError, ShareTooLargeError, ShareVersionSkewError,
} from './errors.ts';
import { parseShareReply, parseShareRequest, shareSubject, type ShareRequest } from './share-messages.ts';
import { PeerChannel, type ChannelKind } from './peer-channel.ts';
import type { TandemError } from '../../definitions/errors.ts';

/** How long an ask waits for the owner's reply by default: a share is read from memory, so seconds mean the owner is gone or stuck. */
export const SHARE_TIMEOUT_MS = 10_000;

/** Every process of one node name answers in this group, so one of them answers each request. */
const QUEUE = 'tandem-share';

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

/** Share requests as a channel between nodes. */
const SHARES: ChannelKind<ShareRequest, Share> = {
  what: 'The share',
  queue: QUEUE,
  subject: shareSubject,
  parseRequest: parseShareRequest,
  parseReply: parseShareReply,
  rebuild: rebuilt,
  unreachable: (node, reason, cause) => new ShareOwnerUnreachableError(node, reason, cause),
  tooLarge: (node, bytes, maxBytes) => new ShareTooLargeError(node, bytes, maxBytes),
};

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
  private constructor(private readonly channel: PeerChannel<ShareRequest, Share>, private readonly node: string) {}

  static async serve(nc: NatsConnection, options: ShareRequestsOptions): Promise<ShareRequests> {
    return new ShareRequests(await PeerChannel.serve(nc, SHARES, options), options.node);
  }

  /** Asks `owner` for its share; a failure there comes back as its own class where this node has one. */
  ask(owner: string, request: Omit<ShareRequest, 'from'>, timeoutMs = SHARE_TIMEOUT_MS): Promise<Share> {
    return this.channel.ask(owner, { from: this.node, ...request }, timeoutMs);
  }

  /** Stops answering, after the answers under way. */
  close(): Promise<void> {
    return this.channel.close();
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
