/**
 * The served version's parts an erasure rewrites in a full cycle, fetched
 * from the object store by the file name the retention plan gives: the
 * served version's manifest maps each of its files to its object.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobInfo } from '../../master/index.ts';
import { FrozenPartUnnamedError } from './errors.ts';

/**
 * A fetch of frozen part `file` into `scratch` (made on first use) from the
 * object `objects` names for it, resolving with the local path.
 *
 * @throws {FrozenPartUnnamedError} when `objects` names no object for `file`.
 * @example
 * ```ts
 * const fetch = frozenPartFetcher(new Map(served.objects.map((o) => [o.file, o.blob])), blobs, join(dir, '.frozen-sources'));
 * const local = await fetch('usage/p000/part-0.parquet');
 * ```
 */
export function frozenPartFetcher(objects: ReadonlyMap<string, string>, blobs: { get(name: string, file: string): Promise<BlobInfo> }, scratch: string): (file: string) => Promise<string> {
  return async (file) => {
    const blob = objects.get(file);
    if (blob === undefined) throw new FrozenPartUnnamedError(file);
    await mkdir(scratch, { recursive: true });
    await blobs.get(blob, join(scratch, file));
    return join(scratch, file);
  };
}
