/**
 * Splitting a sealed segment into one NDJSON file per event type, the first
 * step of its export to Parquet: read the file, check every frame, and write
 * each type's payloads (their rows, `_offset` included) to its own file.
 * It runs in a worker thread (`segment-split-worker.ts`): on the main thread
 * it read, checked and copied a whole 64 MiB segment in one go, and stalled
 * every request meanwhile (up to 118 ms measured during batch cycles, issue
 * #19). The main thread runs it itself only when no worker can.
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyRangeOf, LOST_RANGE_TYPE, scanSegmentBytes, type HistoryRange } from '../log/index.ts';

export interface SplitRequest {
  readonly path: string;
  readonly base: number;
  readonly end: number;
  /** Where to write `<n>.ndjson`, one per event type, numbered in order of first appearance. */
  readonly dir: string;
}

export type SplitReply =
  | { readonly ok: true; readonly files: readonly { readonly eventType: string; readonly file: string; readonly rows: number }[]; readonly lost: readonly [number, number][]; readonly history: readonly HistoryRange[] }
  | { readonly ok: false; readonly validBytes: number; readonly problem: string };

/** Splits the segment; the reply says what went where, or why the segment cannot be read whole. */
export function splitSegment(request: SplitRequest): SplitReply {
  const scan = scanSegmentBytes(readFileSync(request.path), request.base);
  if (scan.problem !== undefined || scan.end !== request.end) {
    return { ok: false, validBytes: scan.validBytes, problem: scan.problem ?? `it ends at offset ${scan.end}, not ${request.end}` };
  }
  const byType = new Map<string, { parts: Buffer[]; rows: number }>();
  const lost: [number, number][] = [];
  const history: HistoryRange[] = [];
  for (const frame of scan.frames) {
    const range = historyRangeOf(frame);
    if (range !== undefined) {
      history.push(range);
      continue;
    }
    if (frame.eventType === LOST_RANGE_TYPE) {
      lost.push([frame.firstOffset, frame.firstOffset + frame.count]);
      continue;
    }
    const entry = byType.get(frame.eventType) ?? { parts: [], rows: 0 };
    entry.parts.push(frame.payload);
    entry.rows += frame.count;
    byType.set(frame.eventType, entry);
  }
  const files = [...byType].map(([eventType, { parts, rows }], n) => {
    const file = join(request.dir, `${n}.ndjson`);
    writeFileSync(file, Buffer.concat(parts));
    return { eventType, file, rows };
  });
  return { ok: true, files, lost, history };
}
