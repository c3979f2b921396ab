/**
 * A measure's own filter is checked as a view's filter is, with errors that
 * name the path inside the measure, and is part of the view's hash: a
 * changed measure filter recomputes the view.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, InvalidDefinitionError, UnknownFieldError } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases mutate parsed JSON freely
const json = (): any => JSON.parse(JSON.stringify(shopConfig));

/** The shop config with `filter` on measure `revenue` of its first view. */
function withRevenueFilter(filter: unknown): unknown {
  const config = json();
  config.views[0].measures.revenue.filter = filter;
  return config;
}

test('measure filter - compiles into the measure, beside the view filter it is ANDed with', () => {
  const catalog = compileConfig(withRevenueFilter([{ field: 'country', op: 'in', value: ['DE', 'FR'] }, { field: 'amount', op: '>=', value: 10.5 }]));
  const view = catalog.views.get('by_country_hour')!;
  const revenue = view.measures.find((m) => m.name === 'revenue')!;
  assert.deepEqual(revenue.filter.map((f) => [f.field.name, f.op, f.values]), [['country', 'in', ['DE', 'FR']], ['amount', '>=', [1050]]]);
  assert.deepEqual(view.measures.find((m) => m.name === 'orders')!.filter, []);
  assert.equal(revenue.filter[1]!.test(1050), true);
  assert.equal(revenue.filter[1]!.test(1049), false);
  assert.equal(revenue.filter[0]!.test(null), false, 'a null value fails every condition, as in SQL');
});

test('measure filter - every kind of measure takes one, and an empty list filters nothing', () => {
  const config = json();
  const filter = [{ field: 'mobile', op: '=', value: true }];
  for (const measure of Object.values(config.views[0].measures) as Record<string, unknown>[]) measure.filter = filter;
  const view = compileConfig(config).views.get('by_country_hour')!;
  assert.deepEqual(view.measures.map((m) => [m.type, m.filter.length]), [
    ['count', 1], ['sum', 1], ['min', 1], ['max', 1], ['avg', 1], ['countDistinct', 1], ['quantiles', 1],
  ]);
  assert.deepEqual(compileConfig(withRevenueFilter([])).views.get('by_country_hour')!.measures[1]!.filter, []);
});

test('measure filter - a wrong condition is refused in one sentence naming its path in the measure', () => {
  const at = 'views[0].measures.revenue.filter';
  const cases: [unknown, string, string][] = [
    [{ field: 'amount', op: '>', value: 0 }, at, `${at} must be an array.`],
    [[{ field: 'country', op: '<', value: 'DE' }], `${at}[0].op`, `${at}[0].op '<' needs a number or timestamp field; 'country' is a string.`],
    [[{ field: 'amount', op: '>=', value: 'x' }], `${at}[0].value`, ''],
    [[{ field: 'amount', op: '~', value: 1 }], `${at}[0].op`, `${at}[0].op must be one of =, !=, <, <=, >, >=, in; got "~".`],
    [[{ field: 'country', op: 'in', value: [] }], `${at}[0].value`, `${at}[0].value must list at least one value.`],
    [[{ field: 'country', op: 'in', value: 'DE' }], `${at}[0].value`, `${at}[0].value must be an array.`],
    [[{ field: 'country', op: 'in', value: ['DE', null] }], `${at}[0].value[1]`, `${at}[0].value[1] must not be null.`],
    [[{ field: 'mobile', op: '=', value: true }, { field: 'amount', op: '=', value: null }], `${at}[1].value`, `${at}[1].value must not be null.`],
    [[{ field: 'amount', op: '>', value: 0, unit: 'EUR' }], `${at}[0].unit`, `${at}[0] has unknown key 'unit'; allowed keys are field, op, value.`],
    [['amount > 0'], `${at}[0]`, `${at}[0] must be an object.`],
  ];
  for (const [filter, path, message] of cases) {
    assert.throws(() => compileConfig(withRevenueFilter(filter)), (e: unknown) => {
      assert.ok(e instanceof InvalidDefinitionError, `${path}: ${String(e)}`);
      assert.equal(e.path, path);
      if (message !== '') assert.equal(e.message, message);
      assert.match(e.message, /^[^\n]+\.$/);
      return true;
    });
  }
});

test('measure filter - a field the event type lacks is an unknown field at the filter path', () => {
  assert.throws(() => compileConfig(withRevenueFilter([{ field: 'status', op: '>=', value: 500 }])), (e: unknown) =>
    e instanceof UnknownFieldError && e.path === 'views[0].measures.revenue.filter[0].field' && e.field === 'status'
    && e.message === "views[0].measures.revenue.filter[0].field names field 'status', which event type 'order' does not declare.");
});

test('measure filter - count takes one too, and still no field', () => {
  const config = json();
  config.views[0].measures.orders = { type: 'count', field: 'amount', filter: [] };
  assert.throws(() => compileConfig(config), (e: unknown) => e instanceof InvalidDefinitionError && e.path === 'views[0].measures.orders.field');
});

test('measure filter - part of the view hash: adding, changing or dropping one recomputes the view, and the others keep theirs', () => {
  const hashes = (config: unknown) => [...compileConfig(config).views.values()].map((v) => v.hash);
  const plain = hashes(json());
  const filtered = hashes(withRevenueFilter([{ field: 'amount', op: '>', value: 0 }]));
  const changed = hashes(withRevenueFilter([{ field: 'amount', op: '>', value: 1 }]));
  assert.notEqual(filtered[0], plain[0]);
  assert.notEqual(changed[0], filtered[0]);
  assert.deepEqual(filtered.slice(1), plain.slice(1));
  // Key order is not meaning: the hash is of the canonical definition.
  assert.deepEqual(hashes(withRevenueFilter([{ value: 0, op: '>', field: 'amount' }])), filtered);
});
