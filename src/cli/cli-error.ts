import { TandemError } from '../definitions/errors.ts';

/** A mistake the user can fix (bad flag, missing file, server not running): printed as one line, exit code 1. */
export class CliError extends TandemError {
  readonly code = 'cli_error';
}

/**
 * The server answered with an error status: the message is its own, and
 * `status` and `answerCode` (its stable `code`, such as `unknown_view`) let a
 * command say more about a refusal it understands.
 *
 * @example
 * ```ts
 * await client.get('/v1/views').catch((error: unknown) => {
 *   if (error instanceof ServerAnswerError && error.status === 401) console.error('pass --api-key');
 *   throw error;
 * });
 * ```
 */
export class ServerAnswerError extends CliError {
  constructor(readonly status: number, readonly answerCode: string | undefined, message: string) {
    super(message);
  }
}

/** `tandem ingest` stored what it could, but more rows were rejected than `--max-rejects` allows: exit code 1. */
export class TooManyRejectsError extends TandemError {
  readonly code = 'too_many_rejects';

  constructor(readonly rejected: number, readonly allowed: number) {
    const n = rejected.toLocaleString('en-US');
    super(allowed === 0
      ? `${n} ${rejected === 1 ? 'row was' : 'rows were'} rejected and not stored (see above); pass --max-rejects to accept some rejects.`
      : `${n} rows were rejected, more than the ${allowed.toLocaleString('en-US')} --max-rejects allows (see above).`);
  }
}
