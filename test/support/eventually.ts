/**
 * Waiting on a condition instead of a fixed sleep, so that a test holds on a
 * loaded 2-core machine: the condition is polled on a timer until it holds or
 * a generous deadline passes, and then the failure says what was awaited.
 */

export interface EventuallyOptions {
  /** How long to wait before failing. Default 60 s: long enough for a busy machine, short of the test's own timeout. */
  readonly timeoutMs?: number;
  /** How often to look. Default 20 ms. */
  readonly intervalMs?: number;
}

/**
 * Resolves once `condition` returns true (a throwing or rejected look counts
 * as not yet); rejects with `what` and the time waited after `timeoutMs`.
 * `what` may be a function, asked at the failure, to say what was last seen.
 *
 * @example
 * ```ts
 * await eventually(() => views.dailyTable('hourly') !== undefined, 'the daily roll-up to be built');
 * ```
 */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string | (() => string), options: EventuallyOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  for (;;) {
    if (await Promise.resolve().then(condition).catch(() => false)) return;
    const waited = performance.now() - started;
    if (waited >= timeoutMs) throw new Error(`Waited ${Math.round(waited)} ms for ${typeof what === 'string' ? what : what()}, and it did not happen.`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}
