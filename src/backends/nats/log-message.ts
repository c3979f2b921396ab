/**
 * The format of a log message: one message holds events of one type, from
 * one append, for one partition, as NDJSON of normalized rows (the values the
 * validator produced: numbers as integers scaled by their field's scale,
 * timestamps as epoch milliseconds, in the event type's field order), which
 * is what the local log's frames hold, without their `_offset` (a message's
 * place is its stream sequence; an event's, its line). Headers say the format,
 * the event type and the count, so a reader can refuse what it cannot read
 * without parsing it.
 *
 * An append larger than {@link DEFAULT_MAX_MESSAGE_BYTES} (or the server's
 * `max_payload`, if smaller) is split into several messages, cut between
 * events; one event that alone exceeds it refuses the append.
 *
 * @module
 */
import { rowAt, toColumns, type Catalog, type EventColumns, type Field, type Row, type ViewJson } from '../../definitions/index.ts';
import { createHash } from 'node:crypto';
import { EventTooLargeError } from './errors.ts';

export const MESSAGE_FORMAT = 'ndjson/1';

/**
 * A seal: a message without events that the batch node appends to every
 * partition when a cycle starts. Its sequence is that partition's cutoff, and
 * every node's speed layer starts a new generation there, so the cutoff falls
 * on a generation boundary on every node, as the embedded log's seal does.
 *
 * The seal of a cycle that switches view definitions in carries them as its
 * body (`{"include": [view, ...]}`): every node folds them from that
 * generation on, so the speed layer holds each whole from the cutoff of the
 * version that serves it, on every node, however late it reads the seal.
 */
export const SEAL_FORMAT = 'seal/1';

/**
 * Idempotency keys every consumer forgets at a seal, by event type: each a
 * {@link keyHash} of a key whose events were erased, never the key itself
 * (`cluster-erasure.ts`).
 */
export type ForgottenKeys = Readonly<Record<string, readonly string[]>>;

/** A seal's body: the view definitions folded from it on, and the keys forgotten there (empty: none). */
export function sealBody(include: readonly ViewJson[], forget: ForgottenKeys = {}): Uint8Array {
  const forgetting = Object.keys(forget).length > 0;
  if (include.length === 0 && !forgetting) return new Uint8Array(0);
  return new TextEncoder().encode(JSON.stringify(forgetting ? { include, forget } : { include }));
}

/** Bytes one hash takes in a seal's body at most: its 16 digits, quotes and a comma. */
const HASH_BYTES = 19;

/**
 * The bodies of the seals that one seal becomes: one, unless its keys do
 * not fit in a message of `maxBytes`; then several in a row, the first
 * with the definitions, each forgetting a share of the keys. Every rule
 * reads them in order, and the cycle archives up to the last, so no rule
 * resumes between them (an erasure of many keyed events needs many: a
 * message holds about 27,000 hashes at the default 512 KiB).
 *
 * @example
 * ```ts
 * for (const body of sealBodies([], { order: hashes }, log.maxMessageBytes)) await publishSeal(body);
 * ```
 */
export function sealBodies(include: readonly ViewJson[], forget: ForgottenKeys, maxBytes: number): Uint8Array[] {
  const whole = sealBody(include, forget);
  if (whole.byteLength <= maxBytes) return [whole];
  const fixed = sealBody(include).byteLength + 32 + Object.keys(forget).reduce((n, type) => n + Buffer.byteLength(JSON.stringify(type)) + 4, 0);
  const perBody = Math.floor((maxBytes - fixed) / HASH_BYTES);
  if (perBody < 1) throw new RangeError(`A seal's definitions take ${fixed} bytes, more than a message of ${maxBytes} bytes holds.`);
  const pairs = Object.entries(forget).flatMap(([type, hashes]) => hashes.map((hash) => [type, hash] as const));
  const bodies: Uint8Array[] = [];
  for (let at = 0; at < pairs.length; at += perBody) {
    const share: Record<string, string[]> = {};
    for (const [type, hash] of pairs.slice(at, at + perBody)) (share[type] ??= []).push(hash);
    bodies.push(sealBody(at === 0 ? include : [], share));
  }
  return bodies;
}

/** The hash a seal names an idempotency key by: the first 16 hex digits of its SHA-256, so that the key itself never goes into the log again. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The keys a seal's body forgets; a body that names none the way it should forgets none, on every node alike. */
function sealForgets(data: Uint8Array): ForgottenKeys {
  if (data.byteLength === 0) return {};
  try {
    const body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as { forget?: unknown };
    if (typeof body.forget !== 'object' || body.forget === null) return {};
    return Object.fromEntries(Object.entries(body.forget).map(([type, hashes]) => [type, Array.isArray(hashes) ? hashes.filter((h): h is string => typeof h === 'string') : []]));
  } catch {
    return {};
  }
}

/**
 * The definitions a seal's body carries. A body that is not one (written by
 * hand, say) carries none: every node reads the same bytes alike.
 */
function sealIncludes(data: Uint8Array): readonly ViewJson[] {
  if (data.byteLength === 0) return [];
  try {
    const body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as { include?: unknown };
    return Array.isArray(body.include) ? body.include.filter((v): v is ViewJson => typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * A history message: rows of a history import (`tandem ingest --history`),
 * staged as a Parquet object in the object store rather than carried. Its
 * body is {@link HistoryBody}; its sequence gives the object's rows their
 * places (row `r` is line `r` of the message). Every consumer applies the
 * duplicate rule to the rows' idempotency keys (read from the keys object,
 * `history-objects.ts`), and only the archivist reads the rows themselves.
 */
export const HISTORY_FORMAT = 'history/1';

/** One staged object of a history import: what a history message names. */
export interface HistoryBody {
  /** The Parquet object holding the rows, in the master dataset's columns (no `_offset`), in row order. */
  readonly object: string;
  readonly rows: number;
  /** The object's SHA-256: a reader refuses other bytes. */
  readonly sha256: string;
  /** The object holding the rows' idempotency keys (`{"keys": [...]}` in row order); absent for a type without one. */
  readonly keys?: { readonly object: string; readonly sha256: string };
}

/** A history message's body. */
export function historyBody(body: HistoryBody): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(body));
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A history body read back, or why it is not one. */
function parseHistoryBody(data: Uint8Array): HistoryBody | string {
  let body: Partial<Record<keyof HistoryBody, unknown>>;
  try {
    body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as typeof body;
  } catch {
    return 'the history body is not JSON';
  }
  if (typeof body !== 'object' || body === null) return 'the history body is not an object';
  const { object, rows, sha256, keys } = body;
  if (typeof object !== 'string' || typeof sha256 !== 'string' || !SHA256.test(sha256)) return 'the history body names no object and SHA-256';
  if (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0 || rows > 2 ** 20) return 'the history body\'s rows are not a count up to 2^20';
  if (keys === undefined) return { object, rows, sha256 };
  const k = keys as { object?: unknown; sha256?: unknown } | null;
  if (typeof k !== 'object' || k === null || typeof k.object !== 'string' || typeof k.sha256 !== 'string' || !SHA256.test(k.sha256)) return 'the history body\'s keys name no object and SHA-256';
  return { object, rows, sha256, keys: { object: k.object, sha256: k.sha256 } };
}

export const HEADERS = {
  format: 'Tandem-Format',
  eventType: 'Tandem-Event-Type',
  count: 'Tandem-Event-Count',
  /**
   * `<outbox id>:<origin>`: the origin of the message's first event in the
   * outbox of the node that took it, the others following on. Absent in
   * messages written before outboxes.
   */
  origin: 'Tandem-Origin',
  /** JetStream's own: duplicates of it within the stream's window are not stored again. */
  msgId: 'Nats-Msg-Id',
} as const;

/** Well under NATS' default `max_payload` of 1 MiB, and the size JetStream publishes fastest at here. */
export const DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024;

/** One message to publish: its payload and, for each of its lines, the event's index in the append. */
export interface EncodedMessage {
  readonly payload: Buffer;
  readonly indexes: readonly number[];
}

/**
 * The messages holding events `indexes` (in this order) of an append, each
 * at most `maxBytes` of payload.
 *
 * @example
 * ```ts
 * const messages = encodeMessages('order', schema.fields, events, [0, 2, 5], 512 * 1024);
 * ```
 */
export function encodeMessages(eventType: string, fields: readonly Field[], events: EventColumns, indexes: readonly number[], maxBytes: number): EncodedMessage[] {
  const messages: EncodedMessage[] = [];
  let lines: string[] = [];
  let lineIndexes: number[] = [];
  let bytes = 0;
  const flush = () => {
    if (lines.length === 0) return;
    messages.push({ payload: Buffer.from(lines.join(''), 'utf8'), indexes: lineIndexes });
    lines = [];
    lineIndexes = [];
    bytes = 0;
  };
  for (const i of indexes) {
    const line = `${JSON.stringify(rowAt(fields, events, i))}\n`;
    const size = Buffer.byteLength(line, 'utf8');
    if (size > maxBytes) throw new EventTooLargeError(eventType, i, size, maxBytes);
    if (bytes + size > maxBytes) flush();
    lines.push(line);
    lineIndexes.push(i);
    bytes += size;
  }
  flush();
  return messages;
}

/** What a reader needs of a message's headers: a missing header reads as ''. */
export interface HeaderReader {
  get(name: string): string;
}

/** The outbox and origin of a message's first event. */
export interface MessageOrigin {
  readonly id: string;
  readonly first: number;
}

const ORIGIN = /^([0-9a-f]{16}):(\d{1,15})$/;

/** The header value of an origin. */
export function originHeader(origin: MessageOrigin): string {
  return `${origin.id}:${origin.first}`;
}

/** An origin header read back; undefined when absent or not one (every node reads the same bytes alike). */
export function parseOrigin(value: string): MessageOrigin | undefined {
  const match = ORIGIN.exec(value);
  return match === null ? undefined : { id: match[1]!, first: Number(match[2]) };
}

/** A message read back: its events, or why every consumer passes over it. */
export type LogMessage =
  | {
    readonly kind: 'events'; readonly partition: number; readonly seq: number; readonly msgId: string; readonly eventType: string; readonly events: EventColumns;
    /** Where its events come from: event `i` is origin `first + i` of outbox `id`. */
    readonly origin?: MessageOrigin;
  }
  | {
    readonly kind: 'seal'; readonly partition: number; readonly seq: number; readonly msgId: string;
    /** View definitions the speed layer folds from this seal on: those the cycle it starts switches in. */
    readonly include: readonly ViewJson[];
    /** Idempotency keys (by hash) the duplicate rule forgets here: their events were erased. */
    readonly forget?: ForgottenKeys;
  }
  | {
    readonly kind: 'history'; readonly partition: number; readonly seq: number; readonly msgId: string; readonly eventType: string; readonly body: HistoryBody;
    /**
     * The rows' idempotency keys in row order, read from `body.keys` by the
     * partition's reader before the message is handed on (absent for a type
     * without a key, and until read).
     */
    readonly keys?: readonly (string | null)[];
  }
  | { readonly kind: 'skipped'; readonly partition: number; readonly seq: number; readonly msgId: string; readonly reason: string };

/**
 * Reads a message. One that is not in this format, or of an event type the
 * catalog does not declare, is `skipped` with the reason: the same bytes and
 * the same catalog give the same answer on every node, so every consumer
 * passes over the same messages.
 */
export function decodeMessage(catalog: Catalog, partition: number, seq: number, headers: HeaderReader | undefined, data: Uint8Array): LogMessage {
  const msgId = headers?.get(HEADERS.msgId) ?? '';
  const skipped = (reason: string): LogMessage => ({ kind: 'skipped', partition, seq, msgId, reason });
  const format = headers?.get(HEADERS.format) ?? '';
  if (format === SEAL_FORMAT) {
    const forget = sealForgets(data);
    return { kind: 'seal', partition, seq, msgId, include: sealIncludes(data), ...(Object.keys(forget).length === 0 ? {} : { forget }) };
  }
  if (format !== MESSAGE_FORMAT && format !== HISTORY_FORMAT) return skipped(`format '${format}' is not ${MESSAGE_FORMAT}`);
  const eventType = headers!.get(HEADERS.eventType);
  const schema = catalog.eventTypes.get(eventType);
  if (schema === undefined) return skipped(`event type '${eventType}' is not in the config`);
  if (format === HISTORY_FORMAT) {
    const body = parseHistoryBody(data);
    if (typeof body === 'string') return skipped(body);
    // A keyed type's rows must come with their keys, or no consumer could apply the rule to them.
    if ((schema.idempotencyKey === undefined) !== (body.keys === undefined)) return skipped(`the history body's keys do not fit event type '${eventType}'`);
    return { kind: 'history', partition, seq, msgId, eventType, body };
  }
  const count = Number(headers!.get(HEADERS.count));
  const rows = parseLines(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  if (typeof rows === 'string') return skipped(rows);
  if (rows.length !== count) return skipped(`${rows.length} events where the header says ${headers!.get(HEADERS.count)}`);
  const origin = parseOrigin(headers!.get(HEADERS.origin));
  return { kind: 'events', partition, seq, msgId, eventType, events: toColumns(schema.fields, rows), ...(origin === undefined ? {} : { origin }) };
}

/** The rows of an NDJSON payload, or why it is not one. */
function parseLines(text: string): Row[] | string {
  if (text.length === 0 || !text.endsWith('\n')) return 'the payload does not end in a newline';
  const rows: Row[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    let row: unknown;
    try {
      row = JSON.parse(text.slice(start, nl));
    } catch {
      return `line ${rows.length + 1} is not JSON`;
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) return `line ${rows.length + 1} is not an object`;
    rows.push(row as Row);
    start = nl + 1;
  }
  return rows;
}
