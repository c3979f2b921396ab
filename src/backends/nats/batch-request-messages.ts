/**
 * The messages of batch requests between nodes (`batch-requests.ts`): the
 * subject each node answers on, the request, the replies, and how a failed
 * cycle travels (a Tandem error's code, sentence and fields) and is rebuilt
 * as its own class on the asking node. Every message read is checked before
 * a field of it is read, as records are (`record-schemas.ts`): one that is
 * not JSON or not of its shape is an {@link InvalidBatchMessageError} naming
 * the field, never a `TypeError`.
 *
 * @module
 */
import { TandemError } from '../../definitions/errors.ts';
import type { BatchOptions, BatchSummary } from '../../engine/index.ts';
import {
  ArchiveDamagedError, BatchFencedError, BucketStalledError, BatchLeaseExpiringError, BatchLeaseHeldError, ClusterBucketMissingError, InvalidBatchMessageError,
  InvalidClusterRecordError, LogBehindArchiveError, RemoteBatchFailedError,
} from './errors.ts';
import { nodeSubject } from './partition-names.ts';
import { fieldChecks, parseChecked, RecordShapeError, type RecordCheck } from './record-schemas.ts';

/**
 * What the asking node sends: who asks, and the cycle's options.
 *
 * @example
 * ```ts
 * const request: BatchRequest = { from: 'n2', full: true };
 * ```
 */
export interface BatchRequest {
  readonly from: string;
  readonly full?: boolean;
}

/**
 * A failed cycle as it travels: a Tandem error's code, sentence and fields.
 *
 * @example
 * ```ts
 * const payload: ErrorPayload = { code: 'batch_lease_held', message: 'Node n3 holds the batch lease, …', fields: { holder: 'n3' } };
 * ```
 */
export interface ErrorPayload {
  readonly code: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * What the holder sends back: `running` at once and then now and again
 * until the cycle ends, then `published` or `failed`, once.
 *
 * @example
 * ```ts
 * const reply: BatchReply = { state: 'published', summary };
 * ```
 */
export type BatchReply =
  | { readonly state: 'running' }
  | { readonly state: 'published'; readonly summary: BatchSummary }
  | { readonly state: 'failed'; readonly error: ErrorPayload };

export const RUNNING: BatchReply = { state: 'running' };

/**
 * The subject node `node` of cluster `cluster` answers batch requests on:
 * the node's name in hex, as the node registry's keys, since a subject token
 * may hold neither `.`, `*`, `>` nor white space, which a node name may.
 *
 * @example
 * ```ts
 * batchRequestSubject('shop', 'n1');   // 'shop.batch.6e31'
 * ```
 */
export function batchRequestSubject(cluster: string, node: string): string {
  return nodeSubject(cluster, 'batch', node);
}

/**
 * The request node `from` sends for a cycle with `options`.
 *
 * @example
 * ```ts
 * encodeRequest('n2', { full: true });   // '{"from":"n2","full":true}'
 * ```
 */
export function encodeRequest(from: string, options: BatchOptions): string {
  const request: BatchRequest = { from, ...(options.full === undefined ? {} : { full: options.full }) };
  return JSON.stringify(request);
}

/**
 * A reply as one message of at most `maxBytes`: when a failure's fields
 * would not fit (an archive missing thousands of objects), its code and
 * sentence still go.
 *
 * @example
 * ```ts
 * msg.respond(encodeReply({ state: 'failed', error: errorPayload('n1', error) }, nc.info!.max_payload));
 * ```
 */
export function encodeReply(reply: BatchReply, maxBytes: number): string {
  const text = JSON.stringify(reply);
  if (reply.state !== 'failed' || Buffer.byteLength(text) <= maxBytes) return text;
  const { fields: _dropped, ...error } = reply.error;
  return JSON.stringify({ state: 'failed', error });
}

/**
 * How the error of a cycle run on node `node` travels: a Tandem error with
 * its code, sentence and fields; anything else as `internal`, its detail
 * (paths, SQL, a stack) left to that node's log.
 *
 * @example
 * ```ts
 * errorPayload('n1', new BatchLeaseHeldError('n3'));   // { code: 'batch_lease_held', message: 'Node n3 holds …', fields: { holder: 'n3' } }
 * ```
 */
export function errorPayload(node: string, error: unknown, what = 'The cycle'): ErrorPayload {
  if (!(error instanceof TandemError)) return { code: 'internal', message: `${what} failed with an unexpected error; the log of node ${node} has the detail.` };
  return { code: error.code, message: error.message, fields: fieldsOf(error) };
}

/** A Tandem error's own fields (its constructor's `readonly` parameters), as JSON holds them; none when JSON cannot. */
function fieldsOf(error: TandemError): Record<string, unknown> {
  const { name: _name, code: _code, ...fields } = error as unknown as Record<string, unknown>;
  try {
    return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

const { object, field, integer, finite, string, array, at } = fieldChecks;

type Fields = Readonly<Record<string, unknown>>;

/** A field of a rebuilt error, checked as a record's field is. */
const text = (f: Fields, key: string) => string(field(f, '', key), key);
const count = (f: Fields, key: string, min = 0) => integer(field(f, '', key), key, min);

/** What an {@link ArchiveDamagedError} lists: at least one object, each with its problem. */
function damaged(f: Fields): { blob: string; problem: string }[] {
  const missing = array(field(f, '', 'missing'), 'missing').map((m, i) => {
    const path = at('missing', i);
    const o = object(m, path);
    return { blob: string(field(o, path, 'blob'), at(path, 'blob')), problem: string(field(o, path, 'problem'), at(path, 'problem')) };
  });
  if (missing.length === 0) throw new RecordShapeError('missing', 'a non-empty list');
  return missing;
}

function messageKind(f: Fields): 'request' | 'reply' {
  const kind = field(f, '', 'kind');
  if (kind !== 'request' && kind !== 'reply') throw new RecordShapeError('kind', "'request' or 'reply'");
  return kind;
}

/** The holder's errors this node has a class for, rebuilt from their fields: each keeps its code, and so its HTTP status. */
const REBUILDS = new Map<string, (fields: Fields) => TandemError>([
  ['batch_lease_held', (f) => new BatchLeaseHeldError(text(f, 'holder'))],
  // The time left travels, not the expiry: the asking node's clock may differ from the holder's.
  ['batch_lease_expiring', (f) => new BatchLeaseExpiringError(text(f, 'node'), count(f, 'expiresInMs'))],
  ['batch_fenced', (f) => new BatchFencedError(count(f, 'version'), text(f, 'reason'))],
  ['archive_damaged', (f) => new ArchiveDamagedError(text(f, 'store'), damaged(f), text(f, 'consequence'))],
  ['cluster_bucket_missing', (f) => new ClusterBucketMissingError(text(f, 'bucket'))],
  ['bucket_stalled', (f) => new BucketStalledError(text(f, 'bucket'), text(f, 'doing'), count(f, 'afterMs', 1))],
  ['log_behind_archive', (f) => new LogBehindArchiveError(count(f, 'partition'), count(f, 'seal'), count(f, 'archived'))],
  ['cluster_record_invalid', (f) => new InvalidClusterRecordError(text(f, 'store'), text(f, 'key'), text(f, 'what'), text(f, 'reason'), text(f, 'advice'))],
  ['batch_message_invalid', (f) => new InvalidBatchMessageError(text(f, 'node'), messageKind(f), text(f, 'reason'))],
]);

/**
 * The error node `holder` sent, as its own class when there is one and its
 * fields came whole (so it keeps its code, and its HTTP status); else
 * {@link RemoteBatchFailedError} with its code and sentence.
 *
 * @example
 * ```ts
 * remoteError('n1', { code: 'batch_lease_held', message: '…', fields: { holder: 'n3' } });   // BatchLeaseHeldError naming n3
 * ```
 */
export function remoteError(holder: string, payload: ErrorPayload): TandemError {
  const rebuild = REBUILDS.get(payload.code);
  if (rebuild !== undefined && payload.fields !== undefined) {
    try {
      return rebuild(payload.fields);
    } catch (error) {
      if (!(error instanceof RecordShapeError)) throw error;
    }
  }
  return new RemoteBatchFailedError(holder, payload.code, payload.message);
}

const requestCheck: RecordCheck<BatchRequest> = (value) => {
  const r = object(value, '');
  const from = string(field(r, '', 'from'), 'from', true);
  if (r.full === undefined) return { from };
  if (typeof r.full !== 'boolean') throw new RecordShapeError('full', 'a boolean');
  return { from, full: r.full };
};

function viewFigures(value: unknown, path: string): BatchSummary['views'] {
  return Object.fromEntries(Object.entries(object(value, path)).map(([name, figures]) => {
    const p = at(path, name);
    const o = object(figures, p);
    return [name, { rows: integer(field(o, p, 'rows'), at(p, 'rows')), durationMs: finite(field(o, p, 'durationMs'), at(p, 'durationMs')) }];
  }));
}

function summaryCheck(value: unknown, path: string): BatchSummary {
  const s = object(value, path);
  const mode = s.mode;
  if (mode !== undefined && mode !== 'full' && mode !== 'incremental') throw new RecordShapeError(at(path, 'mode'), "'full' or 'incremental'");
  return {
    version: integer(field(s, path, 'version'), at(path, 'version'), 1),
    cutoff: integer(field(s, path, 'cutoff'), at(path, 'cutoff')),
    ...(s.cutoffs === undefined ? {} : { cutoffs: array(s.cutoffs, at(path, 'cutoffs')).map((c, i) => integer(c, at(at(path, 'cutoffs'), i))) }),
    events: integer(field(s, path, 'events'), at(path, 'events')),
    durationMs: finite(field(s, path, 'durationMs'), at(path, 'durationMs')),
    exportMs: finite(field(s, path, 'exportMs'), at(path, 'exportMs')),
    ...(mode === undefined ? {} : { mode }),
    ...(s.inputEvents === undefined ? {} : { inputEvents: integer(s.inputEvents, at(path, 'inputEvents')) }),
    views: viewFigures(field(s, path, 'views'), at(path, 'views')),
  };
}

/** An error payload as another node sent it, checked. */
export function errorPayloadCheck(value: unknown, path: string): ErrorPayload {
  const e = object(value, path);
  return {
    code: string(field(e, path, 'code'), at(path, 'code'), true),
    message: string(field(e, path, 'message'), at(path, 'message'), true),
    ...(e.fields === undefined ? {} : { fields: object(e.fields, at(path, 'fields')) }),
  };
}

const replyCheck: RecordCheck<BatchReply> = (value) => {
  const r = object(value, '');
  const state = field(r, '', 'state');
  if (state === 'running') return RUNNING;
  if (state === 'published') return { state, summary: summaryCheck(field(r, '', 'summary'), 'summary') };
  if (state === 'failed') return { state, error: errorPayloadCheck(field(r, '', 'error'), 'error') };
  throw new RecordShapeError('state', "'running', 'published' or 'failed'");
};

/**
 * A request as another node sent it, checked: {@link InvalidBatchMessageError} when it is not one.
 *
 * @example
 * ```ts
 * parseRequest('{"from":"n2","full":true}');   // { from: 'n2', full: true }
 * ```
 */
export function parseRequest(data: string): BatchRequest {
  return parseMessage(data, requestCheck, 'another node', 'request');
}

/**
 * A reply as node `holder` sent it, checked: {@link InvalidBatchMessageError} when it is not one.
 *
 * @example
 * ```ts
 * parseReply('{"state":"running"}', 'n1');   // { state: 'running' }
 * ```
 */
export function parseReply(data: string, holder: string): BatchReply {
  return parseMessage(data, replyCheck, holder, 'reply');
}

/** Parses a message from `node` and checks its shape: one that is not JSON, or not of the shape, is an {@link InvalidBatchMessageError}. */
function parseMessage<T>(data: string, check: RecordCheck<T>, node: string, kind: 'request' | 'reply'): T {
  return parseChecked(data, check, (reason, cause) => new InvalidBatchMessageError(node, kind, reason, cause));
}
