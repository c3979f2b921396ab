import { TandemError } from '../definitions/index.ts';

/** The request body cannot be read as events or as a query. */
export class MalformedBodyError extends TandemError {
  readonly code = 'malformed_body';
}

/** The request carries no API key, or one the server does not know. */
export class UnauthorizedError extends TandemError {
  readonly code = 'unauthorized';
}

/** The request's API key is valid but lacks the scope the route needs. */
export class ForbiddenError extends TandemError {
  readonly code = 'forbidden';
  constructor(readonly scope: string, message: string) {
    super(message);
  }
}

/** A request holds more events than the server takes at once. */
export class TooManyEventsError extends TandemError {
  readonly code = 'too_many_events';
  constructor(readonly events: number, readonly limit: number) {
    super(`This request holds ${events.toLocaleString('en-US')} events, more than this server's limit of ${limit.toLocaleString('en-US')} per request; send smaller batches.`);
  }
}
