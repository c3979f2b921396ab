/**
 * The TypeScript way to write definitions. Each helper returns the plain JSON
 * form, so `JSON.stringify(defineConfig(...))` is a valid config file.
 *
 * @module
 */
import { compileConfig } from './catalog.ts';
import type {
  EventTypeDefinition,
  FieldsOfType,
  FieldsSpec,
  TandemConfig,
  ViewDefinition,
  ViewSpec,
} from './definition-types.ts';

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
export function defineEventType<const F extends FieldsSpec>(definition: {
  readonly name: string;
  readonly time: FieldsOfType<F, 'timestamp'>;
  readonly idempotencyKey?: FieldsOfType<F, 'string'>;
  readonly fields: F;
}): EventTypeDefinition<F> {
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
export function defineView<F extends FieldsSpec>(eventType: EventTypeDefinition<F>, view: ViewSpec<F>): ViewDefinition<F> {
  return { ...view, eventType: eventType.name };
}

/**
 * Bundles event types and views into a config, validating it at once so a
 * mistake fails where it was written.
 *
 * @example
 * ```ts
 * export default defineConfig({ eventTypes: [order], views: [revenue] });
 * ```
 */
export function defineConfig(config: TandemConfig): TandemConfig {
  compileConfig(config);
  return config;
}
