/**
 * A history import's commit record, `<master>/_history/<first>-<end>.json`:
 * written (checksummed, atomically) once the import's Parquet files are
 * durable, it is what makes them part of the master dataset. The log's
 * history frame only claims the offsets; a range whose record never came
 * (a crash mid-import) holds no events, and its files are removed.
 *
 * @module
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checksumMatches, withChecksum } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { CorruptMasterFileError } from './errors.ts';
import { rangeName, type HistoryPart } from './master-layout.ts';

const RECORD_NAME = /^(\d{20})-(\d{20})\.json$/;

export function historyDir(masterDir: string): string {
  return join(masterDir, '_history');
}

/** The Parquet file of an import's range, relative to the master directory. */
export function historyFilePath(eventType: string, first: number, end: number): string {
  return join('_history', eventType, `${rangeName(first, end)}.parquet`);
}

function recordPath(masterDir: string, first: number, end: number): string {
  return join(historyDir(masterDir), `${rangeName(first, end)}.json`);
}

/** Commits an import: its record, durable, after its files. */
export async function writeHistoryRecord(masterDir: string, part: HistoryPart): Promise<void> {
  const dir = historyDir(masterDir);
  const path = recordPath(masterDir, part.first, part.end);
  await mkdir(dir, { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(withChecksum(part)), { flush: true });
  await rename(`${path}.tmp`, path);
  await syncDirectory(dir);
}

/**
 * The committed import of `[first, end)`, or undefined when none committed.
 * A record that does not check out throws {@link CorruptMasterFileError}:
 * taking it for absent would silently drop a committed import.
 */
export async function readHistoryRecord(masterDir: string, first: number, end: number): Promise<HistoryPart | undefined> {
  const path = recordPath(masterDir, first, end);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new CorruptMasterFileError(path, 'it cannot be read', { cause: error });
  });
  if (text === undefined) return undefined;
  let parsed: HistoryPart & { checksum?: string };
  try {
    parsed = JSON.parse(text) as HistoryPart & { checksum?: string };
  } catch (error) {
    throw new CorruptMasterFileError(path, 'it is not JSON', { cause: error });
  }
  if (!checksumMatches(parsed)) throw new CorruptMasterFileError(path, 'its checksum does not match its content');
  const { checksum: _checksum, ...part } = parsed;
  return part;
}

/**
 * Removes the files of imports that never committed (a crash before the
 * record): they are no part of the master dataset, and an import started
 * again claims new offsets. Run only while no import is under way.
 */
export async function removeUncommittedHistory(masterDir: string): Promise<number> {
  const dir = historyDir(masterDir);
  const committed = new Set<string>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = RECORD_NAME.exec(name);
    if (match !== null) committed.add(`${match[1]}-${match[2]}.parquet`);
  }
  let removed = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const type of entries.filter((e) => e.isDirectory())) {
    for (const name of await readdir(join(dir, type.name))) {
      if (committed.has(name)) continue;
      await rm(join(dir, type.name, name), { force: true });
      removed++;
    }
  }
  return removed;
}

/** Every committed import's record, oldest first. */
export async function committedImports(masterDir: string): Promise<HistoryPart[]> {
  const parts: HistoryPart[] = [];
  for (const name of (await readdir(historyDir(masterDir)).catch(() => [] as string[])).sort()) {
    const match = RECORD_NAME.exec(name);
    if (match === null) continue;
    const part = await readHistoryRecord(masterDir, Number(match[1]), Number(match[2]));
    if (part !== undefined) parts.push(part);
  }
  return parts;
}
