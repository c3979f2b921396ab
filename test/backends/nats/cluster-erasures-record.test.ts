/**
 * The cluster's erasures record is checked before it is read: an audit's
 * `frozen` outcomes (what an erasure did to a view's frozen aggregates)
 * pass when well formed, and a malformed one names its field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERASURES_RECORD_SHAPE } from '../../../src/backends/nats/cluster-erasures-record.ts';
import { RecordShapeError } from '../../../src/backends/nats/record-schemas.ts';

const audit = { id: 'e1', by: 'ops', requestedAt: '2026-12-04T00:00:00.000Z', completedAt: '2026-12-04T00:00:01.000Z', eventType: 'usage', fields: ['customer'], events: 3, files: 1, version: 4 };

test('erasures record - an audit\'s frozen outcomes are checked', () => {
  const frozen = [{ view: 'by_customer', outcome: 'dropped', rows: 2, events: 20 }, { view: 'by_plan', outcome: 'counted' }];
  const record = { pending: [], audit: [{ ...audit, frozen }] };
  assert.deepEqual(ERASURES_RECORD_SHAPE.check(record), record);
  assert.deepEqual(ERASURES_RECORD_SHAPE.check({ pending: [], audit: [audit] }), { pending: [], audit: [audit] });
  const refused = (bad: unknown, path: string) => assert.throws(() => ERASURES_RECORD_SHAPE.check({ pending: [], audit: [{ ...audit, frozen: bad }] }), (e: unknown) =>
    e instanceof RecordShapeError && e.message.includes(path));
  refused([{ view: 'by_customer', outcome: 'gone' }], 'audit[0].frozen[0].outcome');
  refused([{ view: 'by_customer', outcome: 'dropped' }], 'audit[0].frozen[0].rows');
  refused([{ outcome: 'counted' }], 'audit[0].frozen[0].view');
  refused({ view: 'x' }, 'audit[0].frozen');
});
