/**
 * The serving layer: validates a query against its view, and answers it by
 * merging the tables that hold the view's state (the batch view and the
 * speed layer's), within a budget of time and rows.
 *
 * @module
 */
export { executeQuery, isWide, partialBuckets, readsWholeDays, type TableSpan } from './execute-query.ts';
export { planQuery, type QueryPlan } from './query-plan.ts';
export { NUMBER_FORMS, type NumberForm } from './number-form.ts';
export { QueryBudget, type QueryLimits } from './query-budget.ts';
export type * from './query.ts';
export type { QuantileKey, QuantileName, QuantileValuesOf } from './quantile-names.ts';
export { InvalidQueryError, UnknownTimeZoneError, TimeZoneRollUpError, UnknownViewError, UnknownDimensionError, UnknownMeasureError, QueryTimeoutError, ResultTooLargeError, InvalidPartialStatesError } from './errors.ts';
export { decodePartial, encodePartial, partialTable, type PartialStates } from './partial-states.ts';
