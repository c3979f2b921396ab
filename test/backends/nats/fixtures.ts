/**
 * The catalog and events the cluster tests use: `order` has an idempotency
 * key (`id`) and a `copy` field that tells the copies of a key apart, so a
 * test can see which copy won; `hit` has no key, and a unique `page` per event.
 */
import { compileConfig, rowAt, toColumns, type EventColumns, type Row } from '../../../src/definitions/index.ts';

export const catalog = compileConfig({
  eventTypes: [
    { name: 'order', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', copy: 'string', amount: { type: 'number', scale: 2 }, note: { type: 'string', optional: true } } },
    { name: 'hit', time: 'at', fields: { at: 'timestamp', page: 'string', mobile: 'boolean' } },
  ],
  views: [],
});

export const orderType = catalog.eventTypes.get('order')!;
export const hitType = catalog.eventTypes.get('hit')!;

/** Normalized order rows: `at` in epoch ms, `amount` scaled by 100. */
export function orders(rows: readonly { id: string; copy: string; amount?: number; note?: string | null }[]): EventColumns {
  return toColumns(orderType.fields, rows.map((r, i) => ({ id: r.id, at: 1_714_567_890_000 + i, copy: r.copy, amount: r.amount ?? 1999, note: r.note ?? null })));
}

export function hits(pages: readonly string[]): EventColumns {
  return toColumns(hitType.fields, pages.map((page, i) => ({ at: 1_714_567_890_000 + i, page, mobile: i % 2 === 0 })));
}

export function rowsOf(eventType: string, events: EventColumns): Row[] {
  const fields = catalog.eventTypes.get(eventType)!.fields;
  return Array.from({ length: events.count }, (_, i) => rowAt(fields, events, i));
}
