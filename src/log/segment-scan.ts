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
  /** When reading stopped early: the next intact frame, if any. None means a torn tail; one means damage. */
  readonly resumesAt?: { readonly position: number; readonly frame: Frame };
  /** Whether every byte from the problem up to {@link resumesAt} is zero, as a power loss leaves unwritten pages. */
  readonly gapIsZeros?: boolean;
}

export async function scanSegment(path: string, base: number): Promise<SegmentScan> {
  return scanSegmentBytes(await readFile(path), base);
}

/** Reads frames from the start of `buffer` while they are intact and their offsets follow on from `base`. */
export function scanSegmentBytes(buffer: Buffer, base: number): SegmentScan {
  const frames: Frame[] = [];
  let position = 0;
  let end = base;
  while (position < buffer.length) {
    const frame = decodeFrame(buffer, position);
    const problem = typeof frame === 'string' ? frame : frame.firstOffset !== end ? `offset ${frame.firstOffset} where ${end} was due` : undefined;
    if (problem !== undefined) {
      const resumesAt = nextIntactFrame(buffer, position, end);
      const gapIsZeros = resumesAt !== undefined && buffer.subarray(position, resumesAt.position).every((b) => b === 0);
      return { frames, validBytes: position, fileBytes: buffer.length, end, problem, resumesAt, gapIsZeros };
    }
    const intact = frame as Frame;
    frames.push(intact);
    end += intact.count;
    position += intact.size;
  }
  return { frames, validBytes: position, fileBytes: buffer.length, end };
}

/**
 * The first intact frame after `from` that starts at offset `minOffset` or
 * later, found by trying every byte position: what tells a torn tail (nothing
 * intact follows) from damage in the middle (acknowledged frames follow), and
 * where reading can resume after damage. Most positions fail on the length
 * field alone, so the walk is linear in practice.
 */
function nextIntactFrame(buffer: Buffer, from: number, minOffset: number): { readonly position: number; readonly frame: Frame } | undefined {
  for (let position = from + 1; position < buffer.length; position++) {
    const frame = decodeFrame(buffer, position);
    if (typeof frame !== 'string' && frame.firstOffset >= minOffset) return { position, frame };
  }
  return undefined;
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
