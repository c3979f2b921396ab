/** Rows and columns of the shop's `order` events, for log tests that think in rows. */
import { compileConfig, rowAt, toColumns, type EventColumns, type Row } from '../../src/definitions/index.ts';
import { shopConfig } from './shop-config.ts';

const fields = compileConfig(shopConfig).eventTypes.get('order')!.fields;

/** Order rows as the columns the log appends. */
export function orders(rows: readonly Row[]): EventColumns {
  return toColumns(fields, rows);
}

/** Order events as rows, each with the offset it was given. */
export function orderRows(events: EventColumns, firstOffset: number): (Row & { _offset: number })[] {
  return Array.from({ length: events.count }, (_, i) => ({ _offset: firstOffset + i, ...rowAt(fields, events, i) }));
}
