/**
 * How a cluster places events in partitions (`cluster.partitionBy`): by a
 * field's value, every event of one value lands in one partition whatever
 * its key; and every node agrees on the rule, recorded once, or is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileConfig, toColumns, type Row } from '../../../src/definitions/index.ts';
import { PartitionRouter, partitionsOfQuery, routingKeys } from '../../../src/backends/nats/partition-router.ts';
import { planQuery } from '../../../src/serving/index.ts';
import { agreeOnRouting, ROUTING_KEY } from '../../../src/backends/nats/partition-routing.ts';
import { PartitionRoutingMismatchError } from '../../../src/backends/nats/errors.ts';
import { MemoryRevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';
import type { RoutingRecord } from '../../../src/backends/nats/record-schemas.ts';

const catalog = (partitionBy?: Record<string, string>) => compileConfig({
  eventTypes: [{ name: 'usage', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', customer: 'string', units: 'number' } }],
  views: [],
  cluster: { name: 'shop', partitions: 8, ...(partitionBy === undefined ? {} : { partitionBy }) },
});

test('partition routing: by a field, events of one value share a partition whatever their keys; by key, copies of a key do', () => {
  const schema = catalog().eventTypes.get('usage')!;
  const event = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e'), customer: fc.constantFrom('c1', 'c2', 'c3'), units: fc.integer({ min: 0, max: 9 }) });
  fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), fc.constantFrom('customer', 'units', undefined), (events, field) => {
    const rows = events.map((e, i): Row => ({ _offset: null, at: i, ...e }));
    const columns = toColumns(schema.fields, rows);
    const partitions = new PartitionRouter(8).route('usage', columns.count, routingKeys(schema, columns, field));
    const by = field ?? 'id';
    const seen = new Map<unknown, number>();
    rows.forEach((row, i) => {
      const first = seen.get(row[by]) ?? partitions[i]!;
      assert.equal(partitions[i], first, `every event with ${by} ${String(row[by])} goes to one partition`);
      seen.set(row[by], first);
    });
  }), { seed: 28, numRuns: 200 });
});

test('partition routing: a query pinning the field is answered by the partitions its values are placed in, and by all otherwise', () => {
  const placed = catalog({ usage: 'customer' });
  const withViews = compileConfig({ ...placed.config, views: [{ name: 'by_customer', eventType: 'usage', dimensions: ['customer'], granularity: 'hour', measures: { n: { type: 'count' } } }] });
  const schema = withViews.eventTypes.get('usage')!;
  fc.assert(fc.property(fc.uniqueArray(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 4 }), (customers) => {
    const plan = planQuery(withViews, { view: 'by_customer', where: { customer: customers } });
    const columns = toColumns(schema.fields, customers.map((customer, i): Row => ({ _offset: null, id: `e${i}`, at: i, customer, units: 1 })));
    const placedIn = new PartitionRouter(8).route('usage', columns.count, routingKeys(schema, columns, 'customer'));
    assert.deepEqual([...partitionsOfQuery(plan, { usage: 'customer' }, 8)!].sort(), [...new Set(placedIn)].sort());
  }), { seed: 28, numRuns: 200 });
  assert.equal(partitionsOfQuery(planQuery(withViews, { view: 'by_customer' }), { usage: 'customer' }, 8), undefined, 'no where: every partition');
  assert.equal(partitionsOfQuery(planQuery(withViews, { view: 'by_customer', where: { customer: 'c1' } }), {}, 8), undefined, 'placed by key: every partition');
});

test('partition routing: the first node records its rule; the others must agree, in any order of entries', async () => {
  const store = new MemoryRevisionedStore<RoutingRecord>();
  const cluster = catalog({ usage: 'customer' }).cluster!;
  await agreeOnRouting(store, cluster, async () => false);
  assert.deepEqual((await store.get(ROUTING_KEY))?.value, { partitionBy: { usage: 'customer' } });
  await agreeOnRouting(store, cluster, async () => true);
  await assert.rejects(agreeOnRouting(store, catalog().cluster!, async () => true), (error: unknown) => {
    assert.ok(error instanceof PartitionRoutingMismatchError);
    assert.match(error.message, /^Cluster shop places events by usage\.customer where the config says by idempotency key: .+\.$/);
    return true;
  });
});

test('partition routing: a cluster whose log already holds events placed them by key, and keeps that rule', async () => {
  const store = new MemoryRevisionedStore<RoutingRecord>();
  await assert.rejects(agreeOnRouting(store, catalog({ usage: 'customer' }).cluster!, async () => true), PartitionRoutingMismatchError);
  assert.deepEqual((await store.get(ROUTING_KEY))?.value, { partitionBy: {} });
  await agreeOnRouting(store, catalog().cluster!, async () => true);
});
