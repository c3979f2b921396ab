/**
 * The query language of the serving layer, and the shape of its answers.
 *
 * @module
 */
import type { MeasureValue, QueryGranularity } from '../definitions/index.ts';

export type Layer = 'merged' | 'batch' | 'speed';
export const LAYERS: readonly Layer[] = ['merged', 'batch', 'speed'];

/** A dimension value as users write it in `where`. */
export type DimensionInput = string | number | boolean | null;

/**
 * A query over one view.
 *
 * @example
 * ```ts
 * await tandem.query({
 *   view: 'revenue_by_country',
 *   from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z',
 *   where: { country: ['DE', 'FR'] },
 *   groupBy: ['country'], granularity: 'all',
 *   orderBy: [{ measure: 'revenue', desc: true }], limit: 10,
 * });
 * ```
 */
export interface Query {
  readonly view: string;
  /** Inclusive start: buckets starting at or after it. ISO-8601 or epoch ms. */
  readonly from?: string | number;
  /** Exclusive end: buckets starting before it. */
  readonly to?: string | number;
  /** Keep rows whose dimension equals the value, or one of the values. */
  readonly where?: Readonly<Record<string, DimensionInput | readonly DimensionInput[]>>;
  /** Dimensions to group by; the others are summed over. Default: none. */
  readonly groupBy?: readonly string[];
  /** The view's granularity or a coarser one, or `all`. Default: the view's. */
  readonly granularity?: QueryGranularity;
  readonly orderBy?: readonly { readonly measure: string; readonly desc?: boolean }[];
  readonly limit?: number;
  /** `merged` (default) answers from both layers; `batch` or `speed` from one alone. */
  readonly layer?: Layer;
}

/** One answer row: the grouped dimensions, `time` (ISO, unless granularity is `all`), and each measure. */
export type QueryRow = Readonly<Record<string, DimensionInput | MeasureValue>>;

export interface QueryMeta {
  /** The batch version that answered, or null before the first batch. */
  readonly batchVersion: number | null;
  /** Events with offsets below it come from the batch view; the rest from the speed layer. */
  readonly batchCutoff: number;
  /** One past the last durable offset. */
  readonly logEnd: number;
  /** How old the batch view is, or null before the first batch. */
  readonly batchAgeMs: number | null;
  readonly layer: Layer;
}

export interface QueryResult {
  readonly rows: readonly QueryRow[];
  readonly meta: QueryMeta;
}
