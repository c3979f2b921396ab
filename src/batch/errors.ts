import { TandemError } from '../definitions/index.ts';

/**
 * A published batch view or manifest cannot be read; it can always be rebuilt from the master dataset.
 *
 * @example
 * ```ts
 * // The engine rebuilds a damaged batch version itself; this error reaches you only from lower-level calls.
 * if (error instanceof CorruptBatchViewError) console.error(error.file);
 * ```
 */
export class CorruptBatchViewError extends TandemError {
  readonly code = 'corrupt_batch_view';
  constructor(readonly file: string, reason: string, options?: { cause?: unknown }) {
    super(`Batch view file ${file} cannot be read (${reason}); run a batch to rebuild it from the master dataset.`, options);
  }
}

/** A batch view holds one (dimensions, bucket) key twice, which its GROUP BY never produces: the file was not written by a batch run. */
export class DuplicateBatchKeyError extends TandemError {
  readonly code = 'duplicate_batch_key';
  constructor(readonly view: string) {
    super(`Batch view ${view} holds the same key twice, so it was not written by a batch run.`);
  }
}
