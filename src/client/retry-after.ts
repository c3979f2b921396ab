/**
 * Waiting out a server's temporary refusals: 503 (an overloaded log, a full
 * speed layer, a restart) and 507 (a full disk) say in `Retry-After` when to
 * come back, and nothing of the refused request was stored.
 *
 * @module
 */

/**
 * Statuses whose answer, with a `Retry-After` header, means "nothing done;
 * send it again then": the server's 503 and 507, and a proxy's 429.
 *
 * @example
 * ```ts
 * RETRYABLE_STATUSES.has(503);   // true
 * ```
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 507]);

/**
 * A floor under each wait, so that `Retry-After: 0` cannot spin.
 *
 * @example
 * ```ts
 * const waitMs = Math.max(retryAfterMs(header) ?? 0, MIN_WAIT_MS);
 * ```
 */
export const MIN_WAIT_MS = 100;

/**
 * The wait `Retry-After` asks for, in ms: delay-seconds or an HTTP date;
 * undefined when the header is missing or unreadable.
 *
 * @example
 * ```ts
 * retryAfterMs('5');                               // 5000
 * retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', now);   // ms until then, 0 if past
 * ```
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; Date.parse would also take '-1' (the year -1) or '5.5'.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it is
 * aborted. The timer keeps the process alive: a script awaiting an ingest
 * must not exit halfway through a wait.
 *
 * @example
 * ```ts
 * await sleep(1000, AbortSignal.timeout(5000));
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
