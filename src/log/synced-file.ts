/**
 * The active segment's file handle, opened so that a write returns only once
 * its bytes are durable.
 *
 * With O_DSYNC each write is made durable as if an `fdatasync` followed it,
 * inside the same system call: one trip to Node's thread pool per commit
 * group instead of two, which shortens the time from write to durable
 * (docs/benchmarks.md has the figures), and the main thread pays one
 * hand-off less per group. Where the platform has no
 * O_DSYNC (Windows), writes are followed by an explicit `fdatasync`.
 *
 * @module
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const DSYNC: number | undefined = constants.O_DSYNC;

/** Opens `path` for reading and writing, so that its writes are durable once {@link syncWrites} resolves; `create` makes it, or empties it. */
export async function openSynced(path: string, create: boolean): Promise<FileHandle> {
  if (DSYNC === undefined) return open(path, create ? 'w+' : 'r+');
  return open(path, constants.O_RDWR | DSYNC | (create ? constants.O_CREAT | constants.O_TRUNC : 0), 0o666);
}

/** Makes the writes so far to a file from {@link openSynced} durable: nothing left to do where O_DSYNC did it. */
export async function syncWrites(file: FileHandle): Promise<void> {
  if (DSYNC === undefined) await file.datasync();
}
