/**
 * Aggregates: a view's state in memory, as both layers hold it. Each
 * (series, bucket) key has a slot, and each measure a column of monoid
 * states by slot. The speed layer folds events into these tables; the batch
 * layer loads its views into them; the serving layer merges them. Hot-path
 * storage, built on typed arrays; it imports only the definitions.
 *
 * @module
 */
export { AggregateTable, SLOT_BYTES, type States } from './aggregate-table.ts';
export { seriesKey, stringBytes } from './series-index.ts';
