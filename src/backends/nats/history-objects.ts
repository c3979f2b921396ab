/**
 * The staged objects of a cluster history import (`history-import.ts`), in
 * the object store under `history/`: per partition and chunk, a Parquet
 * object of the rows (the master dataset's columns, no `_offset`, in row
 * order) and, for a type with an idempotency key, a JSON object of the keys
 * (`{"keys": [...]}`, in row order). A history message names both.
 *
 * Every consumer reads the keys object (never the rows) before it applies
 * the duplicate rule to the message; the archivist reads the rows. An object
 * is checked against the message's SHA-256 wherever it is read.
 *
 * Staged objects no message names (an import that stopped between staging
 * and publishing) are read by nobody: they cost space, never a count. The
 * archive's sweep leaves `history/` alone; `tandem ingest --history` run
 * again with `--resume` stages anew under a new import id.
 *
 * @module
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobCorruptError, BlobMissingError } from '../../master/index.ts';
import { fileSha256 } from '../../util/checksums.ts';
import { HistoryObjectMissingError } from './errors.ts';
import type { LogMessage } from './log-message.ts';
import type { NamedBlobStore } from './object-blob-store.ts';

/** Where staged objects live in the object store. */
export const HISTORY_PREFIX = 'history/';

/** The names of one chunk's objects: `history/<type>/<import>/f<file>-p<p>-<chunk>.parquet` and `….keys.json`. */
export function historyObjectNames(eventType: string, importId: string, file: number, partition: number, chunk: number): { rows: string; keys: string } {
  const base = `${HISTORY_PREFIX}${eventType}/${importId}/f${file}-p${String(partition).padStart(3, '0')}-${String(chunk).padStart(6, '0')}`;
  return { rows: `${base}.parquet`, keys: `${base}.keys.json` };
}

/** What reads a history message's keys before the rule sees it. */
export type HistoryKeyReader = (message: Extract<LogMessage, { kind: 'history' }>) => Promise<readonly (string | null)[]>;

/**
 * Fetches `object` into `file` and checks its SHA-256;
 * {@link HistoryObjectMissingError} when the store lacks it or holds other bytes.
 */
export async function fetchHistoryObject(blobs: NamedBlobStore, object: string, sha256: string, file: string, at: { partition: number; seq: number }): Promise<void> {
  try {
    await blobs.get(object, file);
  } catch (error) {
    if (error instanceof BlobMissingError) throw new HistoryObjectMissingError(object, at.partition, at.seq, 'missing');
    if (error instanceof BlobCorruptError) throw new HistoryObjectMissingError(object, at.partition, at.seq, 'its bytes do not match its digest');
    throw error;
  }
  if ((await fileSha256(file)) !== sha256) {
    await rm(file, { force: true });
    throw new HistoryObjectMissingError(object, at.partition, at.seq, 'its SHA-256 differs from the message\'s');
  }
}

/**
 * The key reader of a node: fetches the keys object into `dir`, checks it,
 * and parses it (about 20 MB for 2^20 keys).
 *
 * @example
 * ```ts
 * log.readHistoryKeysWith(historyKeyReader(blobs, join(dataDir, 'cluster', 'history-keys')));
 * ```
 */
export function historyKeyReader(blobs: NamedBlobStore, dir: string): HistoryKeyReader {
  return async (message) => {
    const keys = message.body.keys;
    if (keys === undefined) return [];
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${randomBytes(8).toString('hex')}.json`);
    try {
      await fetchHistoryObject(blobs, keys.object, keys.sha256, file, message);
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { keys?: unknown };
      const list = parsed.keys;
      if (!Array.isArray(list) || list.length !== message.body.rows || !list.every((k) => k === null || typeof k === 'string')) {
        throw new HistoryObjectMissingError(keys.object, message.partition, message.seq, `it does not hold ${message.body.rows} keys`);
      }
      return list as (string | null)[];
    } finally {
      await rm(file, { force: true });
    }
  };
}
