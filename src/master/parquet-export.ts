/**
 * Turns sealed segments into Parquet: per event type, the frames' NDJSON
 * payloads are concatenated into a temporary file (by a worker thread, see
 * `segment-split.ts`) that DuckDB converts, so no row passes through
 * JavaScript and the main thread only waits. Each file is written under a temporary name
 * and renamed; the segment's manifest is written last, so a crash at any point
 * leaves either a complete export or one that is redone.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalog, EventTypeSchema, Field } from '../definitions/index.ts';
import { sqlIdentifier, sqlStringLiteral } from '../definitions/index.ts';
import { CorruptLogError, segmentPath, type HistoryRange } from '../log/index.ts';
import { parquetRelativePath, rangeName, segmentManifestDir, type HistoryPart, type SegmentManifest } from './master-layout.ts';
import { readHistoryRecord } from './history-record.ts';
import { readSegmentManifest, writeSegmentManifest } from './master-integrity.ts';
import { fileSha256 } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { siblingModule } from '../util/start-worker.ts';
import { WorkerClient } from '../util/worker-client.ts';
import { splitSegment, type SplitReply, type SplitRequest } from './segment-split.ts';

const JSON_TYPE: Record<Field['type'], string> = { string: 'VARCHAR', number: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'BIGINT' };

/** How a logged (normalized) value becomes its Parquet column: exact DECIMAL for numbers, TIMESTAMP for times. */
function parquetColumn(field: Field): string {
  const column = sqlIdentifier(field.name);
  switch (field.type) {
    case 'number':
      return field.scale === 0
        ? `CAST(${column} AS DECIMAL(18, 0)) AS ${column}`
        : `CAST(CAST(${column} AS DECIMAL(18, 0)) * CAST('${(10 ** -field.scale).toFixed(field.scale)}' AS DECIMAL(18, ${field.scale})) AS DECIMAL(18, ${field.scale})) AS ${column}`;
    case 'timestamp':
      return `epoch_ms(${column}) AS ${column}`;
    default:
      return column;
  }
}

export function exportSql(schema: EventTypeSchema, ndjsonPath: string, parquetPath: string): string {
  const columns = [`'_offset': 'BIGINT'`, ...schema.fields.map((f) => `${sqlStringLiteral(f.name)}: '${JSON_TYPE[f.type]}'`)];
  const select = ['_offset', ...schema.fields.map(parquetColumn)].join(', ');
  // No ORDER BY: the lines are in offset order already, and DuckDB keeps the order it reads in (preserve_insertion_order).
  return `COPY (SELECT ${select} FROM read_ndjson(${sqlStringLiteral(ndjsonPath)}, columns = {${columns.join(', ')}}, format = 'newline_delimited'))
    TO ${sqlStringLiteral(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`;
}

export class ParquetExporter {
  readonly #splitter: WorkerClient<SplitRequest, SplitReply | null>;

  constructor(
    private readonly catalog: Catalog,
    private readonly logDir: string,
    private readonly masterDir: string,
    private readonly connection: DuckDBConnection,
  ) {
    // A worker that cannot start, or dies, leaves the main thread to split segments itself: slower to others, never wrong.
    this.#splitter = new WorkerClient(siblingModule('segment-split-worker', import.meta.url), undefined, () => undefined);
  }

  /** Exports segment `[base, end)` unless its manifest already exists. */
  /** Exports segment `[base, end)`; `redo` exports it again over a whole manifest whose files were found damaged. */
  async export(base: number, end: number, redo = false): Promise<SegmentManifest> {
    const manifestPath = join(segmentManifestDir(this.masterDir), `${rangeName(base, end)}.json`);
    // A whole manifest means a finished export; a damaged one is redone from the segment, which is still here.
    const existing = redo ? undefined : await readSegmentManifest(manifestPath).catch(() => undefined);
    if (existing !== undefined) return existing;

    const path = segmentPath(this.logDir, base);
    // Under `_split`, which no reader of the master dataset takes for an event type's directory.
    const scratch = join(this.masterDir, '_split', rangeName(base, end));
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    try {
      const request: SplitRequest = { path, base, end, dir: scratch };
      // A worker still starting (the first export of a process) is waited for: splitting on the main thread
      // stalled every request for as long as reading and checking the whole segment took (1 s for 40 MB, issue #29).
      const split = ((await this.#splitter.whenReady()) ? await this.#splitter.request(request) : undefined) ?? splitSegment(request);
      if (!split.ok) throw new CorruptLogError(path, split.validBytes, split.problem);
      const files: Record<string, { path: string; rows: number; sha256: string }> = {};
      for (const { eventType, file, rows } of split.files) {
        const relative = parquetRelativePath(eventType, base, end);
        await this.#convert(eventType, file, relative);
        files[eventType] = { path: relative, rows, sha256: await fileSha256(join(this.masterDir, relative)) };
      }
      const history = await historyParts(this.masterDir, split.history);
      const manifest: SegmentManifest = { base, end, files, ...(split.lost.length > 0 ? { lost: [...split.lost] } : {}), ...(history.length > 0 ? { history } : {}) };
      await mkdir(segmentManifestDir(this.masterDir), { recursive: true });
      await writeSegmentManifest(this.masterDir, manifest);
      return manifest;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async #convert(eventType: string, ndjson: string, relative: string): Promise<void> {
    const schema = this.catalog.eventTypes.get(eventType);
    if (schema === undefined) throw new Error(`The log holds events of type '${eventType}', which the config no longer defines.`);
    const target = join(this.masterDir, relative);
    const dir = join(this.masterDir, eventType);
    await mkdir(dir, { recursive: true });
    try {
      await this.connection.run(exportSql(schema, ndjson, `${target}.tmp`));
      await rename(`${target}.tmp`, target);
      await syncDirectory(dir);
    } catch (error) {
      await rm(`${target}.tmp`, { force: true });
      throw error;
    }
  }

  /** Stops the worker. */
  close(): Promise<void> {
    return this.#splitter.close();
  }
}

/** The history imports a segment's frames claim ranges for, each with its committed files (none if it never committed). */
async function historyParts(masterDir: string, ranges: readonly HistoryRange[]): Promise<HistoryPart[]> {
  const parts: HistoryPart[] = [];
  for (const range of ranges) parts.push(await readHistoryRecord(masterDir, range.first, range.end) ?? { ...range, files: [] });
  return parts;
}

/** Removes temporary files a crash may have left in the master dataset, and the split segments of an export it cut short. */
export async function removeTemporaryFiles(masterDir: string): Promise<void> {
  await rm(join(masterDir, '_split'), { recursive: true, force: true });
  const entries = await readdir(masterDir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isFile() && e.name.endsWith('.tmp')) await rm(join(e.parentPath, e.name), { force: true });
}
