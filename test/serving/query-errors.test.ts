import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InvalidQueryError, Tandem, UnknownDimensionError, UnknownMeasureError, UnknownViewError, type Query } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string;
let engine: Tandem;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-query-'));
  engine = await Tandem.open({ dataDir: dir, config: shopConfig });
});
after(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

test('query - unknown names and malformed parts get typed errors naming them', async () => {
  const cases: [unknown, new (...a: never[]) => Error, RegExp][] = [
    [{ view: 'nope' }, UnknownViewError, /Unknown view 'nope'/],
    [{ view: 'by_country_hour', groupBy: ['city'] }, UnknownDimensionError, /groupBy\[0\] names 'city'/],
    [{ view: 'by_country_hour', where: { city: 'x' } }, UnknownDimensionError, /where.city/],
    [{ view: 'by_country_hour', orderBy: [{ measure: 'profit' }] }, UnknownMeasureError, /orderBy\[0\].measure names 'profit'/],
    [{ view: 'by_country_hour', from: 'yesterday' }, InvalidQueryError, /from must be/],
    [{ view: 'by_country_hour', granularity: 'minute' }, InvalidQueryError, /do not roll up into minute/],
    [{ view: 'by_country_hour', limit: -1 }, InvalidQueryError, /limit/],
    [{ view: 'by_country_hour', layer: 'cache' }, InvalidQueryError, /layer/],
    [{ view: 'by_country_hour', select: '*' }, InvalidQueryError, /Unknown query key 'select'/],
    [{ view: 'all_time', from: '2024-01-01T00:00:00Z' }, InvalidQueryError, /no time granularity/],
    [{ view: 'by_country_hour', where: { country: 7 } }, InvalidQueryError, /must be a string/],
    [{ view: 'by_country_hour', quantiles: { spread: [0.5, 0.5000000000000001] } }, InvalidQueryError, /^quantiles\.spread lists 0\.5 and 0\.5000000000000001, which both answer as 'p50'; list each quantile once\.$/],
    [{ view: 'by_country_hour', quantiles: { spread: [0.9, 0.99, 0.9] } }, InvalidQueryError, /lists 0\.9 and 0\.9, which both answer as 'p90'/],
    [{ view: 'by_country_hour', after: [0, 0] }, InvalidQueryError, /^after must hold one sequence per partition: 1 of them, as an ingest answers\.$/],
    [{ view: 'by_country_hour', after: [10 ** 9] }, InvalidQueryError, /^after names offset 1000000000, past this engine's log end \d+: send back the position/],
  ];
  for (const [query, type, message] of cases) {
    await assert.rejects(engine.query(query as Query), (e: unknown) => e instanceof type && message.test((e as Error).message), JSON.stringify(query));
  }
});

test('query - SQL-looking text in a query is only ever a value to compare', async () => {
  await engine.ingest('order', [{ id: "x'; DROP TABLE t; --", at: 0, country: "DE' OR 1=1 --", mobile: true, amount: 1, qty: 1 }]);
  const { rows } = await engine.query({ view: 'all_time', where: { country: "DE' OR 1=1 --" }, groupBy: ['country'] });
  assert.deepEqual(rows, [{ country: "DE' OR 1=1 --", orders: 1, revenue: 1, sizes: 1, typical: { p50: 1, p90: 1, p99: 1 } }]);
  await engine.runBatch();
  const after = await engine.query({ view: 'all_time', where: { country: "DE' OR 1=1 --" }, groupBy: ['country'], layer: 'batch' });
  assert.deepEqual(after.rows, rows);
});

test('query - an ingest is visible to the very next query (read your writes), with the boundary in meta', async () => {
  const before = (await engine.query({ view: 'all_time', granularity: 'all' })).rows[0]?.orders ?? 0;
  const result = await engine.ingest('order', [{ id: 'ryw', at: '2024-05-01T00:00:00Z', country: 'FR', mobile: false, amount: 2, qty: 1 }]);
  const { rows, meta } = await engine.query({ view: 'all_time', granularity: 'all' });
  assert.equal(rows[0]?.orders, Number(before) + 1);
  assert.equal(meta.logEnd, result.lastOffset! + 1);
  assert.equal(typeof meta.batchAgeMs, 'number');
});

test('query - after: the position an embedded ingest answers with is one number, read at once, so a client written for a cluster works unchanged', async () => {
  const { position } = await engine.ingest('order', [{ id: 'after-1', at: 0, country: 'JP', mobile: true, amount: 1, qty: 1 }]);
  assert.deepEqual(position, [engine.status().logEnd]);
  const { rows } = await engine.query({ view: 'by_country_hour', where: { country: 'JP' }, granularity: 'all', after: position });
  assert.equal(rows[0]?.orders, 1);
  assert.deepEqual((await engine.ingest('order', [{ id: 'after-1', at: 0, country: 'JP', mobile: true, amount: 1, qty: 1 }])).position, position, 'a duplicate-only ingest answers where the log ends');
});
