/**
 * The TypeScript way to write definitions. Each helper returns the plain JSON
 * form, so `JSON.stringify(defineConfig(...))` is a valid config file, typed
 * with the names as written: `createClient<typeof config>` and
 * `Tandem.open({ config })` type events, queries and rows from it.
 *
 * @module
 */
import { compileConfig } from './catalog.ts';
import type {
  DimensionField,
  EventTypeDefinition,
  FieldsOfType,
  FieldsSpec,
  MeasuresSpec,
  TandemConfig,
  UndeclaredFields,
  ViewDefinition,
  ViewSpec,
} from './definition-types.ts';
import type { Granularity } from './granularity.ts';

/**
 * Declares an event type.
 *
 * @example
 * ```ts
 * const order = defineEventType({
 *   name: 'order',
 *   time: 'at',
 *   idempotencyKey: 'orderId',
 *   fields: { orderId: 'string', at: 'timestamp', country: 'string', amount: { type: 'number', scale: 2 } },
 * });
 * ```
 */
export function defineEventType<const F extends FieldsSpec, const N extends string>(definition: {
  readonly name: N;
  readonly time: FieldsOfType<F, 'timestamp'>;
  readonly idempotencyKey?: FieldsOfType<F, 'string'>;
  readonly idempotencyWindow?: number;
  /** How long events stay in the master dataset after their event time, such as `"400d"`. */
  readonly retention?: string;
  /** Fields an event has and the type does not declare: `reject` the event (default) or `ignore` them. */
  readonly undeclaredFields?: UndeclaredFields;
  readonly fields: F;
}): EventTypeDefinition<F, N> {
  return definition;
}

/**
 * Declares a view over an event type. Dimensions, measure fields and filter
 * fields are checked against the event type at compile time.
 *
 * @example
 * ```ts
 * const revenue = defineView(order, {
 *   name: 'revenue_by_country',
 *   dimensions: ['country'],
 *   granularity: 'hour',
 *   measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } },
 *   filter: [{ field: 'amount', op: '>', value: 0 }],
 * });
 * ```
 */
export function defineView<
  F extends FieldsSpec,
  E extends string,
  const N extends string,
  const D extends readonly DimensionField<F>[],
  const G extends Granularity,
  const M extends MeasuresSpec<F>,
>(eventType: EventTypeDefinition<F, E>, view: ViewSpec<F, N, D, G, M>): ViewDefinition<F, E, N, D, G, M> {
  return { ...view, eventType: eventType.name };
}

/**
 * Bundles event types and views into a config, validating it at once so a
 * mistake fails where it was written. Returns the config unchanged, typed as
 * written, so `typeof config` types a client or an engine's queries.
 *
 * @example
 * ```ts
 * const config = defineConfig({ eventTypes: [order], views: [revenue] });
 * export default config;
 * const client = createClient<typeof config>({ url: 'http://127.0.0.1:7070' });
 * ```
 */
export function defineConfig<const C extends TandemConfig>(config: C): C {
  compileConfig(config);
  return config;
}
