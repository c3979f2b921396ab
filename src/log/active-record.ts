/**
 * `log/ACTIVE`: the base of the newest segment, written whenever a segment
 * is created. A segment's range is read off the listing, so without it the
 * newest segment's loss could not be told from a log that ends where the one
 * before it does; with it, a listing whose newest segment starts before the
 * recorded base has lost that segment. It is written only after the new
 * segment's directory entry is durable, so a crash between the two leaves a
 * record naming the older segment, never one naming a file that is not there.
 *
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../util/sync-directory.ts';

const NAME = 'ACTIVE';

/** The recorded base of the newest segment, or undefined when no record reads whole (an older log, or one deleted). */
export async function readActiveBase(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, NAME), 'utf8').catch(() => undefined);
  return text !== undefined && /^\d{1,20}\n$/.test(text) ? Number(text) : undefined;
}

/** Records `base` as the newest segment's, atomically and durably. */
export async function writeActiveBase(dir: string, base: number): Promise<void> {
  const path = join(dir, NAME);
  await writeFile(`${path}.tmp`, `${base}\n`, { flush: true });
  await rename(`${path}.tmp`, path);
  await syncDirectory(dir);
}
