import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, InvalidDefinitionError, InvalidEventError, UnknownFieldError, UnknownMeasureTypeError } from '../../src/index.ts';
import { createEventValidator, DEFAULT_LIMITS, keyDigest } from '../../src/definitions/index.ts';
import { shopConfig } from '../support/shop-config.ts';

const json = () => JSON.parse(JSON.stringify(shopConfig));

test('config - the TypeScript form serialises to a JSON config with the same meaning', () => {
  const fromJson = compileConfig(json());
  const fromTs = compileConfig(shopConfig);
  assert.deepEqual([...fromJson.views.values()].map((v) => v.hash), [...fromTs.views.values()].map((v) => v.hash));
});

test('config - an unknown field is named with its path', () => {
  const config = json();
  config.views[0].measures.revenue.field = 'amuont';
  assert.throws(() => compileConfig(config), (e: unknown) =>
    e instanceof UnknownFieldError && e.field === 'amuont' && e.path === 'views[0].measures.revenue.field'
    && e.message === "views[0].measures.revenue.field names field 'amuont', which event type 'order' does not declare.");
});

test('config - an unknown measure type lists the known ones', () => {
  const config = json();
  config.views[0].measures.revenue.type = 'median';
  assert.throws(() => compileConfig(config), (e: unknown) => e instanceof UnknownMeasureTypeError && /known types are count, sum, min, max, avg/.test(e.message));
});

test('config - wrong types are rejected with one sentence naming the path', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases mutate parsed JSON freely
  const cases: [(c: any) => void, string][] = [
    [(c) => (c.views[0].measures.revenue.field = 'country'), 'views[0].measures.revenue.field'],
    [(c) => (c.eventTypes[0].fields.amount = 'decimal'), 'eventTypes[0].fields.amount'],
    [(c) => (c.eventTypes[0].fields.amount = { type: 'number', scale: 40 }), 'eventTypes[0].fields.amount.scale'],
    [(c) => (c.views[0].granularity = 'fortnight'), 'views[0].granularity'],
    [(c) => (c.views[1].filter[0].value = 'x'), 'views[1].filter[0].value'],
    [(c) => (c.views[1].filter = [{ field: 'country', op: '<', value: 'DE' }]), 'views[1].filter[0].op'],
    [(c) => (c.views[0].dimensions = ['at']), 'views[0].dimensions[0]'],
    [(c) => (c.views[0].name = '__proto__'), 'views[0].name'],
    [(c) => (c.views[1].name = c.views[0].name), 'views[1].name'],
    [(c) => (c.eventTypes[0].time = 'country'), 'eventTypes[0].time'],
    [(c) => (c.views[0].colour = 'red'), 'views[0].colour'],
  ];
  for (const [mutate, path] of cases) {
    const config = json();
    mutate(config);
    assert.throws(() => compileConfig(config), (e: unknown) => {
      assert.ok(e instanceof InvalidDefinitionError, `${path}: ${String(e)}`);
      assert.equal(e.path, path);
      assert.match(e.message, /^[^\n]+\.$/);
      return true;
    });
  }
});

test('events - each bad event gets a typed error naming the field', () => {
  const validate = createEventValidator(compileConfig(shopConfig).eventTypes.get('order')!);
  const good = { id: 'a', at: '2024-05-01T12:00:00Z', country: 'DE', mobile: true, amount: 19.99, qty: 2 };
  assert.equal(validate(good).amount, 1999);
  assert.equal(validate({ ...good, at: '2024-05-01T14:00:00+02:00' }).at, Date.UTC(2024, 4, 1, 12));
  const bad: [Record<string, unknown> | unknown, string, RegExp][] = [
    [{ ...good, amount: '19,99' }, 'amount', /must be a number, or a decimal string/],
    [{ ...good, amount: 19.999 }, 'amount', /more than 2 decimal places/],
    [{ ...good, amount: Infinity }, 'amount', /finite/],
    [{ ...good, amount: 1e300 }, 'amount', /within/],
    [{ ...good, at: '2024-13-01' }, 'at', /ISO-8601/],
    [{ ...good, at: 1.5 }, 'at', /epoch milliseconds/],
    [{ ...good, at: '1800-01-01T00:00:00Z' }, 'at', /between the years 1900 and 9999/],
    [{ ...good, country: undefined }, 'country', /is required/],
    [{ ...good, country: '\ud800' }, 'country', /invalid Unicode/],
    [{ ...good, mobile: 'yes' }, 'mobile', /true or false/],
    [{ ...good, colour: 'red' }, 'colour', /not declared/],
    [[1, 2], '', /JSON object/],
  ];
  for (const [event, field, message] of bad) {
    assert.throws(() => validate(event), (e: unknown) => e instanceof InvalidEventError && e.field === field && message.test(e.message), JSON.stringify(event));
  }
});

test('config - the server section: keys and limits are checked with the path at fault, and keys are kept only as digests', () => {
  const withServer = (server: unknown) => ({ ...json(), server });
  const key = { name: 'loader', scopes: ['ingest'], key: 'k'.repeat(16) };
  const cases: [unknown, string, RegExp][] = [
    [{ apiKeys: [{ ...key, key: 'short' }] }, 'server.apiKeys[0].key', /at least 16 characters/],
    [{ apiKeys: [{ ...key, sha256: 'ab'.repeat(32) }] }, 'server.apiKeys[0]', /either 'key' \(the secret\) or 'sha256' \(its digest\), not both or neither/],
    [{ apiKeys: [{ name: 'x', scopes: ['query'], sha256: 'xyz' }] }, 'server.apiKeys[0].sha256', /64 hexadecimal digits/],
    [{ apiKeys: [{ ...key, scopes: [] }] }, 'server.apiKeys[0].scopes', /at least one of ingest, query, admin/],
    [{ apiKeys: [key, key] }, 'server.apiKeys[1].name', /must be unique/],
    [{ limits: { queryRows: 0 } }, 'server.limits.queryRows', /positive integer/],
    [{ limits: { rows: 10 } }, 'server.limits.rows', /unknown key 'rows'/],
    [{ keys: [] }, 'server.keys', /unknown key 'keys'; allowed keys are apiKeys, limits/],
  ];
  for (const [server, path, message] of cases) {
    assert.throws(() => compileConfig(withServer(server)), (e: unknown) => e instanceof InvalidDefinitionError && e.path === path && message.test(e.message), path);
  }
  const compiled = compileConfig(withServer({ apiKeys: [key], limits: { queryRows: 50 } })).server;
  assert.deepEqual(compiled.limits, { ...DEFAULT_LIMITS, queryRows: 50 });
  assert.deepEqual(compiled.apiKeys[0]!.digest, keyDigest(key.key));
  assert.equal(JSON.stringify(compiled).includes(key.key), false);
});
