/**
 * The errors only a client meets: an answer whose code this client does not
 * know, and a server it cannot reach. Every other error answer becomes the
 * engine's or the server's own class (see `error-from-answer.ts`).
 *
 * @module
 */
import { TandemError } from '../definitions/errors.ts';
import { redactUrl, redactUrlsInText } from '../util/redact-url.ts';

/**
 * An error answer this client has no class for: a code from a newer server,
 * a route that does not exist (`not_found`), an internal failure
 * (`internal`), or an answer that is not a Tandem error at all (a proxy's
 * page: `unexpected_answer`). Carries the answer's code, HTTP status and
 * message, and the field at fault when the answer names one.
 *
 * @example
 * ```ts
 * try {
 *   await client.batch();
 * } catch (error) {
 *   if (error instanceof TandemHttpError) console.error(error.status, error.code, error.message);
 * }
 * ```
 */
export class TandemHttpError extends TandemError {
  constructor(readonly code: string, readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

/**
 * The request did not reach the server, or no answer came back (refused,
 * reset, DNS failure). Whether the server acted on it is unknown: an ingest
 * may be resent safely only to an event type with an idempotency key.
 *
 * @example
 * ```ts
 * try {
 *   await client.status();
 * } catch (error) {
 *   if (error instanceof ServerUnreachableError) console.error(`no server at ${error.url}`, error.cause);
 * }
 * ```
 */
export class ServerUnreachableError extends TandemError {
  readonly code = 'server_unreachable';
  constructor(readonly url: string, cause: unknown) {
    super(`Cannot reach a Tandem server at ${redactUrl(url)}: ${reason(cause)}.`, { cause });
  }
}

/** The most telling part of a fetch failure: undici puts the socket error in `cause`. Its text may quote a URL, so it is redacted. */
function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  const message = typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
  return redactUrlsInText(message).replace(/\.$/, '');
}
