/**
 * Integrity of the master dataset's Parquet side. Each segment manifest holds
 * a SHA-256 per Parquet file and a checksum of its own content. Files are
 * checked before every batch run reads them, since a flipped bit in a Parquet
 * page can decode without error and would put wrong numbers in every view.
 * A damaged manifest is only metadata: it is rebuilt from the Parquet files
 * themselves, which must then hold exactly the events of its offset range.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlStringLiteral } from '../definitions/index.ts';
import { checksumMatches, fileSha256, readFailure, withChecksum } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { CorruptMasterFileError } from './errors.ts';
import { historyDir, readHistoryRecord } from './history-record.ts';
import { manifestFiles, rangeName, segmentManifestDir, type HistoryPart, type SegmentManifest } from './master-layout.ts';

const MANIFEST_NAME = /^(\d{20})-(\d{20})\.json$/;

/** A segment manifest that failed to parse or to match its checksum. */
export interface DamagedManifest {
  readonly file: string;
  readonly base: number;
  readonly end: number;
  readonly reason: string;
}

/** Every segment manifest, oldest first, with the damaged ones set apart. */
export async function readSegmentManifests(masterDir: string): Promise<{ manifests: SegmentManifest[]; damaged: DamagedManifest[] }> {
  const dir = segmentManifestDir(masterDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => MANIFEST_NAME.test(n)).sort();
  const manifests: SegmentManifest[] = [];
  const damaged: DamagedManifest[] = [];
  for (const name of names) {
    const [, base, end] = MANIFEST_NAME.exec(name)!;
    const file = join(dir, name);
    try {
      manifests.push(await readSegmentManifest(file));
    } catch (error) {
      damaged.push({ file, base: Number(base), end: Number(end), reason: (error as Error).message.replace(/\.$/, '') });
    }
  }
  return { manifests, damaged };
}

/** One segment manifest; throws (saying why) when it does not parse or does not match its checksum. */
export async function readSegmentManifest(file: string): Promise<SegmentManifest> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as SegmentManifest & { checksum?: string };
  if (!checksumMatches(parsed)) throw new Error('its checksum does not match its content');
  return parsed;
}

/** Writes a segment manifest with its checksum, atomically. */
export async function writeSegmentManifest(masterDir: string, manifest: SegmentManifest): Promise<void> {
  const dir = segmentManifestDir(masterDir);
  const path = join(dir, `${rangeName(manifest.base, manifest.end)}.json`);
  // A manifest read back carries its old checksum, which must not be part of what the new one is taken over.
  const { checksum: _old, ...content } = manifest as SegmentManifest & { readonly checksum?: string };
  await writeFile(`${path}.tmp`, JSON.stringify(withChecksum(content)), { flush: true });
  await rename(`${path}.tmp`, path);
  await syncDirectory(dir);
}

/** Throws {@link CorruptMasterFileError} unless every file of `manifests` has the SHA-256 it was written with. */
export async function verifyMasterFiles(masterDir: string, manifests: readonly SegmentManifest[]): Promise<void> {
  for (const manifest of manifests) {
    for (const { file: entry } of manifestFiles(manifest)) {
      const path = join(masterDir, entry.path);
      const actual = await fileSha256(path).catch((error: unknown) => {
        throw new CorruptMasterFileError(path, readFailure(error), { cause: error });
      });
      if (actual !== entry.sha256) throw new CorruptMasterFileError(path, 'its SHA-256 does not match the one taken when it was written');
    }
  }
}

/**
 * Rebuilds a damaged manifest whose log segment is gone, from the Parquet
 * files named after its range: each must read, and hold only offsets in it.
 */
export async function rebuildSegmentManifest(masterDir: string, damaged: DamagedManifest, connection: DuckDBConnection): Promise<SegmentManifest> {
  const range = rangeName(damaged.base, damaged.end);
  const files: Record<string, { path: string; rows: number; sha256: string }> = {};
  const types = (await readdir(masterDir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('_'));
  for (const type of types) {
    const relative = join(type.name, `${range}.parquet`);
    const path = join(masterDir, relative);
    const sha256 = await fileSha256(path).catch(() => undefined);
    if (sha256 === undefined) continue;
    const read = await connection.runAndReadAll(`SELECT count(*), min(_offset), max(_offset) FROM read_parquet(${sqlStringLiteral(path)})`)
      .catch((error: unknown) => { throw new CorruptMasterFileError(path, 'DuckDB cannot read it as Parquet', { cause: error }); });
    const [rows, min, max] = read.getRows()[0]!.map(Number) as [number, number, number];
    if (rows > 0 && (min < damaged.base || max >= damaged.end)) throw new CorruptMasterFileError(path, `it holds offsets ${min}–${max}, outside its range`);
    files[type.name] = { path: relative, rows, sha256 };
  }
  const history = await committedImportsWithin(masterDir, damaged.base, damaged.end);
  // An import's range counts whole: its rejected and duplicate rows left their offsets unused.
  const rows = Object.values(files).reduce((n, f) => n + f.rows, 0) + history.reduce((n, h) => n + h.end - h.first, 0);
  if (rows !== damaged.end - damaged.base) {
    throw new CorruptMasterFileError(damaged.file, `its Parquet files hold ${rows.toLocaleString('en-US')} events where ${(damaged.end - damaged.base).toLocaleString('en-US')} were due, so one of them is missing or cut short`);
  }
  const manifest: SegmentManifest = { base: damaged.base, end: damaged.end, files, ...(history.length > 0 ? { history } : {}) };
  await rm(damaged.file, { force: true });
  await writeSegmentManifest(masterDir, manifest);
  return manifest;
}

/** The committed history imports whose ranges lie in `[base, end)`, from their records. */
async function committedImportsWithin(masterDir: string, base: number, end: number): Promise<HistoryPart[]> {
  const parts: HistoryPart[] = [];
  for (const name of (await readdir(historyDir(masterDir)).catch(() => [] as string[])).sort()) {
    const match = MANIFEST_NAME.exec(name);
    if (match === null || Number(match[1]) < base || Number(match[2]) > end) continue;
    const part = await readHistoryRecord(masterDir, Number(match[1]), Number(match[2]));
    if (part !== undefined) parts.push(part);
  }
  return parts;
}
