/**
 * The query language of the serving layer, and the shape of its answers:
 * untyped ({@link Query}, {@link QueryRow}) for configs read from JSON, and
 * typed from the definitions ({@link ViewQuery}, {@link QueryRowOf}) for
 * configs from `defineConfig`, so a misspelt view, dimension or measure is a
 * compile error and rows come back with their value types.
 *
 * @module
 */
import type {
  FieldsSpec, Granularity, MeasureValue, QueryGranularity, TandemConfig, TypeOfSpec, ValueOfType, ViewFields, ViewName, ViewOf,
} from '../definitions/index.ts';
import type { NumberForm } from './number-form.ts';
import type { QuantileKey } from './quantile-names.ts';

/**
 * Which layer answers: both merged, or one alone for debugging.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country', layer: 'batch' satisfies Layer });
 * ```
 */
export type Layer = 'merged' | 'batch' | 'speed';
export const LAYERS: readonly Layer[] = ['merged', 'batch', 'speed'];

/**
 * A dimension value as users write it in `where`.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country', where: { country: ['DE', 'FR'] satisfies DimensionInput[] } });
 * ```
 */
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
  /**
   * Keep rows whose dimension equals the value, or one of the values. A key
   * may hold `undefined` as a typed query's optional keys may, so that every
   * {@link ViewQuery} is a `Query` (JSON leaves such a key out; the engine
   * refuses it).
   */
  readonly where?: Readonly<Record<string, DimensionInput | readonly DimensionInput[] | undefined>>;
  /** Dimensions to group by; the others are summed over. Default: none. */
  readonly groupBy?: readonly string[];
  /** The view's granularity or a coarser one, or `all`. Default: the view's. */
  readonly granularity?: QueryGranularity;
  /**
   * An IANA time zone (`Europe/Berlin`); default `UTC`. Days, weeks, months,
   * quarters and years are then that zone's local ones (a day may last 23
   * or 25 hours), rolled up from the view's UTC buckets, which must fit
   * inside them: hour buckets for a zone of whole-hour offsets, minute
   * buckets for one such as `Asia/Kolkata` (+5:30). Each row's `time` is
   * its period's start in local time with its offset
   * (`2026-03-29T00:00:00.000+01:00`); `from` and `to` stay instants.
   */
  readonly timeZone?: string;
  /**
   * Keys to sort by, in order: measures (a `quantiles` measure by its first
   * quantile, or by `quantile`), grouped dimensions, and the time bucket;
   * ascending unless `desc`, nulls last. Rows that tie on every key come in
   * time, then dimension order.
   */
  readonly orderBy?: readonly OrderBy[];
  readonly limit?: number;
  /** `merged` (default) answers from both layers; `batch` or `speed` from one alone. */
  readonly layer?: Layer;
  /**
   * Read-your-writes in cluster mode: the `position` an ingest answered with.
   * The node answers once it has applied every partition that far, or
   * refuses with `position_not_reached` (HTTP 503) after a bounded wait. The
   * embedded engine shows every acknowledged event at once, and accepts it.
   */
  readonly after?: readonly number[];
  /**
   * Cluster mode: answer even when some partitions' speed layers cannot be
   * read (their owner does not answer, and no other node took them over in
   * time), leaving those partitions' recent events out and naming them in
   * `meta.missingPartitions`. Without it such a query is refused with
   * `partitions_unavailable` (HTTP 503): never a silently short answer.
   */
  readonly allowPartial?: boolean;
  /**
   * Answer each sketch measure (`countDistinct`, `quantiles`) with its state
   * instead of its estimate: `{ type, format, state }` and the sketch's
   * parameters, `state` in base64, so a client can merge states of several
   * answers (docs/sketches.md describes the bytes).
   */
  readonly states?: boolean;
  /** For `quantiles` measures, other quantiles than the defined ones: `{ "latency": [0.5, 0.999] }`. */
  readonly quantiles?: Readonly<Record<string, readonly number[]>>;
  /**
   * The view's version to answer from (`meta.viewVersion` names the one
   * that answered): refused unless it is the version served. While a change
   * of the view is backfilled, the old version answers, and naming the new
   * one answers `view_backfilling` with how far it is.
   */
  readonly version?: number;
  /**
   * The form of every `count` and `sum` in the answer: `auto` (default) a
   * number, or exact decimal text once a double cannot carry it, so one
   * column may mix both; `text` always exact decimal text; `bigint` (in
   * this process only, since JSON has none) a bigint, or decimal text for a
   * sum of a field with decimals. Other measures keep their form.
   */
  readonly numbers?: NumberForm;
}

/**
 * One answer row: the grouped dimensions, `time` (ISO, unless granularity is `all`), and each measure.
 *
 * @example
 * ```ts
 * const { rows } = await tandem.query({ view: 'revenue_by_country', groupBy: ['country'], granularity: 'all' });
 * for (const row of rows) console.log(row.country, row.revenue);
 * ```
 */
export type QueryRow = Readonly<Record<string, DimensionInput | MeasureValue | bigint>>;

/**
 * Where an answer came from: the batch version and cutoff, the log end, and the layer.
 *
 * @example
 * ```ts
 * const { meta } = await tandem.query({ view: 'revenue_by_country' });
 * console.log(`batch below ${meta.batchCutoff}, speed layer up to ${meta.logEnd}`);
 * ```
 */
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
  /**
   * Time buckets (their ISO starts) that the range cuts: rolled up to a
   * coarser granularity than the view's, a range from 10:00 makes its first
   * day partial. Empty when the range falls on bucket boundaries.
   */
  readonly partialBuckets: readonly string[];
  /** The time zone whose local periods the rows' buckets are: the query's `timeZone`, else `UTC`. */
  readonly timeZone?: string;
  /**
   * Per log partition (the embedded log is one), how far this answer read
   * it: the embedded log's end; in cluster mode the last sequence applied by
   * the node that gave the partition's recent events (this one, or its
   * owner). The answer includes an ingest's events when every entry is at
   * least its `position`'s (`answerIncludes`).
   */
  readonly applied?: readonly number[];
  /** Per log partition, the served batch version's cutoff (sequences below it are in the batch view). */
  readonly batchCutoffs?: readonly number[];
  /** Cluster mode: per log partition, the node holding its lease as the answering node last saw it (null while none does). */
  readonly owners?: readonly (string | null)[];
  /**
   * Cluster mode, with `allowPartial`: the partitions whose speed layer no
   * node could give, so the answer lacks their events past the batch
   * cutoff. Absent when none.
   */
  readonly missingPartitions?: readonly number[];
  /** The version of the view's definition that answered: raised each time the view changes. */
  readonly viewVersion?: number;
  /**
   * Set when the range reaches past the view's event type's retention
   * horizon: events older than `horizon` may have left the master dataset
   * (whole files leave, so some may remain). A view that `keepsAggregates`
   * still counts them.
   */
  readonly retention?: { readonly horizon: string; readonly keepsAggregates: boolean };
}

/**
 * An answer: its rows and where they came from. `R` is the row type, typed
 * from the definitions when the query is.
 *
 * @example
 * ```ts
 * const { rows, meta }: QueryResult = await tandem.query({ view: 'revenue_by_country', granularity: 'all' });
 * ```
 */
export interface QueryResult<R = QueryRow> {
  readonly rows: readonly R[];
  readonly meta: QueryMeta;
}

/* Typed queries: the same query language, checked against a config's definitions. */

/** Flattens an intersection for readable hovers. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The type name of field `K` in fields `F` (each of a union of field sets). */
type FieldTypeIn<F extends FieldsSpec, K> = F extends unknown ? (K extends keyof F ? TypeOfSpec<F[K]> : never) : never;

/** Whether field `K` of `F` may hold decimals: a number field declared with a scale other than 0. */
type HasDecimals<F extends FieldsSpec, K> = F extends unknown
  ? (K extends keyof F ? (F[K] extends { readonly scale: infer S } ? (S extends 0 ? false : true) : false) : false)
  : never;

/**
 * A value of number field `K`: a number, or exact decimal text where the
 * field has decimals and a value has 16 or more significant digits, which a
 * double would not print back as stored.
 */
type NumberValue<F extends FieldsSpec, K> = true extends HasDecimals<F, K> ? number | string : number;

/**
 * The granularities a query may ask of a view with granularity `G`: its own,
 * the coarser ones its buckets roll up into, and `all`. The type-level copy
 * of `rollsUpInto`, which test/typings/query-granularity.test.ts holds it to.
 *
 * @example
 * ```ts
 * type G = QueryGranularityFor<'hour'>;   // 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year' | 'all'
 * ```
 */
export type QueryGranularityFor<G extends Granularity> =
  | (G extends 'minute' ? 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year'
    : G extends 'hour' ? 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year'
      : G extends 'day' ? 'day' | 'week' | 'month' | 'quarter' | 'year'
        : G extends 'week' ? 'week'
          : G extends 'month' ? 'month' | 'quarter' | 'year'
            : G extends 'quarter' ? 'quarter' | 'year'
              : G extends 'year' ? 'year'
                : never)
  | 'all';

/**
 * The names of view `N`'s dimensions in config `C`.
 *
 * @example
 * ```ts
 * type D = DimensionName<typeof config, 'revenue_by_country'>;   // 'country'
 * ```
 */
export type DimensionName<C extends TandemConfig, N extends string> = ViewOf<C, N>['dimensions'][number];

/**
 * One key of a query's order: a measure, a dimension the query groups by,
 * or the time bucket; ascending unless `desc`.
 *
 * @example
 * ```ts
 * const order: OrderBy[] = [{ measure: 'revenue', desc: true }, { dimension: 'country' }, { time: true, desc: true }];
 * ```
 */
export type OrderBy<M extends string = string, D extends string = string> =
  | { readonly measure: M; readonly desc?: boolean; readonly quantile?: number }
  | { readonly dimension: D; readonly desc?: boolean }
  | { readonly time: true; readonly desc?: boolean };

/**
 * The names of view `N`'s measures in config `C` (of every view in `N`, when it is a union).
 *
 * @example
 * ```ts
 * type M = MeasureName<typeof config, 'revenue_by_country'>;   // 'orders' | 'revenue'
 * ```
 */
export type MeasureName<C extends TandemConfig, N extends string> = N extends unknown ? keyof ViewOf<C, N>['measures'] & string : never;

/**
 * A dimension's value in an answer row: its field's value type, or null.
 * Null even for a required field: events stored before the field was added
 * to the event type have no value for it.
 *
 * @example
 * ```ts
 * type Country = DimensionValue<typeof order.fields, 'country'>;   // string | null
 * ```
 */
export type DimensionValue<F extends FieldsSpec, K> = ([FieldTypeIn<F, K>] extends ['number'] ? NumberValue<F, K> : ValueOfType<FieldTypeIn<F, K>>) | null;

/**
 * What an answer row holds for a measure of spec `S` over fields `F`:
 * `count` a number; `sum` a number, or exact decimal text (a string) when
 * the double nearest the sum would not print as it (16 or more significant
 * digits); `avg` the exact average rounded as PostgreSQL's numeric `avg`
 * rounds it (at least 16 significant digits), a number, or decimal text when
 * a double cannot carry that decimal; `min` and `max` a number (or decimal
 * text, as a sum, for a field with decimals), or an ISO string for a
 * timestamp field; `countDistinct` a
 * number; `quantiles` an object keyed by the quantiles the definition lists,
 * such as `{ p50, p99 }` for `[0.5, 0.99]`, each a number or null. `avg`,
 * `min` and `max` are null when the group has no value of their field.
 *
 * @example
 * ```ts
 * type Revenue = MeasureResult<typeof order.fields, { type: 'sum'; field: 'amount' }>;   // number | string
 * ```
 */
export type MeasureResult<F extends FieldsSpec, S> =
  S extends { readonly type: 'count' } ? number
    : S extends { readonly type: 'sum' } ? number | string
      : S extends { readonly type: 'avg' } ? number | string | null
        : S extends { readonly type: 'min' | 'max'; readonly field: infer K } ? ExtremeResult<F, K>
          : S extends { readonly type: 'countDistinct' } ? number
            // QuantileValuesOf, written out so that hovers and messages list the keys rather than the alias.
            : S extends { readonly type: 'quantiles' } ? { readonly [K in QuantileKey<S>]: number | null }
              : MeasureValue;

type ExtremeResult<F extends FieldsSpec, K> = [FieldTypeIn<F, K>] extends ['timestamp'] ? string | null
  : [FieldTypeIn<F, K>] extends ['number'] ? NumberValue<F, K> | null
    : MeasureValue;

/** The values `where` takes for dimension `K`: one, or a list of which any may match. */
type WhereValues<F extends FieldsSpec, K> = DimensionValue<F, K> | readonly DimensionValue<F, K>[];

/**
 * A `where` over view `N`: each key a dimension, each value of its type.
 *
 * @example
 * ```ts
 * const where: WhereOf<typeof config, 'revenue_by_country'> = { country: ['DE', 'FR'] };
 * ```
 */
export type WhereOf<C extends TandemConfig, N extends string> = string extends DimensionName<C, N>
  ? NonNullable<Query['where']>
  : { readonly [K in DimensionName<C, N>]?: WhereValues<ViewFields<C, N>, K> };

/** `from` and `to` are ISO-8601 text or epoch ms; a view without time buckets (`none`) takes neither. */
type TimeBound<G extends Granularity> = [G] extends ['none'] ? never : string | number;

/**
 * A {@link Query} checked against config `C`: `view` names one of its views,
 * `where` and `groupBy` its dimensions, `orderBy` its measures, and
 * `granularity` one the view rolls up into. `D` and `G` are what `groupBy`
 * and `granularity` say, which shape the rows ({@link QueryRowOf}).
 *
 * @example
 * ```ts
 * const q: ViewQuery<typeof config, 'revenue_by_country'> = { view: 'revenue_by_country', groupBy: ['country'] };
 * ```
 */
export interface ViewQuery<
  C extends TandemConfig,
  N extends ViewName<C>,
  D extends readonly DimensionName<C, N>[] = readonly DimensionName<C, N>[],
  G extends QueryGranularityFor<ViewOf<C, N>['granularity']> | undefined = QueryGranularityFor<ViewOf<C, N>['granularity']> | undefined,
  F extends NumberForm | undefined = NumberForm | undefined,
> {
  readonly view: N;
  /** Inclusive start: buckets starting at or after it. ISO-8601 or epoch ms. A view without time buckets takes none. */
  readonly from?: TimeBound<ViewOf<C, N>['granularity']>;
  /** Exclusive end: buckets starting before it. */
  readonly to?: TimeBound<ViewOf<C, N>['granularity']>;
  /** Keep rows whose dimension equals the value, or one of the values. */
  readonly where?: WhereOf<C, N>;
  /** Dimensions to group by; the others are summed over. Default: none. */
  readonly groupBy?: D;
  /** The view's granularity or a coarser one, or `all`. Default: the view's (`all` for a view without time). */
  readonly granularity?: G;
  /** An IANA time zone whose local periods `granularity` means (see {@link Query.timeZone}); default `UTC`. */
  readonly timeZone?: string;
  readonly orderBy?: readonly OrderBy<MeasureName<C, N>, D[number]>[];
  readonly limit?: number;
  /** `merged` (default) answers from both layers; `batch` or `speed` from one alone. */
  readonly layer?: Layer;
  /**
   * Read-your-writes in cluster mode: the `position` an ingest answered with.
   * The node answers once it has applied every partition that far, or
   * refuses with `position_not_reached` (HTTP 503) after a bounded wait. The
   * embedded engine shows every acknowledged event at once, and accepts it.
   */
  readonly after?: readonly number[];
  /**
   * Cluster mode: answer even when some partitions' speed layers cannot be
   * read (their owner does not answer, and no other node took them over in
   * time), leaving those partitions' recent events out and naming them in
   * `meta.missingPartitions`. Without it such a query is refused with
   * `partitions_unavailable` (HTTP 503): never a silently short answer.
   */
  readonly allowPartial?: boolean;
  /**
   * Answer each sketch measure (`countDistinct`, `quantiles`) with its state
   * instead of its estimate: `{ type, format, state }` and the sketch's
   * parameters, `state` in base64, so a client can merge states of several
   * answers (docs/sketches.md describes the bytes).
   */
  readonly states?: boolean;
  /** For `quantiles` measures, other quantiles than the defined ones: `{ "latency": [0.5, 0.999] }`. */
  readonly quantiles?: Readonly<Record<string, readonly number[]>>;
  /**
   * The view's version to answer from (`meta.viewVersion` names the one
   * that answered): refused unless it is the version served. While a change
   * of the view is backfilled, the old version answers, and naming the new
   * one answers `view_backfilling` with how far it is.
   */
  readonly version?: number;
  /**
   * The form of every `count` and `sum` in the answer: `auto` (default) a
   * number, or exact decimal text once a double cannot carry it, so one
   * column may mix both; `text` always exact decimal text; `bigint` (in
   * this process only, since JSON has none) a bigint, or decimal text for a
   * sum of a field with decimals. Other measures keep their form.
   */
  readonly numbers?: F;
}

/** The granularity an answer has: the query's, else the view's (`all` for a view without time buckets). */
type AnswerGranularity<V extends Granularity, G> = G extends undefined ? (V extends 'none' ? 'all' : V) : G;

/** `time` is in every row unless the answer is rolled up into `all`. */
type TimeColumn<G> = [G] extends ['all'] ? unknown : 'all' extends G ? { readonly time?: string } : { readonly time: string };

/** A dimension's value in a row, but for null: a number with decimals may be exact decimal text, as a sum may. */
type DimensionColumn<F extends FieldsSpec, K> = [FieldTypeIn<F, K>] extends ['number'] ? NumberValue<F, K> : ValueOfType<FieldTypeIn<F, K>>;

/** Whether measure `S` sums a field of `F` that has decimals. */
type SumsDecimals<F extends FieldsSpec, S> = S extends { readonly field: infer K } ? HasDecimals<F, K> : false;

/**
 * A measure's value in a row under number form `NF`: `text` makes every
 * `count` and `sum` a string; `bigint` makes them bigints, but for a sum of a
 * field with decimals, which is text; `auto` (or none) keeps {@link MeasureResult}.
 *
 * @example
 * ```ts
 * type Calls = FormedMeasure<typeof usage.fields, { type: 'count' }, 'bigint'>;   // bigint
 * ```
 */
export type FormedMeasure<F extends FieldsSpec, S, NF> =
  S extends { readonly type: 'count' | 'sum' }
    ? [NF] extends ['text'] ? string
      : [NF] extends ['bigint'] ? (true extends SumsDecimals<F, S> ? string : bigint)
        : [NF] extends ['auto' | undefined] ? MeasureResult<F, S>
          // A form only known as a union: any of them.
          : MeasureResult<F, S> | string | bigint
    : MeasureResult<F, S>;

type TypedRow<C extends TandemConfig, N extends string, D extends readonly string[], G, NF> = N extends unknown
  ? Simplify<
    // DimensionValue, written out so that hovers show `string | null` rather than the alias.
    & { readonly [K in Extract<D[number], DimensionName<C, N>>]: DimensionColumn<ViewFields<C, N>, K> | null }
    & TimeColumn<AnswerGranularity<ViewOf<C, N>['granularity'], G>>
    & { readonly [M in MeasureName<C, N>]: FormedMeasure<ViewFields<C, N>, ViewOf<C, N>['measures'][M], NF> }
  >
  : never;

/**
 * One answer row of a query over view `N` grouped by `D` at granularity `G`:
 * the grouped dimensions, `time` (an ISO string) unless the answer is rolled
 * up into `all`, and every measure of the view (counts and sums in number
 * form `NF`, see {@link FormedMeasure}). {@link QueryRow} when `C` is
 * an untyped (JSON) config.
 *
 * @example
 * ```ts
 * type Row = QueryRowOf<typeof config, 'revenue_by_country', ['country'], 'all'>;
 * // { readonly country: string | null; readonly orders: number; readonly revenue: number | string }
 * ```
 */
export type QueryRowOf<
  C extends TandemConfig,
  N extends string,
  D extends readonly string[] = readonly [],
  G extends QueryGranularity | undefined = undefined,
  NF extends NumberForm | undefined = undefined,
> = string extends ViewName<C> ? QueryRow : TypedRow<C, N, D, G, NF>;
