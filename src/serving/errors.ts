import { TandemError } from '../definitions/errors.ts';

/**
 * A query is malformed; `field` names the part of the query at fault (e.g. `from`, `orderBy[0].measure`).
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country', limit: -1 }).catch((error) => {
 *   if (error instanceof InvalidQueryError) console.error(`${error.field}: ${error.message}`);
 * });
 * ```
 */
export class InvalidQueryError extends TandemError {
  readonly code = 'invalid_query';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/**
 * A query's `timeZone` is no IANA time zone this process knows; `field` is `timeZone`.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country', granularity: 'day', timeZone: name }).catch((error) => {
 *   if (error instanceof UnknownTimeZoneError) console.error(`no time zone ${error.timeZone}`);
 * });
 * ```
 */
export class UnknownTimeZoneError extends TandemError {
  readonly code = 'unknown_time_zone';
  readonly field = 'timeZone';
  constructor(readonly timeZone: string) {
    super(`timeZone '${timeZone.slice(0, 64)}' is not an IANA time zone name this server knows; use one such as 'Europe/Berlin', 'America/New_York' or 'UTC'.`);
  }
}

/**
 * A query asks for local periods of a time zone that the view's buckets do
 * not fit inside (some straddle a local midnight there), so regrouping them
 * could not be exact; `needs` is the view granularity that would fit
 * (`hour` or `minute`), or undefined where none does.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'daily', granularity: 'month', timeZone: 'Europe/Berlin' }).catch((error) => {
 *   if (error instanceof TimeZoneRollUpError) console.error(`define a ${error.needs} view`);
 * });
 * ```
 */
export class TimeZoneRollUpError extends TandemError {
  readonly code = 'time_zone_roll_up';
  readonly field = 'timeZone';
  constructor(readonly view: string, readonly granularity: string, readonly timeZone: string, readonly needs: 'hour' | 'minute' | undefined) {
    super(needs === undefined
      ? `View '${view}' has ${granularity} buckets, which straddle local midnights of ${timeZone}, whose offset over the range is not a whole number of minutes, so no view fits it; narrow from and to.`
      : `View '${view}' has ${granularity} buckets, which straddle local midnights of ${timeZone}; define a view with ${needs} buckets of the same measures to query it in that time zone.`);
  }
}

/**
 * A query names a view the config does not define.
 *
 * @example
 * ```ts
 * await tandem.query({ view: name }).catch((error) => {
 *   if (error instanceof UnknownViewError) console.error(`no view ${error.view}`);
 * });
 * ```
 */
export class UnknownViewError extends TandemError {
  readonly code = 'unknown_view';
  constructor(readonly view: string) {
    super(`Unknown view '${view.slice(0, 64)}'.`);
  }
}

/**
 * A query names a dimension its view does not have; `field` is the part of the query at fault.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country', groupBy: [name] }).catch((error) => {
 *   if (error instanceof UnknownDimensionError) console.error(error.field, error.dimension);
 * });
 * ```
 */
export class UnknownDimensionError extends TandemError {
  readonly code = 'unknown_dimension';
  constructor(readonly field: string, readonly dimension: string, readonly view: string) {
    super(`${field} names '${dimension.slice(0, 64)}', which is not a dimension of view '${view}'.`);
  }
}

/**
 * A query names a measure its view does not have; `field` is the part of the query at fault.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country', orderBy: [{ measure: name }] }).catch((error) => {
 *   if (error instanceof UnknownMeasureError) console.error(error.field, error.measure);
 * });
 * ```
 */
export class UnknownMeasureError extends TandemError {
  readonly code = 'unknown_measure';
  constructor(readonly field: string, readonly measure: string, readonly view: string) {
    super(`${field} names '${measure.slice(0, 64)}', which is not a measure of view '${view}'.`);
  }
}

/**
 * A query's answer has more rows than the caller allows; `field` is `limit`, the part of the query that fixes it.
 *
 * @example
 * ```ts
 * await tandem.query(query, { maxRows: 1_000 }).catch((error) => {
 *   if (error instanceof ResultTooLargeError) return tandem.query({ ...query, limit: 1_000 });
 * });
 * ```
 */
export class ResultTooLargeError extends TandemError {
  readonly code = 'result_too_large';
  readonly field = 'limit';
  constructor(readonly rows: number, readonly maxRows: number) {
    super(`The answer has ${rows.toLocaleString('en-US')} rows, more than the limit of ${maxRows.toLocaleString('en-US')}; set a smaller limit, a coarser granularity or a narrower where.`);
  }
}

/**
 * A query ran past the caller's time limit and was stopped.
 *
 * @example
 * ```ts
 * await tandem.query(query, { timeoutMs: 500 }).catch((error) => {
 *   if (error instanceof QueryTimeoutError) console.warn('narrow the range and try again');
 * });
 * ```
 */
export class QueryTimeoutError extends TandemError {
  readonly code = 'query_timeout';
  constructor(readonly timeoutMs: number) {
    super(`The query ran longer than the limit of ${timeoutMs.toLocaleString('en-US')} ms and was stopped; narrow its time range or where, or use a coarser granularity.`);
  }
}

/**
 * A node's share of an answer (its partitions' states, as scatter-gather
 * exchanges them) is not of its view's shape; `where` names the part.
 *
 * @example
 * ```ts
 * try { decodePartial(view, share); } catch (error) {
 *   if (error instanceof InvalidPartialStatesError) console.error(error.where);
 * }
 * ```
 */
export class InvalidPartialStatesError extends TandemError {
  readonly code = 'partial_states_invalid';
  constructor(readonly view: string, readonly where: string, readonly reason: string) {
    super(`A share of states for view '${view}' is not valid at ${where}: ${reason}.`);
  }
}
