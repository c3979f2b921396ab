/**
 * Reading a segment back: the frames it holds, and where (if anywhere) its
 * valid prefix ends.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Row } from '../definitions/index.ts';
import { decodeFrame, type Frame } from './frame.ts';

export interface SegmentScan {
  readonly frames: readonly Frame[];
  /** Bytes of valid frames from the start of the file. */
  readonly validBytes: number;
  readonly fileBytes: number;
  /** One past the last offset of the valid frames. */
  readonly end: number;
  /** Why reading stopped before the end of the file, if it did. */
  readonly problem?: string;
}

export async function scanSegment(path: string, base: number): Promise<SegmentScan> {
  const buffer = await readFile(path);
  const frames: Frame[] = [];
  let position = 0;
  let end = base;
  while (position < buffer.length) {
    const frame = decodeFrame(buffer, position);
    if (typeof frame === 'string') return { frames, validBytes: position, fileBytes: buffer.length, end, problem: frame };
    if (frame.firstOffset !== end) {
      return { frames, validBytes: position, fileBytes: buffer.length, end, problem: `offset ${frame.firstOffset} where ${end} was due` };
    }
    frames.push(frame);
    end += frame.count;
    position += frame.size;
  }
  return { frames, validBytes: position, fileBytes: buffer.length, end };
}

/** A logged row with the offset the log gave it. */
export type LoggedRow = Row & { readonly _offset: number };

export function frameRows(frame: Frame): LoggedRow[] {
  const text = frame.payload.toString('utf8');
  const rows: LoggedRow[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    rows.push(JSON.parse(text.slice(start, nl)) as LoggedRow);
    start = nl + 1;
  }
  return rows;
}
