/**
 * The metering workload the erasure benches share (`erase-bench.ts`, and
 * `cluster/cluster-erase-bench.ts`): usage events with idempotency keys, one
 * every 3 s from 2025-01-01, spread over {@link CUSTOMERS} customers, and
 * two views (a per-customer day view; a per-plan hour view with quantiles).
 *
 * @module
 */
import { defineConfig, defineEventType, defineView, type ClusterConfigJson } from '../src/index.ts';

export const CUSTOMERS = 10_000;
export const START = Date.UTC(2025, 0, 1);
export const STEP_MS = 3_000;

/** The workload's config; `retention` (e.g. `'200d'`) for the usage type, `cluster` for a cluster node. */
export function eraseWorkload(options: { readonly retention?: string; readonly cluster?: ClusterConfigJson } = {}) {
  const usage = defineEventType({
    name: 'usage', time: 'at', idempotencyKey: 'id', ...(options.retention === undefined ? {} : { retention: options.retention }),
    fields: { id: 'string', at: 'timestamp', customer: 'string', plan: 'string', units: { type: 'number', scale: 0 } },
  });
  return defineConfig({
    eventTypes: [usage],
    views: [
      defineView(usage, { name: 'by_customer', dimensions: ['customer'], granularity: 'day', measures: { events: { type: 'count' }, units: { type: 'sum', field: 'units' } } }),
      defineView(usage, { name: 'by_plan', dimensions: ['plan'], granularity: 'hour', measures: { events: { type: 'count' }, units: { type: 'sum', field: 'units' }, p: { type: 'quantiles', field: 'units' } } }),
    ],
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
  });
}

/** Events `from` to `from + n - 1` of the workload. */
export function eraseEvents(from: number, n: number): { id: string; at: number; customer: string; plan: string; units: number }[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { id: `e${i}`, at: START + i * STEP_MS, customer: `c${(i * 7919) % CUSTOMERS}`, plan: ['free', 'pro', 'team'][i % 3]!, units: i % 100 };
  });
}
