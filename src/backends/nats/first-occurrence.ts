/**
 * The deterministic duplicate rule every consumer of a partition applies
 * alike, so that every node derives the same events from the same stream
 * prefix:
 *
 * 1. A message whose `Nats-Msg-Id` was already seen among the partition's
 *    previous `messageIdWindow` messages is dropped whole: a publish that
 *    was retried after its first copy had been stored (JetStream's own
 *    window is time-bound and in memory; this one counts messages, so every
 *    consumer draws it at the same place). This is what keeps a retried
 *    append of events without keys from counting twice.
 * 2. An event whose origin (the outbox of the node that took it, and its
 *    number there) the partition has already seen is dropped: an event a
 *    node published again from its outbox after NATS lost it, or after a
 *    restart, counts once, with or without an idempotency key. Origins are
 *    remembered for good (as runs, a few numbers per node).
 * 3. Within the partition, the first occurrence (lowest sequence, then lowest
 *    line) of an (event type, idempotency key) wins, and every later one is
 *    dropped, however long after it comes (or, for a type with an
 *    `idempotencyWindow` of N, while the first is among the partition's
 *    latest N stored events of that type). Routing sends every copy of a key
 *    to the same partition, so this decides for the whole cluster.
 *
 * The rule depends only on the messages and their order, never on time or on
 * which node reads, so the filter must see every message of the partition
 * from its first (or start from a state built from the same prefix).
 *
 * @module
 */
import { selectEvents, type Catalog, type EventColumns, type ViewJson } from '../../definitions/index.ts';
import { IdempotencyIndex } from '../../log/index.ts';
import { fnv1a32Of } from './fnv1a.ts';
import { HistoryKeysMissingError } from './errors.ts';
import { OriginSet, type OriginRun } from './origin-set.ts';
import { keyHash, type ForgottenKeys, type HistoryBody, type LogMessage, type MessageOrigin } from './log-message.ts';

/** Messages whose ids are remembered per partition by default: about 6 MiB, and many minutes of retries at thousands of appends a second. */
export const DEFAULT_MESSAGE_ID_WINDOW = 65_536;

/** The events of a message that count. */
export interface Admitted {
  readonly partition: number;
  readonly seq: number;
  readonly eventType: string;
  /** The kept events, in line order. */
  readonly events: EventColumns;
  /** For each kept event, its line in the message: its position is (seq, line). */
  readonly lines: readonly number[];
  /** Events of the message dropped as repeated keys. */
  readonly duplicates: number;
  /** Where the message's events come from (kept event `i` is origin `first + lines[i]`); absent for messages written before outboxes. */
  readonly origin?: MessageOrigin;
}

export type Verdict =
  | { readonly kind: 'admitted'; readonly admitted: Admitted }
  | { readonly kind: 'repeated-message'; readonly seq: number; readonly msgId: string; readonly count: number }
  /** `digest`: the rule's digest before this seal, over every message below it (what the archive's range up to here records). */
  | { readonly kind: 'seal'; readonly seq: number; readonly digest: string; readonly include: readonly ViewJson[] }
  | { readonly kind: 'skipped'; readonly seq: number; readonly reason: string }
  /**
   * A history message's staged rows: those at `dropped` (rows of the object,
   * ascending) repeat a key the partition held already, or one earlier in
   * the object; the others count, row `r` at place (seq, r). The speed layer
   * folds none of them (they appear with the batch version archiving them).
   */
  | { readonly kind: 'history'; readonly seq: number; readonly eventType: string; readonly body: HistoryBody; readonly dropped: readonly number[] };

export interface FirstOccurrenceOptions {
  /** Message ids remembered, counted in messages. Default {@link DEFAULT_MESSAGE_ID_WINDOW}. */
  readonly messageIdWindow?: number;
}

/**
 * What the rule needs to go on from a position without the messages before
 * it, besides the idempotency keys (which the archive's Parquet holds): the
 * last sequence seen and the ids of the latest messages, oldest first.
 */
export interface FilterSnapshot {
  readonly lastSeq: number;
  readonly msgIds: readonly string[];
  /** Per outbox id, the origins seen, as runs; absent in snapshots written before outboxes. */
  readonly origins?: Readonly<Record<string, readonly OriginRun[]>>;
  /** The rule's {@link FirstOccurrenceFilter.digest} there; absent in snapshots written before it. */
  readonly digest?: string;
}

/** The digest of a rule that has seen nothing. */
export const EMPTY_DIGEST = '00000000';

/** One partition's duplicate rule: feed it every message in sequence order. */
export class FirstOccurrenceFilter {
  /** The idempotency keys stored so far in this partition (or within each type's window). */
  readonly keys: IdempotencyIndex;
  readonly #catalog: Catalog;
  readonly #window: number;
  readonly #ids = new Set<string>();
  readonly #origins = new Map<string, OriginSet>();
  readonly #ring: string[] = [];
  #admittedMessages = 0;
  #lastSeq = 0;
  #digest = EMPTY_DIGEST;

  constructor(catalog: Catalog, options: FirstOccurrenceOptions = {}) {
    this.#catalog = catalog;
    this.#window = options.messageIdWindow ?? DEFAULT_MESSAGE_ID_WINDOW;
    const windows = [...catalog.eventTypes.values()].flatMap((e) => (e.idempotencyWindow === undefined ? [] : [[e.name, e.idempotencyWindow] as const]));
    this.keys = new IdempotencyIndex(new Map(windows));
  }

  /**
   * A filter that goes on from `snapshot`, as if it had seen every message up
   * to its `lastSeq`; the caller adds the keys stored up to there to `keys`.
   */
  static resume(catalog: Catalog, snapshot: FilterSnapshot, options: FirstOccurrenceOptions = {}): FirstOccurrenceFilter {
    const filter = new FirstOccurrenceFilter(catalog, options);
    filter.#lastSeq = snapshot.lastSeq;
    filter.#digest = snapshot.digest ?? EMPTY_DIGEST;
    for (const id of snapshot.msgIds) filter.#remember(id);
    for (const [outbox, runs] of Object.entries(snapshot.origins ?? {})) filter.#origins.set(outbox, OriginSet.of(runs));
    return filter;
  }

  /** The state to resume from later (see {@link resume}). */
  snapshot(): FilterSnapshot {
    const count = Math.min(this.#admittedMessages, this.#window);
    const oldest = this.#admittedMessages - count;
    const msgIds = Array.from({ length: count }, (_, i) => this.#ring[(oldest + i) % this.#window]!);
    const origins = Object.fromEntries([...this.#origins].map(([outbox, set]) => [outbox, set.runs]));
    return { lastSeq: this.#lastSeq, msgIds, digest: this.#digest, origins };
  }

  /** Per outbox, the origins this partition has seen as of now: a copy, which what the rule sees next leaves alone. */
  origins(): Map<string, readonly OriginRun[]> {
    return new Map([...this.#origins].map(([outbox, set]) => [outbox, [...set.runs]]));
  }

  /** The origins of outbox `id` this partition has seen (an empty set when none). */
  originsOf(id: string): OriginSet {
    return this.#origins.get(id) ?? new OriginSet();
  }

  /**
   * A digest of every decision the rule has made, folded message by message
   * (its sequence, id, and what was kept): two rules that saw the same
   * messages in the same order have the same digest. A node compares its own
   * at a cutoff with the archive's, so that a partition it read differently
   * (messages NATS lost or replaced after it read them) is found and re-read.
   */
  get digest(): string {
    return this.#digest;
  }

  #fold(seq: number, msgId: string, decision: string): void {
    this.#digest = fnv1a32Of(this.#digest, String(seq), msgId, decision).toString(16).padStart(8, '0');
  }

  /** The sequence of the last message seen. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Goes on after `seq` without the messages up to it: a stretch of the
   * partition that NATS lost (found purged below where the archive ends),
   * recorded as lost in the archive, so every consumer skips it alike.
   */
  skipTo(seq: number): void {
    if (seq <= this.#lastSeq) return;
    this.#fold(seq, '', `lost from ${this.#lastSeq + 1}`);
    this.#lastSeq = seq;
  }

  /** Applies the rule to the next message of the partition; messages must come in increasing sequence order. */
  admit(message: LogMessage): Verdict {
    if (message.seq <= this.#lastSeq) throw new Error(`message ${message.seq} after ${this.#lastSeq}: a partition's messages must be seen once each, in order`);
    this.#lastSeq = message.seq;
    if (message.kind === 'skipped') {
      this.#fold(message.seq, message.msgId, 'skipped');
      return { kind: 'skipped', seq: message.seq, reason: message.reason };
    }
    if (message.kind === 'seal') {
      const digest = this.#digest;
      this.#fold(message.seq, message.msgId, 'seal');
      this.#forget(message.forget ?? {});
      return { kind: 'seal', seq: message.seq, digest, include: message.include };
    }
    if (message.msgId !== '' && this.#ids.has(message.msgId)) {
      this.#fold(message.seq, message.msgId, 'repeated');
      return { kind: 'repeated-message', seq: message.seq, msgId: message.msgId, count: message.kind === 'history' ? message.body.rows : message.events.count };
    }
    this.#remember(message.msgId);
    if (message.kind === 'history') return this.#history(message);
    const schema = this.#catalog.eventTypes.get(message.eventType)!;
    const field = schema.idempotencyKey;
    const { events } = message;
    const fresh = this.#unseenOrigins(message);
    const admitted = (kept: EventColumns, lines: readonly number[], duplicates: number): Verdict => {
      this.#fold(message.seq, message.msgId, `${message.eventType} ${kept.count} ${duplicates}`);
      const { partition, seq, eventType, origin } = message;
      return { kind: 'admitted', admitted: { partition, seq, eventType, events: kept, lines, duplicates, ...(origin === undefined ? {} : { origin }) } };
    };
    if (field === undefined) {
      const lines = fresh ?? Array.from({ length: events.count }, (_, i) => i);
      return admitted(lines.length === events.count ? events : selectEvents(events, lines), lines, 0);
    }
    const keys = events.columns[schema.fields.indexOf(field)] as (string | null)[];
    const candidates = fresh ?? Array.from({ length: events.count }, (_, j) => j);
    const lines: number[] = [];
    for (const i of candidates) {
      const key = keys[i] ?? '';
      if (this.keys.addNew(message.eventType, key)) lines.push(i);
    }
    return admitted(lines.length === events.count ? events : selectEvents(events, lines), lines, candidates.length - lines.length);
  }

  /**
   * A history message: its keys join the partition's, row by row, the first
   * occurrence winning as for events (rows without a key type all count).
   * The fold names what was kept, so a rule that saw other keys differs.
   */
  #history(message: Extract<LogMessage, { kind: 'history' }>): Verdict {
    const { seq, msgId, eventType, body, keys } = message;
    const dropped: number[] = [];
    if (body.keys !== undefined) {
      if (keys === undefined || keys.length !== body.rows) throw new HistoryKeysMissingError(message.partition, seq, body.rows, keys?.length);
      for (let r = 0; r < keys.length; r++) {
        const key = keys[r] ?? '';
        if (!this.keys.addNew(eventType, key)) dropped.push(r);
      }
    }
    this.#fold(seq, msgId, `history ${eventType} ${body.sha256} ${body.rows - dropped.length} ${dropped.length}`);
    return { kind: 'history', seq, eventType, body, dropped };
  }

  /**
   * The lines of `message` whose origins this partition has not seen, which
   * it now has (undefined: every line, for a message without an origin).
   * Events dropped here are copies of ones already counted, never duplicates
   * a client sent, so they are not reported as duplicates.
   */
  #unseenOrigins(message: Extract<LogMessage, { kind: 'events' }>): number[] | undefined {
    const origin = message.origin;
    if (origin === undefined) return undefined;
    let seen = this.#origins.get(origin.id);
    if (seen === undefined) this.#origins.set(origin.id, (seen = new OriginSet()));
    const end = origin.first + message.events.count;
    const lines = seen.missingFrom(origin.first, end).flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from - origin.first + i));
    seen.add(origin.first, end);
    return lines;
  }

  /**
   * Forgets the keys a seal names by hash (their events were erased), in one
   * pass over the type's keys. Every consumer and the archive's cursor reach
   * the seal at the same sequence, so they all forget there; a rule resumed
   * from the archive past it never held those keys (the objects were written
   * again without them), so it decides alike.
   */
  #forget(forget: ForgottenKeys): void {
    for (const [eventType, hashes] of Object.entries(forget)) {
      const erased = new Set(hashes);
      if (erased.size > 0) this.keys.forgetWhere(eventType, (key) => erased.has(keyHash(key)));
    }
  }

  #remember(msgId: string): void {
    if (msgId === '' || this.#window <= 0) return;
    const slot = this.#admittedMessages++ % this.#window;
    const evicted = this.#ring[slot];
    if (evicted !== undefined) this.#ids.delete(evicted);
    this.#ring[slot] = msgId;
    this.#ids.add(msgId);
  }
}
