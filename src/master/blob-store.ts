/**
 * Where the master dataset's Parquet files and the batch views can live: a
 * flat namespace of immutable blobs (`order/00…-00….parquet`), each written
 * whole or not at all. The local directory is one implementation
 * ({@link DirectoryBlobStore}); in cluster mode a JetStream Object Store
 * bucket is another, shared by every node; S3 could be a third. DuckDB reads
 * local files only (`httpfs` is not installed here), so a blob is read by
 * copying it to a local file first.
 *
 * @module
 */
import { TandemError } from '../definitions/errors.ts';

/** What a stored blob is: its size and the SHA-256 of its bytes, in hex. */
export interface BlobInfo {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  /** When it was stored (epoch ms), where a store's listing says: how old an object no version names is, before it may go. */
  readonly storedAt?: number;
}

export interface BlobStore {
  /** Stores the finished local file `file` under `name`, replacing any blob of that name; readers see the old bytes or the new ones, whole. */
  put(name: string, file: string): Promise<BlobInfo>;
  /** Copies the blob `name` to the local file `file`, checking its SHA-256; throws {@link BlobMissingError} when there is none. */
  get(name: string, file: string): Promise<BlobInfo>;
  /** The blob's size and digest, or undefined when there is none. */
  info(name: string): Promise<BlobInfo | undefined>;
  /** Every blob whose name starts with `prefix`, sorted by name. */
  list(prefix?: string): Promise<BlobInfo[]>;
  /** Removes a blob; removing one that is not there is not an error. */
  delete(name: string): Promise<void>;
}

/**
 * A blob that should be there is not.
 *
 * @example
 * ```ts
 * await store.get('order/00-10.parquet', '/tmp/x.parquet').catch((error) => {
 *   if (error instanceof BlobMissingError) console.error(`restore ${error.blob}`);
 * });
 * ```
 */
export class BlobMissingError extends TandemError {
  readonly code = 'blob_missing';
  constructor(readonly store: string, readonly blob: string) {
    super(`The blob ${blob} is missing from ${store}.`);
  }
}

/**
 * A blob's bytes no longer match the SHA-256 taken when it was stored.
 *
 * @example
 * ```ts
 * await store.get(name, file).catch((error) => {
 *   if (error instanceof BlobCorruptError) console.error(`${error.blob} is damaged; restore it`);
 * });
 * ```
 */
export class BlobCorruptError extends TandemError {
  readonly code = 'blob_corrupt';
  constructor(readonly store: string, readonly blob: string) {
    super(`The blob ${blob} in ${store} does not match the SHA-256 taken when it was stored; restore it from a backup.`);
  }
}

/** Names are paths of letters, digits, `_`, `-` and `.`, with `/` between parts: never absolute, never `..`. */
const NAME = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Throws unless `name` is a safe blob name (it becomes a file path or an object name). */
export function checkBlobName(name: string): string {
  if (!NAME.test(name) || name.split('/').some((part) => part === '.' || part === '..')) {
    throw new RangeError(`'${name}' is not a blob name: parts of letters, digits, _, - and . joined by /.`);
  }
  return name;
}
