/**
 * Rebuilds a damaged log segment from its export in the master dataset.
 *
 * A segment exported before it was damaged (in the background, as it rolled
 * over) has a whole copy in Parquet, checked against the SHA-256s its
 * manifest took. Salvaging the log alone would drop the damaged frames'
 * events from the log while the Parquet copy kept them, and the speed layer
 * (replaying the log) and the batch layer (reading Parquet) would disagree.
 * Restoring the segment from the copy keeps every event, in every layer.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { scaledIntegerSql, sqlIdentifier, sqlStringLiteral } from '../definitions/index.ts';
import { encodeFrame, encodeHistoryFrame, LOST_RANGE_TYPE } from '../log/index.ts';
import { readSegmentManifest, verifyMasterFiles } from './master-integrity.ts';
import { rangeName, segmentManifestDir, type SegmentManifest } from './master-layout.ts';

/** A segment's frames rebuilt from its export, and the manifest they came from. */
export interface RestoredSegment {
  readonly frames: Buffer[];
  readonly source: string;
}

interface LoggedLine {
  readonly offset: number;
  readonly eventType: string;
  readonly line: string;
}

/**
 * The select expression that turns a Parquet column back into the log's
 * normalized value: numbers as scaled integers, timestamps as epoch ms.
 * Every such value is a safe integer, so a double carries it exactly.
 */
function loggedValue(name: string, type: string): string {
  const column = sqlIdentifier(name);
  const decimal = /^DECIMAL\(\d+,(\d+)\)$/.exec(type);
  if (decimal !== null) return `CAST(${scaledIntegerSql(column, Number(decimal[1]))} AS DOUBLE)`;
  if (type.startsWith('TIMESTAMP')) return `CAST(epoch_ms(${column}) AS DOUBLE)`;
  if (type === 'BIGINT' || type === 'INTEGER') return `CAST(${column} AS DOUBLE)`;
  return column;
}

async function linesOf(connection: DuckDBConnection, eventType: string, path: string): Promise<LoggedLine[]> {
  const source = `read_parquet(${sqlStringLiteral(path)})`;
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  const columns = described.getRows().map(([name, type]) => ({ name: String(name), type: String(type) }));
  const read = await connection.runAndReadAll(`SELECT ${columns.map((c) => loggedValue(c.name, c.type)).join(', ')} FROM ${source} ORDER BY _offset`);
  return read.getRows().map((values) => {
    const row: Record<string, unknown> = {};
    columns.forEach((c, i) => (row[c.name] = values[i] ?? null));
    return { offset: row._offset as number, eventType, line: `${JSON.stringify(row)}\n` };
  });
}

/**
 * Frames for every offset of `[base, end)`: one per run of consecutive
 * offsets of one event type, and one per range the export recorded as
 * lost, and one per history import's claim. Undefined unless the lines and lost ranges cover the range exactly.
 */
function framesOf(lines: readonly LoggedLine[], manifest: SegmentManifest): Buffer[] | undefined {
  const lost = (manifest.lost ?? []).map(([from, to]) => ({ from, to }));
  const sorted = [...lines].sort((a, b) => a.offset - b.offset);
  const frames: Buffer[] = [];
  let next = manifest.base;
  let at = 0;
  while (next < manifest.end) {
    const history = manifest.history?.find((part) => part.first === next);
    if (history !== undefined) {
      // Its events are in the import's own files, as before: the log keeps only the claim.
      frames.push(encodeHistoryFrame(history.eventType, history.first, history.end - history.first));
      next = history.end;
      continue;
    }
    const gap = lost.find((range) => range.from === next);
    if (gap !== undefined) {
      frames.push(encodeFrame(LOST_RANGE_TYPE, gap.from, gap.to - gap.from, Buffer.alloc(0)));
      next = gap.to;
      continue;
    }
    const first = sorted[at];
    if (first?.offset !== next) return undefined;
    let last = at + 1;
    while (last < sorted.length && sorted[last]!.eventType === first.eventType && sorted[last]!.offset === next + (last - at)) last++;
    frames.push(encodeFrame(first.eventType, next, last - at, sorted.slice(at, last).map((l) => l.line).join('')));
    next += last - at;
    at = last;
  }
  return at === sorted.length && next === manifest.end ? frames : undefined;
}

/**
 * The frames of segment `[base, end)` rebuilt from its export in
 * `masterDir`, or undefined when it has no export, or one whose manifest
 * or files do not check out: then only salvage is left.
 *
 * @example
 * ```ts
 * const restored = await restoreSegment(connection, './data/master', 0, 5_000);
 * if (restored !== undefined) console.log(`rebuilt from ${restored.source}`);
 * ```
 */
export async function restoreSegment(connection: DuckDBConnection, masterDir: string, base: number, end: number): Promise<RestoredSegment | undefined> {
  const source = join(segmentManifestDir(masterDir), `${rangeName(base, end)}.json`);
  try {
    const manifest = await readSegmentManifest(source);
    if (manifest.base !== base || manifest.end !== end) return undefined;
    await verifyMasterFiles(masterDir, [manifest]);
    const lines: LoggedLine[] = [];
    for (const [eventType, file] of Object.entries(manifest.files)) lines.push(...await linesOf(connection, eventType, join(masterDir, file.path)));
    const frames = framesOf(lines, manifest);
    return frames === undefined ? undefined : { frames, source };
  } catch {
    // No export, or a damaged one: the log's own salvage is all there is.
    return undefined;
  }
}
