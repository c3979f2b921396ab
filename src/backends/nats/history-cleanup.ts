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
 * After a purge of the streams, partition `p` below `below.get(p)`: erases
 * the keys and rows objects of their history messages below those points,
 * and deletes outcomes kept long enough. One listing of {@link HISTORY_PREFIX}
 * serves every partition purged, since the store lists the whole bucket
 * (object names are not subjects it can filter on) whatever the prefix.
 * Resolves with the objects erased.
 *
 * @example
 * ```ts
 * const below = new Map<number, number>();
 * for (const [p, seq] of due) { await log.purgeBelow(p, seq); below.set(p, seq); }
 * await forgetHistoryBelow(blobs, below, scratchDir);
 * ```
 */
export async function forgetHistoryBelow(blobs: HistoryBlobs, below: ReadonlyMap<number, number>, scratch: string, now = Date.now()): Promise<number> {
  if (below.size === 0) return 0;
  const listed = await blobs.list(HISTORY_PREFIX);
  const present = new Set(listed.map((b) => b.name));
  let erased = 0;
  for (const info of listed) {
    const match = OUTCOME.exec(info.name);
    const seq = match === null ? undefined : below.get(Number(match[1]));
    if (seq === undefined) continue;
    erased += await eraseHolding(blobs, info.name, present, seq, scratch);
    if (info.storedAt !== undefined && now - info.storedAt > OUTCOME_KEEP_MS) await blobs.delete(info.name);
  }
  return erased;
}

/** Erases the keys and rows objects still beside outcome `outcome` when its message is below `seq`; resolves with how many. */
async function eraseHolding(blobs: HistoryBlobs, outcome: string, present: ReadonlySet<string>, seq: number, scratch: string): Promise<number> {
  const base = outcome.replace(/\.outcome\.json$/, '');
  const holding = [`${base}.keys.json`, `${base}.parquet`].filter((name) => present.has(name));
  if (holding.length === 0) return 0;
  const read = await readOutcome(blobs, outcome, scratch);
  if (read === undefined || read.seq >= seq) return 0;
  for (const name of holding) await blobs.erase(name);
  return holding.length;
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
