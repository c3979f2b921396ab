/**
 * Scatter-gather's exchange, as a property: events split at random over
 * partitions (each partition's tables split again into generations, as a
 * node's speed layer holds them); each partition's share of a query, as
 * states, encoded to JSON text and decoded; the answer over the decoded
 * shares equals the answer over every table at once, for every query of the
 * shop (groupings, roll-ups, filters, ranges, rankings with limits, sketches).
 * A share not of its view's shape is refused, naming where.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregateTable } from '../../src/aggregates/index.ts';
import { compileConfig, createColumnValidator, emptyColumns, type EventColumns } from '../../src/definitions/index.ts';
import { decodePartial, encodePartial, executeQuery, InvalidPartialStatesError, partialTable, planQuery, QueryBudget, type PartialStates } from '../../src/serving/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { shopEvent } from '../support/shop-events.ts';
import { shopQueries } from '../support/shop-queries.ts';

const catalog = compileConfig(shopConfig);
const order = catalog.eventTypes.get('order')!;
const validate = createColumnValidator(order);

function columnsOf(raws: readonly unknown[]): EventColumns {
  const columns = emptyColumns(order.fields, raws.length);
  raws.forEach((raw, i) => validate(raw, columns, i));
  return { count: raws.length, columns };
}

const placed = fc.record({ event: shopEvent.filter((e) => e.valid), partition: fc.nat(3), generation: fc.nat(1) });

test('partial states - the answer over every partition\'s share, through JSON, equals the answer over every table at once', () => {
  fc.assert(fc.property(fc.array(placed, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 4 }), (events, partitions) => {
    for (const view of catalog.views.values()) {
      // tables[p][g]: partition p's generation g.
      const tables = Array.from({ length: partitions }, (_, p) => [0, 1].map((g) => {
        const table = new AggregateTable(view);
        const raws = events.filter((e) => e.partition % partitions === p && e.generation === g).map((e) => e.event.raw);
        if (raws.length > 0) table.apply(columnsOf(raws));
        return table;
      }));
      for (const query of shopQueries().filter((q) => q.view === view.name)) {
        const plan = planQuery(catalog, query);
        const whole = executeQuery(plan, tables.flat(), new QueryBudget());
        const shares = tables.map((own) => decodePartial(view, JSON.parse(JSON.stringify(encodePartial(partialTable(plan, own, new QueryBudget())))) as PartialStates));
        assert.deepEqual(executeQuery(plan, shares, new QueryBudget()), whole, JSON.stringify(query));
      }
    }
  }), { seed: 20261202, numRuns: 60 });
});

test('partial states - a share reads only what the query reads: series its filter leaves out and slots outside its range stay home', () => {
  const view = catalog.views.get('by_country_hour')!;
  const table = new AggregateTable(view);
  const at = (h: number) => Date.UTC(2024, 3, 1, h);
  table.apply(columnsOf(['DE', 'FR', 'DE'].map((country, i) => ({ id: `o${i}`, at: at(i * 30), country, mobile: true, amount: 1, qty: 1 }))));
  const plan = planQuery(catalog, { view: view.name, where: { country: 'DE' }, from: new Date(at(0)).toISOString(), to: new Date(at(40)).toISOString() });
  const share = encodePartial(partialTable(plan, [table], new QueryBudget()));
  assert.deepEqual(share.series.map((dims) => dims[0]), ['DE']);
  assert.equal(share.slots.length, 1);
});

test('partial states - a share not of its view\'s shape is refused, naming where', () => {
  const view = catalog.views.get('by_country_hour')!;
  const good: PartialStates = { view: view.name, series: [['DE']], slots: [[0, Date.UTC(2024, 3, 1), view.measures.map((m) => m.monoid.encode(m.monoid.empty()))]] };
  assert.equal(decodePartial(view, good).size, 1);
  const bad: [PartialStates, string][] = [
    [{ ...good, view: 'other' }, 'view'],
    [{ ...good, series: [['DE', 'extra']] }, 'series[0]'],
    [{ ...good, slots: [[3, 0, good.slots[0]![2]]] }, 'slots[0]'],
    [{ ...good, slots: [[0, 0, []]] }, 'slots[0]'],
  ];
  for (const [share, where] of bad) {
    assert.throws(() => decodePartial(view, share), (error: unknown) => error instanceof InvalidPartialStatesError && error.where === where && /^[^\n]+\.$/.test(error.message), where);
  }
});
