/**
 * The log's record of a history import: one frame, with no rows, that claims
 * offsets `[first, first + count)` for events stored straight in the master
 * dataset as Parquet (`tandem ingest --history`). Offsets stay gap-free, so
 * the log, the cutoffs and the coverage checks need to know nothing more;
 * the speed layer never sees these events (replay passes over a frame whose
 * type the catalog does not declare), and the segment's export lists the
 * import's Parquet files in its manifest.
 *
 * @module
 */
import { encodeFrame, type Frame } from './frame.ts';

/** The type of a history frame: no event type can be named so (names start with a letter). */
export const HISTORY_RANGE_TYPE = '#history';

/** What a history frame says: the event type whose history it holds. */
export interface HistoryRange {
  readonly eventType: string;
  readonly first: number;
  readonly end: number;
}

/**
 * The frame claiming `[first, first + count)` for history of `eventType`.
 *
 * @example
 * ```ts
 * const frame = encodeHistoryFrame('order', 1_000, 5_000_000);
 * ```
 */
export function encodeHistoryFrame(eventType: string, first: number, count: number): Buffer {
  return encodeFrame(HISTORY_RANGE_TYPE, first, count, `${JSON.stringify({ eventType })}\n`);
}

/** The range a history frame claims, or undefined for any other frame. */
export function historyRangeOf(frame: Frame): HistoryRange | undefined {
  if (frame.eventType !== HISTORY_RANGE_TYPE) return undefined;
  const { eventType } = JSON.parse(frame.payload.toString('utf8')) as { eventType: string };
  return { eventType, first: frame.firstOffset, end: frame.firstOffset + frame.count };
}
