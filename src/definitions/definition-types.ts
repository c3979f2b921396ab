/**
 * The shapes users write, in TypeScript or JSON. The TypeScript generics make a
 * misspelt field a compile error; the same objects, serialised, are the JSON
 * config.
 *
 * @module
 */
import type { FieldSpecInput, FieldType } from './field.ts';
import type { Granularity } from './granularity.ts';
import type { ServerConfigJson } from './server-config.ts';
import type { ClusterConfigJson } from './cluster-config.ts';

/**
 * The fields of an event type, by name.
 *
 * @example
 * ```ts
 * const fields: FieldsSpec = { orderId: 'string', at: 'timestamp', amount: { type: 'number', scale: 2 } };
 * ```
 */
export type FieldsSpec = Readonly<Record<string, FieldSpecInput>>;

/**
 * The type name of a field spec: `'number'` for both `'number'` and `{ type: 'number', scale: 2 }`.
 *
 * @example
 * ```ts
 * type T = TypeOfSpec<{ type: 'number'; scale: 2 }>;   // 'number'
 * ```
 */
export type TypeOfSpec<S> = S extends FieldType ? S : S extends { readonly type: infer T } ? T : never;

/** The names of the fields in `F` whose type is one of `T`; any string for the untyped (JSON) form. */
export type FieldsOfType<F extends FieldsSpec, T extends FieldType> = string extends keyof F
  ? string
  : { [K in keyof F & string]: TypeOfSpec<F[K]> extends T ? K : never }[keyof F & string];

/** The JavaScript value a user writes for a field of type `T`. */
export type ValueOfType<T> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'timestamp'
        ? string | number
        : never;

/**
 * The value `ingest` takes for a field of type `T`: a number field also takes
 * its exact decimal text, such as `"90000000000000.01"`, which no double holds.
 *
 * @example
 * ```ts
 * const amount: InputOfType<'number'> = '12.50';
 * ```
 */
export type InputOfType<T> = T extends 'number' ? number | `${number}` : ValueOfType<T>;

/**
 * An event type: its fields, the field holding event time, and an optional
 * idempotency key. `F` and `N` keep the field specs and the name as written,
 * so clients and queries can be typed from them.
 *
 * @example
 * ```ts
 * const order: EventTypeDefinition<{ readonly id: 'string'; readonly at: 'timestamp' }, 'order'> = defineEventType({
 *   name: 'order', time: 'at', fields: { id: 'string', at: 'timestamp' },
 * });
 * ```
 */
export interface EventTypeDefinition<F extends FieldsSpec = FieldsSpec, N extends string = string> {
  readonly name: N;
  /** The timestamp field that places an event in time buckets. */
  readonly time: FieldsOfType<F, 'timestamp'>;
  /** A string field; an event whose key is already in the log is not stored again. */
  readonly idempotencyKey?: FieldsOfType<F, 'string'>;
  /**
   * Bounds the memory of duplicate detection: a key is recognised among the
   * latest `idempotencyWindow` stored events of this type (about 60 bytes
   * each), and forgotten after. Default: every event ever stored.
   */
  readonly idempotencyWindow?: number;
  /** How long events stay in the master dataset after their event time, such as `"400d"` (`m`, `h`, `d` or `w`); default forever. */
  readonly retention?: string;
  readonly fields: F;
}

/**
 * A measure of a view: a count, or a monoid over one field of the right type.
 * A `filter` makes the measure fold only the events that meet it, besides
 * the view's filter: two counts of one view, one of them filtered, give an
 * error rate.
 *
 * @example
 * ```ts
 * const measures = {
 *   orders: { type: 'count' },
 *   revenue: { type: 'sum', field: 'amount' },
 *   largest: { type: 'max', field: 'amount' },
 *   refunds: { type: 'count', filter: [{ field: 'amount', op: '<', value: 0 }] },
 * } as const;
 * ```
 */
export type MeasureSpec<F extends FieldsSpec = FieldsSpec> = MeasureFilter<F> & (
  | { readonly type: 'count' }
  | { readonly type: 'sum' | 'avg'; readonly field: FieldsOfType<F, 'number'> }
  | { readonly type: 'min' | 'max'; readonly field: FieldsOfType<F, 'number' | 'timestamp'> }
  /** Distinct values of a field: exact below 2^precision / 8 per key, a HyperLogLog estimate above (precision 8–16, default 12: 1.6% standard error). */
  | { readonly type: 'countDistinct'; readonly field: keyof F & string; readonly precision?: number }
  /** Quantiles of a number field, each within `relativeAccuracy` (default 0.01) of the true value; default quantiles 0.5, 0.9, 0.99. */
  | { readonly type: 'quantiles'; readonly field: FieldsOfType<F, 'number'>; readonly quantiles?: readonly number[]; readonly relativeAccuracy?: number }
);

/**
 * A measure's own filter: the conditions an event must also meet, after the
 * view's filter, for this measure to fold it. Same syntax as a view's filter.
 *
 * @example
 * ```ts
 * const errors = { type: 'count', filter: [{ field: 'status', op: '>=', value: 500 }] } as const satisfies MeasureSpec<typeof request.fields>;
 * ```
 */
export interface MeasureFilter<F extends FieldsSpec = FieldsSpec> {
  readonly filter?: readonly FilterSpec<F>[];
}

export const COMPARISON_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
/**
 * The comparisons a filter may use besides `in`.
 *
 * @example
 * ```ts
 * const condition = { field: 'amount', op: '>=' satisfies ComparisonOp, value: 10 };
 * ```
 */
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

/**
 * One condition of a view's filter; a view keeps the events that meet all of them.
 *
 * @example
 * ```ts
 * const filter = [{ field: 'amount', op: '>', value: 0 }, { field: 'country', op: 'in', value: ['DE', 'FR'] }] as const;
 * ```
 */
export type FilterSpec<F extends FieldsSpec = FieldsSpec> = string extends keyof F
  ? { readonly field: string; readonly op: ComparisonOp | 'in'; readonly value: unknown }
  : {
  [K in keyof F & string]:
    | { readonly field: K; readonly op: ComparisonOp; readonly value: ValueOfType<TypeOfSpec<F[K]>> }
    | { readonly field: K; readonly op: 'in'; readonly value: readonly ValueOfType<TypeOfSpec<F[K]>>[] };
}[keyof F & string];

/** Fields that can be dimensions: anything but timestamps (time is the granularity's job). */
export type DimensionField<F extends FieldsSpec> = FieldsOfType<F, 'string' | 'number' | 'boolean'>;

/**
 * A view's measures by name.
 *
 * @example
 * ```ts
 * const measures = { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } as const satisfies MeasuresSpec<typeof order.fields>;
 * ```
 */
export type MeasuresSpec<F extends FieldsSpec = FieldsSpec> = Readonly<Record<string, MeasureSpec<F>>>;

/**
 * The body of a view, as passed to `defineView`. The parameters after `F`
 * keep the name, dimensions, granularity and measures as written.
 *
 * @example
 * ```ts
 * const spec: ViewSpec<typeof order.fields> = { name: 'by_country', dimensions: ['country'], granularity: 'day', measures: { n: { type: 'count' } } };
 * ```
 */
export interface ViewSpec<
  F extends FieldsSpec = FieldsSpec,
  N extends string = string,
  D extends readonly DimensionField<F>[] = readonly DimensionField<F>[],
  G extends Granularity = Granularity,
  M extends MeasuresSpec<F> = MeasuresSpec<F>,
> {
  readonly name: N;
  readonly dimensions: D;
  readonly granularity: G;
  readonly measures: M;
  readonly filter?: readonly FilterSpec<F>[];
  /** Keep the view's aggregates of events its event type's `retention` removes from the master dataset: they stay in the batch view. */
  readonly keepAggregates?: boolean;
}

/**
 * A view: an event type (named by `E`) aggregated by dimensions and time
 * buckets into measures, as `defineView` returns it.
 *
 * @example
 * ```ts
 * const revenue = defineView(order, { name: 'revenue', dimensions: ['country'], granularity: 'day', measures: { n: { type: 'count' } } });
 * // ViewDefinition<typeof order.fields, 'order', 'revenue', readonly ['country'], 'day', { readonly n: { readonly type: 'count' } }>
 * ```
 */
export interface ViewDefinition<
  F extends FieldsSpec = FieldsSpec,
  E extends string = string,
  N extends string = string,
  D extends readonly DimensionField<F>[] = readonly DimensionField<F>[],
  G extends Granularity = Granularity,
  M extends MeasuresSpec<F> = MeasuresSpec<F>,
> extends ViewSpec<F, N, D, G, M> {
  readonly eventType: E;
}

/**
 * An event type in the JSON form: what any typed {@link EventTypeDefinition} also is.
 *
 * @example
 * ```ts
 * const order: EventTypeJson = { name: 'order', time: 'at', fields: { at: 'timestamp', amount: { type: 'number', scale: 2 } } };
 * ```
 */
export interface EventTypeJson {
  readonly name: string;
  readonly time: string;
  readonly idempotencyKey?: string;
  readonly idempotencyWindow?: number;
  /** How long events stay in the master dataset after their event time, such as `"400d"`; default forever. */
  readonly retention?: string;
  /** What to do with an event's fields the type does not declare: `reject` the event (the default), or `ignore` the fields and store the rest. */
  readonly undeclaredFields?: UndeclaredFields;
  readonly fields: FieldsSpec;
}

/**
 * What an event type does with fields it does not declare: `reject` refuses
 * the event, naming the field; `ignore` drops the fields, stores the event,
 * and the ingest answer lists their names once.
 *
 * @example
 * ```ts
 * // A CSV export with more columns than the views need: store what is declared.
 * const payment = defineEventType({ name: 'payment', time: 'at', undeclaredFields: 'ignore', fields: { at: 'timestamp', amount: { type: 'number', scale: 2 } } });
 * ```
 */
export type UndeclaredFields = 'reject' | 'ignore';

/**
 * One condition of a filter in the JSON form: a view's, or a measure's.
 *
 * @example
 * ```ts
 * const condition: FilterJson = { field: 'status', op: '>=', value: 500 };
 * ```
 */
export interface FilterJson {
  readonly field: string;
  readonly op: string;
  readonly value: unknown;
}

/**
 * A view in the JSON form.
 *
 * @example
 * ```ts
 * const view: ViewJson = { name: 'revenue', eventType: 'order', dimensions: [], granularity: 'day', measures: { revenue: { type: 'sum', field: 'amount' } } };
 * ```
 */
export interface ViewJson {
  readonly name: string;
  readonly eventType: string;
  readonly dimensions: readonly string[];
  readonly granularity: Granularity;
  readonly measures: Readonly<Record<string, {
    readonly type: string; readonly field?: string; readonly precision?: number; readonly quantiles?: readonly number[]; readonly relativeAccuracy?: number;
    /** Conditions an event must also meet for this measure to fold it, as in the view's `filter`. */
    readonly filter?: readonly FilterJson[];
  }>>;
  readonly filter?: readonly FilterJson[];
  /** Keep the view's aggregates of events its event type's retention removes from the master dataset. */
  readonly keepAggregates?: boolean;
}

/**
 * A whole config: the JSON file's shape.
 *
 * @example
 * ```ts
 * const config: TandemConfig = JSON.parse(await readFile('tandem.config.json', 'utf8'));
 * const tandem = await Tandem.open({ dataDir: './data', config });
 * ```
 */
export interface TandemConfig {
  readonly eventTypes: readonly EventTypeJson[];
  readonly views: readonly ViewJson[];
  /** API keys and request limits for the HTTP server. */
  readonly server?: ServerConfigJson;
  /** The log's layout when nodes run as a cluster on NATS JetStream (`tandem serve --nats`). */
  readonly cluster?: ClusterConfigJson;
}

/*
 * Reading a config's types back. A config from `defineConfig` (or written
 * `as const`) keeps its names literal, so these name its event types, views
 * and fields; a config read from JSON has plain strings, and they fall back
 * to the untyped forms (`string`, {@link EventTypeJson}, {@link ViewJson}).
 */

/** Flattens an intersection for readable hovers. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The event type names of a config: a union of literals for a typed config,
 * `string` for one read from JSON.
 *
 * @example
 * ```ts
 * type Names = EventTypeName<typeof config>;   // 'order' | 'page_view'
 * ```
 */
export type EventTypeName<C extends TandemConfig> = C['eventTypes'][number]['name'];

/**
 * The view names of a config: a union of literals for a typed config,
 * `string` for one read from JSON.
 *
 * @example
 * ```ts
 * type Views = ViewName<typeof config>;   // 'revenue_by_country' | 'traffic'
 * ```
 */
export type ViewName<C extends TandemConfig> = C['views'][number]['name'];

/**
 * The definition of event type `N` in config `C` (the JSON form when `C` is untyped).
 *
 * @example
 * ```ts
 * type Order = EventTypeOf<typeof config, 'order'>;   // typeof order
 * ```
 */
export type EventTypeOf<C extends TandemConfig, N extends string> = string extends EventTypeName<C>
  ? EventTypeJson
  : Extract<C['eventTypes'][number], { readonly name: N }>;

/**
 * The definition of view `N` in config `C` (the JSON form when `C` is untyped).
 *
 * @example
 * ```ts
 * type Revenue = ViewOf<typeof config, 'revenue_by_country'>;   // typeof revenue
 * ```
 */
export type ViewOf<C extends TandemConfig, N extends string> = string extends ViewName<C>
  ? ViewJson
  : Extract<C['views'][number], { readonly name: N }>;

/**
 * The field specs of the event type that view `N` aggregates.
 *
 * @example
 * ```ts
 * type F = ViewFields<typeof config, 'revenue_by_country'>;   // typeof order.fields
 * ```
 */
export type ViewFields<C extends TandemConfig, N extends string> = EventTypeOf<C, ViewOf<C, N>['eventType']>['fields'];

/** The names of the optional fields in `F`. */
type OptionalField<F extends FieldsSpec> = { [K in keyof F & string]: F[K] extends { readonly optional: true } ? K : never }[keyof F & string];

/**
 * One event as written for fields `F`: each required field with its value
 * type, each optional one may be left out or null; `unknown` when the
 * fields are not known to the compiler.
 *
 * @example
 * ```ts
 * const e: EventOfFields<typeof order.fields> = { orderId: 'o1', at: '2024-05-01T12:00:00Z', country: 'DE', amount: 19.99 };
 * ```
 */
export type EventOfFields<F extends FieldsSpec> = F extends unknown
  ? string extends keyof F
    ? unknown
    : Simplify<
      & { readonly [K in Exclude<keyof F & string, OptionalField<F>>]: InputOfType<TypeOfSpec<F[K]>> }
      & { readonly [K in OptionalField<F>]?: InputOfType<TypeOfSpec<F[K]>> | null }
    >
  : never;

/**
 * One event of type `E` in config `C`, as `ingest` takes it: a misspelt or
 * missing field, or a value of the wrong type, is a compile error.
 *
 * @example
 * ```ts
 * const e: EventOf<typeof config, 'order'> = { orderId: 'o1', at: Date.now(), country: 'DE', amount: 19.99 };
 * ```
 */
export type EventOf<C extends TandemConfig, E extends string> = EventOfFields<EventTypeOf<C, E>['fields']>;
