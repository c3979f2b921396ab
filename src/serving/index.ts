/**
 * The serving layer: merges batch views with the speed layer and answers
 * queries; home of the embedded engine.
 *
 * @module
 */
export { Tandem } from './tandem.ts';
export type * from './engine-types.ts';
export type * from './query.ts';
export {
  InvalidQueryError, UnknownViewError, UnknownDimensionError, UnknownMeasureError, DataDirectoryLockedError, QueryTimeoutError, ResultTooLargeError, SpeedLayerFullError,
} from './errors.ts';
export type { QueryLimits } from './query-budget.ts';
