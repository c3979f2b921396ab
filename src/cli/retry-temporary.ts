/**
 * Waiting out a server's temporary refusals (an overloaded log, a full speed
 * layer, a full disk: 503 or 507 with Retry-After), so that a long import
 * slows down instead of stopping halfway.
 *
 * @module
 */
import { CliError } from './cli-error.ts';

/** A refusal the server says will pass: retry after `retryAfterMs`. Printed as one line if it outlasts the retries. */
export class TemporaryFailure extends CliError {
  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}

/** Tries `attempt` until it succeeds, waiting as told between tries, for at most `maxWaitMs` in all; `onWait` hears of each wait before it starts. */
export async function retryTemporary<T>(attempt: () => Promise<T>, maxWaitMs = 600_000, onWait?: (failure: TemporaryFailure) => void): Promise<T> {
  let waited = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof TemporaryFailure) || waited + error.retryAfterMs > maxWaitMs) throw error;
      onWait?.(error);
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
      waited += error.retryAfterMs;
    }
  }
}
