/**
 * Sending many events as several requests of a bounded size, and adding
 * their answers up into one. A batch the server refuses as too large
 * (413: more events than its `eventsPerRequest`, or a body over its byte
 * limit) stored nothing, so it is sent again in smaller batches: at the
 * limit the answer states, else half as many events.
 *
 * @module
 */
import type { IngestResult, RejectedEvent } from '../engine/engine-types.ts';
import type { IngestProgress } from './client-options.ts';
import { BodyTooLargeError, TooManyEventsError } from '../server/errors.ts';

/**
 * Sends one batch of events and returns the server's answer for it.
 *
 * @example
 * ```ts
 * const send: SendBatch = (events) => transport.send({ method: 'POST', path: 'v1/events/order', body: ndjsonBody(events) });
 * ```
 */
export type SendBatch = (events: readonly unknown[]) => Promise<IngestResult>;

/** The nothing-stored answer, for an empty ingest. */
export const NOTHING_INGESTED: IngestResult = Object.freeze({ accepted: 0, stored: 0, duplicates: 0, rejected: Object.freeze([]), firstOffset: null, lastOffset: null });

/**
 * The batch size to try after a refusal of `sent` events as too large, or
 * undefined when the error is no such refusal (or one event alone was refused).
 *
 * @example
 * ```ts
 * smallerBatch(new TooManyEventsError(1000, 300), 1000);   // 300
 * smallerBatch(bodyTooLarge, 1000);                        // 500
 * ```
 */
export function smallerBatch(error: unknown, sent: number): number | undefined {
  if (sent <= 1) return undefined;
  if (error instanceof TooManyEventsError) return error.limit >= 1 && error.limit < sent ? Math.floor(error.limit) : Math.ceil(sent / 2);
  if (error instanceof BodyTooLargeError) return Math.ceil(sent / 2);
  return undefined;
}

/**
 * Adds one batch's answer into the total; the batch's rejected indexes are
 * shifted by `start`, its position in the call.
 *
 * @example
 * ```ts
 * addBatch(total, { accepted: 9, stored: 9, duplicates: 0, rejected: [{ index: 2, field: 'at', error: '…' }], firstOffset: 40, lastOffset: 48 }, 1000);
 * // rejected index 1002; lastOffset 48
 * ```
 */
export function addBatch(total: IngestResult, batch: IngestResult, start: number): IngestResult {
  const rejected: RejectedEvent[] = batch.rejected.map((r) => ({ ...r, index: r.index + start }));
  return {
    accepted: total.accepted + batch.accepted,
    // Unknown for one batch (a cluster reader that did not count in time) is unknown for the whole call.
    stored: total.stored === null || batch.stored === null ? null : total.stored + batch.stored,
    duplicates: total.duplicates + batch.duplicates,
    rejected: rejected.length === 0 ? total.rejected : [...total.rejected, ...rejected],
    firstOffset: total.firstOffset ?? batch.firstOffset,
    lastOffset: batch.lastOffset ?? total.lastOffset,
    ...(batch.ignoredFields === undefined && total.ignoredFields === undefined
      ? {}
      : { ignoredFields: [...new Set([...total.ignoredFields ?? [], ...batch.ignoredFields ?? []])].sort() }),
    ...(batch.position === undefined && total.position === undefined ? {} : { position: laterPosition(total.position, batch.position) }),
  };
}

/** Per partition, the later of two cluster positions (either may be absent). */
function laterPosition(a: readonly number[] | undefined, b: readonly number[] | undefined): readonly number[] {
  if (a === undefined) return b!;
  if (b === undefined) return a;
  return a.map((seq, p) => Math.max(seq, b[p] ?? 0));
}

/**
 * Sends `events` in order, one batch at a time, each of at most `batchSize`
 * events, or fewer once the server refused a batch as too large. `learn` is
 * told the server's per-request limit when a refusal states it, so that
 * later calls start below it; a body too large in bytes says nothing about
 * the next call's events, and shrinks this call's batches only.
 *
 * @example
 * ```ts
 * const total = await sendInBatches(events, 1000, (batch) => post(batch), (limit) => (serverLimit = limit));
 * ```
 */
export async function sendInBatches(
  events: readonly unknown[],
  batchSize: number,
  send: SendBatch,
  learn: (limit: number) => void,
  onBatch?: (progress: IngestProgress) => void,
): Promise<IngestResult> {
  let total = NOTHING_INGESTED;
  let start = 0;
  let size = Math.max(1, Math.floor(batchSize));
  while (start < events.length) {
    const chunk = events.slice(start, start + size);
    let answer: IngestResult;
    try {
      answer = await send(chunk);
    } catch (error) {
      const smaller = smallerBatch(error, chunk.length);
      if (smaller === undefined) throw error;
      if (error instanceof TooManyEventsError && error.limit >= 1) learn(error.limit);
      size = smaller;
      continue;
    }
    const batch = addBatch(NOTHING_INGESTED, answer, start);
    total = addBatch(total, answer, start);
    start += chunk.length;
    onBatch?.({ batch, sent: start, total: events.length });
  }
  return total;
}
