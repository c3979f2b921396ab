/**
 * What one query may cost: a row count and a running time. Queries run on
 * the event loop, so a runaway one would stall ingest too; the loops that
 * scale with the data ask the budget every few thousand steps, which keeps
 * the clock's cost out of the per-slot path.
 *
 * @module
 */
import { QueryTimeoutError, ResultTooLargeError } from './errors.ts';

/**
 * Limits on one query; absent fields mean no limit.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country' }, { maxRows: 10_000, timeoutMs: 2_000 });
 * ```
 */
export interface QueryLimits {
  /** Most rows an answer may have; a larger answer is refused. */
  readonly maxRows?: number;
  /** Longest a query may run, in milliseconds, before it is stopped. */
  readonly timeoutMs?: number;
}

/** Steps between two looks at the clock. */
const CHECK_EVERY = 4096;

export class QueryBudget {
  readonly #deadline: number;
  #steps = 0;

  constructor(private readonly limits: QueryLimits = {}) {
    this.#deadline = limits.timeoutMs === undefined ? Infinity : performance.now() + limits.timeoutMs;
  }

  /** Counts `n` steps of work; throws {@link QueryTimeoutError} once past the deadline. */
  spend(n = 1): void {
    this.#steps += n;
    if (this.#steps < CHECK_EVERY) return;
    this.#steps = 0;
    if (performance.now() > this.#deadline) throw new QueryTimeoutError(this.limits.timeoutMs!);
  }

  /** Throws {@link ResultTooLargeError} when an answer of `rows` rows is over the limit. */
  checkRows(rows: number): void {
    if (this.limits.maxRows !== undefined && rows > this.limits.maxRows) throw new ResultTooLargeError(rows, this.limits.maxRows);
  }
}
