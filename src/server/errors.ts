import { TandemError } from '../definitions/index.ts';

/** The request body cannot be read as events or as a query. */
export class MalformedBodyError extends TandemError {
  readonly code = 'malformed_body';
}
