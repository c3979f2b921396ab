import { TandemError } from '../definitions/errors.ts';

/** A mistake the user can fix (bad flag, missing file, server not running): printed as one line, exit code 1. */
export class CliError extends TandemError {
  readonly code = 'cli_error';
}
