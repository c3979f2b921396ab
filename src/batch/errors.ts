import { TandemError } from '../definitions/index.ts';

/** A published batch view or manifest cannot be read; it can always be rebuilt from the master dataset. */
export class CorruptBatchViewError extends TandemError {
  readonly code = 'corrupt_batch_view';
  constructor(readonly file: string, reason: string, options?: { cause?: unknown }) {
    super(`Batch view file ${file} cannot be read (${reason}); run a batch to rebuild it from the master dataset.`, options);
  }
}
