/**
 * Staged history objects once the stream no longer holds the messages that
 * name them. A keys object (`….keys.json`) is read by every consumer of its
 * history message, so it must stay while the message is in the stream; once
 * the stream is purged below it, a consumer resumes from the archive's
 * snapshot at or past the purge point and never reads it again. It holds
 * idempotency keys in clear, which an erasure must not leave behind, so it
 * is erased (each chunk overwritten in the servers' files), with any rows
 * object an import that stopped before its own cleanup left.
 *
 * What maps an object to its message is the outcome object the archivist
 * writes when it archives the message (`history-archive.ts`: its sequence
 * and counts, no values). The import reads it after the publish, so
 * outcomes stay for {@link OUTCOME_KEEP_MS} after they were stored, then go.
 *
 * @module
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BlobInfo } from '../../master/index.ts';
import { HISTORY_PREFIX } from './history-objects.ts';

/** How long an outcome object stays after it was stored: an import reads it right after the publish that archived its message. */
export const OUTCOME_KEEP_MS = 24 * 3_600_000;

/** What the cleanup needs of the object store: objects holding values are erased, not only deleted. */
export interface HistoryBlobs {
  list(prefix: string): Promise<BlobInfo[]>;
  get(name: string, file: string): Promise<BlobInfo>;
  delete(name: string): Promise<void>;
  erase(name: string): Promise<void>;
}

const OUTCOME = /-p(\d{3})-\d{6}\.outcome\.json$/;

/**
 * After partition `partition`'s stream was purged below `seq`: erases the
 * keys and rows objects of its history messages below `seq`, and deletes
 * outcomes kept long enough. Resolves with the objects erased.
 *
 * @example
 * ```ts
 * await log.purgeBelow(p, seq);
 * await forgetHistoryBelow(blobs, p, seq, scratchDir);
 * ```
 */
export async function forgetHistoryBelow(blobs: HistoryBlobs, partition: number, seq: number, scratch: string, now = Date.now()): Promise<number> {
  const listed = await blobs.list(HISTORY_PREFIX);
  const present = new Set(listed.map((b) => b.name));
  let erased = 0;
  for (const info of listed) {
    const match = OUTCOME.exec(info.name);
    if (match === null || Number(match[1]) !== partition) continue;
    const base = info.name.replace(/\.outcome\.json$/, '');
    const holding = [`${base}.keys.json`, `${base}.parquet`].filter((name) => present.has(name));
    if (holding.length > 0) {
      const outcome = await readOutcome(blobs, info.name, scratch);
      if (outcome === undefined || outcome.seq >= seq) continue;
      for (const name of holding) await blobs.erase(name);
      erased += holding.length;
    }
    if (info.storedAt !== undefined && now - info.storedAt > OUTCOME_KEEP_MS) await blobs.delete(info.name);
  }
  return erased;
}

/** An outcome's sequence; undefined when it is gone meanwhile or does not read as one (it is then left alone). */
async function readOutcome(blobs: HistoryBlobs, name: string, scratch: string): Promise<{ seq: number } | undefined> {
  const file = join(scratch, `outcome-${randomBytes(6).toString('hex')}.json`);
  try {
    await blobs.get(name, file);
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { seq?: unknown };
    return typeof parsed.seq === 'number' ? { seq: parsed.seq } : undefined;
  } catch {
    return undefined;
  } finally {
    await rm(file, { force: true });
  }
}
