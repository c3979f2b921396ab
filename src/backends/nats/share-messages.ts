/**
 * What travels when a node asks a partition's owner for its share of an
 * answer (issue #28): the query, the partitions, and for each the sequence
 * the asker's batch version ends at (the owner answers from exactly there,
 * or says the two serve different versions); back come the owner's applied
 * position and its share as states (`serving/partial-states.ts`), or an
 * error with its code, sentence and fields. Both sides check what they read,
 * and a message not of its shape is {@link InvalidShareMessageError}.
 *
 * @module
 */
import type { Query } from '../../serving/index.ts';
import type { PartialStates } from '../../serving/index.ts';
import { errorPayloadCheck, type ErrorPayload } from './batch-request-messages.ts';
import { InvalidShareMessageError } from './errors.ts';
import { nodeSubject } from './partition-names.ts';
import { fieldChecks, parseChecked, RecordShapeError, type RecordCheck } from './record-schemas.ts';

/**
 * A share request.
 *
 * @example
 * ```ts
 * const request: ShareRequest = { from: 'n1', query: { view: 'sales', groupBy: ['country'] }, partitions: [0, 2], cutoffs: [120, 97], after: [130, 0, 99] };
 * ```
 */
export interface ShareRequest {
  /** The asking node. */
  readonly from: string;
  readonly query: Query;
  readonly partitions: readonly number[];
  /** Per entry of `partitions`, the sequence the asker's batch version ends at there. */
  readonly cutoffs: readonly number[];
  /** The position (one sequence per partition of the cluster) the owner must have applied first; none to answer at once. */
  readonly after?: readonly number[];
  /**
   * A position the owner waits for, at most its read wait, and then answers
   * regardless: the asking node's own applied position, so that an answer on
   * a node is never older than what that node has read (an ingest it
   * answered shows in its next query, `after` or not).
   */
  readonly atLeast?: readonly number[];
  /**
   * Whether the asker's version is served per partition (issue #28): the
   * owner then gives each partition's batch states beside its speed states
   * (as far as the query's `layer` reads them). Absent: speed states alone.
   */
  readonly batch?: boolean;
}

/** A share reply: the owner's applied position and share, or why not. */
export type ShareReply =
  | { readonly state: 'ok'; readonly applied: readonly number[]; readonly share: PartialStates }
  | { readonly state: 'failed'; readonly error: ErrorPayload };

/**
 * The subject node `node` of cluster `cluster` answers share requests on
 * (its name in hex, as batch requests' subjects: a subject token may hold
 * neither `.`, `*` nor `>`).
 *
 * @example
 * ```ts
 * shareSubject('shop', 'n1'); // 'shop.share.6e31'
 * ```
 */
export function shareSubject(cluster: string, node: string): string {
  return nodeSubject(cluster, 'share', node);
}

const { object, field, integer, string, array, at } = fieldChecks;
const boolean = (value: unknown, path: string): boolean => {
  if (typeof value !== 'boolean') throw new RecordShapeError(path, 'a boolean');
  return value;
};

const integers = (value: unknown, path: string, min = 0) => array(value, path).map((v, i) => integer(v, at(path, i), min));

const requestCheck: RecordCheck<ShareRequest> = (value) => {
  const r = object(value, '');
  const partitions = integers(field(r, '', 'partitions'), 'partitions');
  const cutoffs = integers(field(r, '', 'cutoffs'), 'cutoffs');
  if (cutoffs.length !== partitions.length) throw new RecordShapeError('cutoffs', `a list of ${partitions.length} sequences, one per partition asked for`);
  return {
    from: string(field(r, '', 'from'), 'from'),
    // The query is planned on the owner, which refuses one that is not valid as a query is refused anywhere.
    query: object(field(r, '', 'query'), 'query') as unknown as Query,
    partitions, cutoffs,
    ...(r.after === undefined ? {} : { after: integers(r.after, 'after') }),
    ...(r.atLeast === undefined ? {} : { atLeast: integers(r.atLeast, 'atLeast') }),
    ...(r.batch === undefined ? {} : { batch: boolean(r.batch, 'batch') }),
  };
};

const replyCheck: RecordCheck<ShareReply> = (value) => {
  const r = object(value, '');
  const state = field(r, '', 'state');
  if (state === 'failed') return { state, error: errorPayloadCheck(field(r, '', 'error'), 'error') };
  if (state !== 'ok') throw new RecordShapeError('state', "'ok' or 'failed'");
  // The share's own shape is checked as it is decoded, against the view it is for (decodePartial).
  return { state, applied: integers(field(r, '', 'applied'), 'applied'), share: object(field(r, '', 'share'), 'share') as unknown as PartialStates };
};

function parseMessage<T>(data: string, check: RecordCheck<T>, node: string, kind: 'request' | 'reply'): T {
  return parseChecked(data, check, (reason, cause) => new InvalidShareMessageError(node, kind, reason, cause));
}

/** A request as another node sent it, checked. */
export function parseShareRequest(data: string): ShareRequest {
  return parseMessage(data, requestCheck, 'another node', 'request');
}

/** A reply as node `owner` sent it, checked. */
export function parseShareReply(data: string, owner: string): ShareReply {
  return parseMessage(data, replyCheck, owner, 'reply');
}
