import { TandemError } from '../definitions/errors.ts';

/**
 * A Parquet file of the master dataset no longer matches the checksum taken
 * when it was written, or cannot be read. Its log segment is gone (released
 * after the batch absorbed it), so only a backup can bring its events back.
 *
 * @example
 * ```ts
 * await tandem.runBatch().catch((error) => {
 *   if (error instanceof CorruptMasterFileError) console.error(`restore ${error.file} from a backup`);
 * });
 * ```
 */
export class CorruptMasterFileError extends TandemError {
  readonly code = 'corrupt_master_file';
  constructor(readonly file: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`Master dataset file ${file} is damaged (${reason}): restore it from a backup, since no batch run can go ahead without it.`, options);
  }
}
