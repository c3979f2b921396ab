/**
 * What a node asks the owner of a partition it does not read (issue #28):
 * only the node reading a partition has its duplicate rule and ledger, so
 * the others ask it, over NATS request/reply (`peer-channel.ts`):
 *
 * - **origins**: which events of the asker's outbox the partition has seen,
 *   with how far the owner applied it, as one consistent pair: what the
 *   outbox's reconciliation compares with (`outbox-publisher.ts`);
 * - **seal origins**: the same as of a seal the archive verified, where the
 *   owner's rule agrees with the archive's digest there: what the outbox may
 *   let go of once a version covers that seal;
 * - **applied**: waits until the owner applied an ingest's position (at most
 *   its read wait), and counts the duplicates among its messages.
 *
 * Each kind has its own subject per node. Both sides check what they read.
 *
 * @module
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { EngineLogger } from '../../engine/index.ts';
import type { ErrorPayload } from './batch-request-messages.ts';
import { InvalidOwnerRequestError, OwnerAskFailedError } from './errors.ts';
import type { OriginRun } from './origin-set.ts';
import { nodeSubject } from './partition-names.ts';
import { PeerChannel, type ChannelKind, type PeerReply } from './peer-channel.ts';
import { errorPayloadCheck } from './batch-request-messages.ts';
import { fieldChecks, parseChecked, RecordShapeError, type RecordCheck } from './record-schemas.ts';

/** How much of a partition's outbox events its owner has seen, and how far it applied the partition then. */
export interface PartitionOrigins {
  readonly applied: number;
  readonly runs: readonly OriginRun[];
}

/** A seal of a partition the asker's served version ends at, and the digest the archive recorded there (if any). */
export interface SealAsked {
  readonly partition: number;
  readonly seal: number;
  readonly digest?: string;
}

/** What the owner answers with, per kind. */
export interface OwnerAnswers {
  /** Per partition asked, its origins, or null where this node does not read it whole now. */
  origins(outbox: string, partitions: readonly number[]): Promise<readonly (PartitionOrigins | null)[]>;
  /** Per seal asked, the origins seen by then, or null where this node did not read it there as the archive did. */
  sealOrigins(outbox: string, seals: readonly SealAsked[]): Promise<readonly (readonly OriginRun[] | null)[]>;
  /** Waits (at most the read wait) for `position` where this node reads it; the duplicates among `messages`, null when not all are known here. */
  applied(position: readonly number[], messages: readonly (readonly [number, number])[]): Promise<number | null>;
}

interface OriginsRequest { readonly outbox: string; readonly partitions: readonly number[] }
interface SealOriginsRequest { readonly outbox: string; readonly seals: readonly SealAsked[] }
interface AppliedRequest { readonly position: readonly number[]; readonly messages: readonly (readonly [number, number])[] }

const { object, field, integer, string, array, nullable, at } = fieldChecks;
const integers = (value: unknown, path: string) => array(value, path).map((v, i) => integer(v, at(path, i), 0));
const runsCheck = (value: unknown, path: string): OriginRun[] => array(value, path).map((run, i) => {
  const pair = integers(run, at(path, i));
  if (pair.length !== 2 || pair[0]! >= pair[1]!) throw new RecordShapeError(at(path, i), 'a run [from, to) with from below to');
  return [pair[0]!, pair[1]!] as const;
});

/** The reply of a kind whose answer is one field, checked by `check`. */
function replyOf<K extends string, V>(key: K, check: (value: unknown, path: string) => V): RecordCheck<PeerReply<Record<K, V>>> {
  return (value) => {
    const r = object(value, '');
    const state = field(r, '', 'state');
    if (state === 'failed') return { state, error: errorPayloadCheck(field(r, '', 'error'), 'error') };
    if (state !== 'ok') throw new RecordShapeError('state', "'ok' or 'failed'");
    return { state, [key]: check(field(r, '', key), key) } as PeerReply<Record<K, V>>;
  };
}

/** One kind of owner request as a channel: `what` names it in sentences. */
function kind<Q, A extends object>(name: string, what: string, request: RecordCheck<Q>, reply: RecordCheck<PeerReply<A>>): ChannelKind<Q, A> {
  const invalid = (node: string) => (reason: string, cause: unknown) => new OwnerAskFailedError(node, what, `a reply that is not valid: ${reason}`, cause);
  return {
    what: `The answer on ${what}`,
    queue: `tandem-owner-${name}`,
    subject: (cluster, node) => nodeSubject(cluster, `owner.${name}`, node),
    parseRequest: (text) => parseChecked(text, request, (reason, cause) => new InvalidOwnerRequestError(reason, cause)),
    parseReply: (text, node) => parseChecked(text, reply, invalid(node)),
    rebuild: (node: string, error: ErrorPayload) => new OwnerAskFailedError(node, what, `${error.code}: ${error.message}`),
    unreachable: (node, reason, cause) => new OwnerAskFailedError(node, what, reason, cause),
    tooLarge: (node, bytes, maxBytes) => new OwnerAskFailedError(node, what, `its answer takes ${bytes} bytes, more than the ${maxBytes} a reply may take`),
  };
}

const ORIGINS = kind<OriginsRequest, { origins: readonly (PartitionOrigins | null)[] }>('origins', 'the outbox events its partitions have seen', (value) => {
  const r = object(value, '');
  return { outbox: string(field(r, '', 'outbox'), 'outbox', true), partitions: integers(field(r, '', 'partitions'), 'partitions') };
}, replyOf('origins', (value, path) => array(value, path).map((entry, i) => nullable(entry, () => {
  const o = object(entry, at(path, i));
  return { applied: integer(field(o, at(path, i), 'applied'), at(at(path, i), 'applied'), 0), runs: runsCheck(field(o, at(path, i), 'runs'), at(at(path, i), 'runs')) };
}))));

const SEAL_ORIGINS = kind<SealOriginsRequest, { runs: readonly (readonly OriginRun[] | null)[] }>('seals', 'the outbox events its partitions had seen at a seal', (value) => {
  const r = object(value, '');
  const seals = array(field(r, '', 'seals'), 'seals').map((entry, i) => {
    const s = object(entry, at('seals', i));
    const digest = s.digest === undefined ? {} : { digest: string(s.digest, at(at('seals', i), 'digest')) };
    return { partition: integer(field(s, at('seals', i), 'partition'), at(at('seals', i), 'partition'), 0), seal: integer(field(s, at('seals', i), 'seal'), at(at('seals', i), 'seal'), 0), ...digest };
  });
  return { outbox: string(field(r, '', 'outbox'), 'outbox', true), seals };
}, replyOf('runs', (value, path) => array(value, path).map((entry, i) => nullable(entry, () => runsCheck(entry, at(path, i))))));

const APPLIED = kind<AppliedRequest, { duplicates: number | null }>('applied', 'an ingest\'s duplicates', (value) => {
  const r = object(value, '');
  const messages = array(field(r, '', 'messages'), 'messages').map((pair, i) => {
    const [p, seq] = integers(pair, at('messages', i));
    if (p === undefined || seq === undefined) throw new RecordShapeError(at('messages', i), 'a pair [partition, sequence]');
    return [p, seq] as const;
  });
  return { position: integers(field(r, '', 'position'), 'position'), messages };
}, replyOf('duplicates', (value, path) => nullable(value, () => integer(value, path, 0))));

export interface OwnerRequestsOptions {
  readonly cluster: string;
  /** This node. */
  readonly node: string;
  readonly answers: OwnerAnswers;
  readonly logger?: EngineLogger;
}

/**
 * A node's side of owner requests: asks the owners of partitions it does not
 * read, and answers for the partitions it reads.
 *
 * @example
 * ```ts
 * const owners = await OwnerRequests.serve(nc, { cluster: 'shop', node: 'n1', answers });
 * const [p1] = await owners.origins('n2', outboxId, [1], 2_000);
 * ```
 */
export class OwnerRequests {
  private constructor(
    private readonly origins$: PeerChannel<OriginsRequest, { origins: readonly (PartitionOrigins | null)[] }>,
    private readonly seals$: PeerChannel<SealOriginsRequest, { runs: readonly (readonly OriginRun[] | null)[] }>,
    private readonly applied$: PeerChannel<AppliedRequest, { duplicates: number | null }>,
  ) {}

  static async serve(nc: NatsConnection, options: OwnerRequestsOptions): Promise<OwnerRequests> {
    const { answers } = options;
    return new OwnerRequests(
      await PeerChannel.serve(nc, ORIGINS, { ...options, answer: async (r) => ({ origins: await answers.origins(r.outbox, r.partitions) }) }),
      await PeerChannel.serve(nc, SEAL_ORIGINS, { ...options, answer: async (r) => ({ runs: await answers.sealOrigins(r.outbox, r.seals) }) }),
      await PeerChannel.serve(nc, APPLIED, { ...options, answer: async (r) => ({ duplicates: await answers.applied(r.position, r.messages) }) }),
    );
  }

  /** Per partition asked, what `node` has seen of outbox `outbox` there (null where it does not read it whole). */
  async origins(node: string, outbox: string, partitions: readonly number[], timeoutMs: number): Promise<readonly (PartitionOrigins | null)[]> {
    const { origins } = await this.origins$.ask(node, { outbox, partitions }, timeoutMs);
    if (origins.length !== partitions.length) throw new OwnerAskFailedError(node, 'the outbox events its partitions have seen', `${origins.length} answers to ${partitions.length} partitions`);
    return origins;
  }

  /** Per seal asked, what `node` had seen of outbox `outbox` by then (null where it cannot say). */
  async sealOrigins(node: string, outbox: string, seals: readonly SealAsked[], timeoutMs: number): Promise<readonly (readonly OriginRun[] | null)[]> {
    const { runs } = await this.seals$.ask(node, { outbox, seals }, timeoutMs);
    if (runs.length !== seals.length) throw new OwnerAskFailedError(node, 'the outbox events its partitions had seen at a seal', `${runs.length} answers to ${seals.length} seals`);
    return runs;
  }

  /** Waits for `node` to apply `position`, and resolves with the duplicates among `messages` it counted (null when it cannot say). */
  async applied(node: string, position: readonly number[], messages: readonly (readonly [number, number])[], timeoutMs: number): Promise<number | null> {
    return (await this.applied$.ask(node, { position, messages }, timeoutMs)).duplicates;
  }

  /** Stops answering, after the answers under way. */
  async close(): Promise<void> {
    await Promise.all([this.origins$.close(), this.seals$.close(), this.applied$.close()]);
  }
}
