/**
 * Where the log keeps its files. Segment names carry their first offset, so
 * the sealed range of every segment follows from the listing alone.
 *
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const SEGMENT_SUFFIX = '.seg';

export function offsetName(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function segmentFileName(base: number): string {
  return `${offsetName(base)}${SEGMENT_SUFFIX}`;
}

/** First offsets of the segments in `dir`, ascending. */
export async function listSegmentBases(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  return names
    .filter((n) => /^\d{20}\.seg$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

export function segmentPath(dir: string, base: number): string {
  return join(dir, segmentFileName(base));
}
