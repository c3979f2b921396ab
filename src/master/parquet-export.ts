/**
 * Turns sealed segments into Parquet: per event type, the frames' NDJSON
 * payloads are concatenated into a temporary file that DuckDB converts, so no
 * row passes through JavaScript. Each file is written under a temporary name
 * and renamed; the segment's manifest is written last, so a crash at any point
 * leaves either a complete export or one that is redone.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalog, EventTypeSchema, Field } from '../definitions/index.ts';
import { sqlIdentifier, sqlStringLiteral } from '../definitions/index.ts';
import { CorruptLogError, LOST_RANGE_TYPE, scanSegment, segmentPath } from '../log/index.ts';
import { parquetRelativePath, rangeName, segmentManifestDir, type SegmentManifest } from './master-layout.ts';
import { readSegmentManifest, writeSegmentManifest } from './master-integrity.ts';
import { fileSha256 } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';

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
  return `COPY (SELECT ${select} FROM read_ndjson(${sqlStringLiteral(ndjsonPath)}, columns = {${columns.join(', ')}}, format = 'newline_delimited') ORDER BY _offset)
    TO ${sqlStringLiteral(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`;
}

export class ParquetExporter {
  constructor(
    private readonly catalog: Catalog,
    private readonly logDir: string,
    private readonly masterDir: string,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Exports segment `[base, end)` unless its manifest already exists. */
  async export(base: number, end: number): Promise<SegmentManifest> {
    const manifestPath = join(segmentManifestDir(this.masterDir), `${rangeName(base, end)}.json`);
    // A whole manifest means a finished export; a damaged one is redone from the segment, which is still here.
    const existing = await readSegmentManifest(manifestPath).catch(() => undefined);
    if (existing !== undefined) return existing;

    const path = segmentPath(this.logDir, base);
    const scan = await scanSegment(path, base);
    if (scan.problem !== undefined || scan.end !== end) {
      throw new CorruptLogError(path, scan.validBytes, scan.problem ?? `it ends at offset ${scan.end}, not ${end}`);
    }
    const payloads = new Map<string, Buffer[]>();
    const counts = new Map<string, number>();
    const lost: [number, number][] = [];
    for (const frame of scan.frames) {
      if (frame.eventType === LOST_RANGE_TYPE) {
        lost.push([frame.firstOffset, frame.firstOffset + frame.count]);
        continue;
      }
      payloads.set(frame.eventType, [...(payloads.get(frame.eventType) ?? []), frame.payload]);
      counts.set(frame.eventType, (counts.get(frame.eventType) ?? 0) + frame.count);
    }
    const files: Record<string, { path: string; rows: number; sha256: string }> = {};
    for (const [eventType, parts] of payloads) {
      const relative = parquetRelativePath(eventType, base, end);
      await this.#convert(eventType, parts, relative);
      files[eventType] = { path: relative, rows: counts.get(eventType)!, sha256: await fileSha256(join(this.masterDir, relative)) };
    }
    const manifest: SegmentManifest = { base, end, files, ...(lost.length > 0 ? { lost } : {}) };
    await mkdir(segmentManifestDir(this.masterDir), { recursive: true });
    await writeSegmentManifest(this.masterDir, manifest);
    return manifest;
  }

  async #convert(eventType: string, parts: Buffer[], relative: string): Promise<void> {
    const schema = this.catalog.eventTypes.get(eventType);
    if (schema === undefined) throw new Error(`The log holds events of type '${eventType}', which the config no longer defines.`);
    const target = join(this.masterDir, relative);
    const dir = join(this.masterDir, eventType);
    await mkdir(dir, { recursive: true });
    const ndjson = `${target}.ndjson.tmp`;
    try {
      await writeFile(ndjson, Buffer.concat(parts));
      await this.connection.run(exportSql(schema, ndjson, `${target}.tmp`));
      await rename(`${target}.tmp`, target);
      await syncDirectory(dir);
    } catch (error) {
      await rm(`${target}.tmp`, { force: true });
      throw error;
    } finally {
      await rm(ndjson, { force: true });
    }
  }
}

/** Removes temporary files a crash may have left in the master dataset. */
export async function removeTemporaryFiles(masterDir: string): Promise<void> {
  const entries = await readdir(masterDir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isFile() && e.name.endsWith('.tmp')) await rm(join(e.parentPath, e.name), { force: true });
}
