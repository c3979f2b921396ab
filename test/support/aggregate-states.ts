/**
 * Checks of an aggregate table's states against a reference: the table the
 * speed layer folds from the same events, in JavaScript.
 */
import assert from 'node:assert/strict';
import { AggregateTable } from '../../src/aggregates/index.ts';
import { toColumns, type Row, type ViewSchema } from '../../src/definitions/index.ts';

/** The states `view` folds from `rows` (normalized values), as the speed layer holds them. */
export function fold(view: ViewSchema, rows: readonly Row[]): AggregateTable {
  const table = new AggregateTable(view);
  table.apply(toColumns(view.eventType.fields, rows));
  return table;
}

/** Every (series, bucket) of `expected` is in `actual` with the same states, and nothing else is. */
export function assertSameStates(actual: AggregateTable, expected: AggregateTable): void {
  assert.equal(actual.size, expected.size);
  for (let slot = 0; slot < expected.size; slot++) {
    const series = actual.findSeries(expected.dims(expected.seriesAt(slot)));
    const at = actual.findSlot(series, expected.bucketAt(slot));
    assert.notEqual(at, -1, `${JSON.stringify(expected.dims(expected.seriesAt(slot)))} on ${new Date(expected.bucketAt(slot)).toISOString()}`);
    expected.columns.forEach((column, i) => assert.deepEqual(actual.columns[i]!.get(at), column.get(slot)));
  }
}
