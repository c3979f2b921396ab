/**
 * What the mixed-schedule test shares with the engine process it drives:
 * the shop schema with a retention, the view definitions a schedule
 * applies, and the commands the process answers over IPC.
 */
import { defineConfig, defineEventType, defineView, type Query, type QueryResult, type ViewJson } from '../../src/index.ts';
import { order, views as shopViews } from './shop-config.ts';

export const DAY = 86_400_000;
/** The shop events' times span 120 days from here. */
export const BASE = Date.UTC(2024, 2, 1);
export const RETENTION_DAYS = 30;
export const GRACE_MS = 3 * DAY;

const retained = defineEventType({ ...order, retention: `${RETENTION_DAYS}d` });
/** Every shop view with time buckets: a range from the horizon on is exact in each. */
export const initialViews: readonly ViewJson[] = shopViews.filter((v) => v.granularity !== 'none');
export const scheduleConfig = defineConfig({ eventTypes: [retained], views: initialViews });

/** The definitions a schedule applies: changes of two configured views, and a view the config lacks. */
export const VARIANTS: readonly ViewJson[] = [
  defineView(retained, { name: 'by_device_week', dimensions: ['country'], granularity: 'day', measures: { orders: { type: 'count' }, spend: { type: 'sum', field: 'amount' } } }),
  defineView(retained, {
    name: 'totals_month', dimensions: ['mobile'], granularity: 'week',
    measures: { orders: { type: 'count' }, buyers: { type: 'countDistinct', field: 'id' }, p: { type: 'quantiles', field: 'qty', quantiles: [0.5] } },
    filter: [{ field: 'country', op: '!=', value: 'BR' }],
  }),
  defineView(retained, { name: 'by_mobile_day', dimensions: ['mobile', 'country'], granularity: 'day', measures: { orders: { type: 'count' }, smallest: { type: 'min', field: 'amount' } } }),
];
export const CHANGED = ['by_device_week', 'totals_month', 'by_mobile_day'] as const;

/** What the engine process is asked to do; `id` pairs a command with its answer. */
export type Command =
  | { readonly op: 'ingest'; readonly events: readonly Record<string, unknown>[] }
  | { readonly op: 'batch'; readonly seal: boolean }
  | { readonly op: 'apply'; readonly definition: ViewJson }
  | { readonly op: 'drop' | 'cancel'; readonly view: string }
  | { readonly op: 'erase'; readonly where: Record<string, unknown> }
  | { readonly op: 'settle' }
  | { readonly op: 'setNow'; readonly now: number }
  | { readonly op: 'query'; readonly query: Query }
  | { readonly op: 'status' }
  | { readonly op: 'close' };

/** What the process knows of its views. */
export interface ScheduleStatus {
  readonly served: string[];
  readonly pending: string[];
  readonly versions: Record<string, number>;
  /** Events retention took out of the master dataset, retired or deleted. */
  readonly retiredEvents: number;
}

export type Answer = { readonly value: unknown } | { readonly error: { readonly name: string; readonly message: string } };
export type QueryAnswer = Pick<QueryResult, 'rows' | 'meta'>;
