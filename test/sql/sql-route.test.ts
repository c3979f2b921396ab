/**
 * `POST /v1/sql` through Fastify's inject: the answer (columns, rows as
 * arrays, the JSON query's `meta`), the `query` scope, the row limit and
 * timeout of `/v1/query`, every refusal as a status, a code and the clause
 * at fault, and the route in `/openapi.json`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { keyDigest, type ApiKey } from '../../src/definitions/index.ts';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { openShopEngine, type ShopEngine } from './shop-engine.ts';

const QUERY_KEY = 'query-key-0123456789abcdef';
const INGEST_KEY = 'ingest-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';
const KEYS: ApiKey[] = [
  { name: 'analyst', scopes: new Set(['query']), digest: keyDigest(QUERY_KEY) },
  { name: 'loader', scopes: new Set(['ingest']), digest: keyDigest(INGEST_KEY) },
  { name: 'ops', scopes: new Set(['admin']), digest: keyDigest(ADMIN_KEY) },
];

let shop: ShopEngine;
let server: TandemServer;

before(async () => {
  shop = await openShopEngine();
  server = createServer({ tandem: shop.tandem, apiKeys: KEYS });
});
after(async () => {
  await server.app.close();
  await shop.close();
});

/** A POST with the query key, another key, or none (null). */
function post(url: string, payload: unknown, key: string | null = QUERY_KEY, app = server.app) {
  return app.inject({
    method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
  });
}

const sql = (text: string, params?: unknown[], key: string | null = QUERY_KEY) => post('/v1/sql', { sql: text, ...(params === undefined ? {} : { params }) }, key);

describe('sql route - answers', () => {
  test('sql route - a grouped statement answers columns with types, rows as arrays, and the meta of the same JSON query', async () => {
    const response = await sql('SELECT country, sum(revenue) AS revenue, sum(orders), avg(basket), approx_quantile(spread, 0.9) FROM by_country_hour WHERE time >= $1 GROUP BY country ORDER BY revenue DESC LIMIT 3', ['2024-04-01T00:00:00Z']);
    assert.equal(response.statusCode, 200, response.body);
    const answer = response.json() as { columns: { name: string; type: string }[]; rows: unknown[][]; meta: Record<string, unknown> };
    assert.deepEqual(answer.columns, [
      { name: 'country', type: 'text' }, { name: 'revenue', type: 'numeric' }, { name: 'sum', type: 'int8' }, { name: 'avg', type: 'numeric' }, { name: 'approx_quantile', type: 'float8' },
    ]);
    const json = await post('/v1/query', {
      view: 'by_country_hour', from: '2024-04-01T00:00:00Z', groupBy: ['country'], granularity: 'all',
      orderBy: [{ measure: 'revenue', desc: true }], limit: 3, quantiles: { spread: [0.9] },
    });
    const expected = json.json() as { rows: Record<string, unknown>[]; meta: Record<string, unknown> };
    assert.equal(answer.rows.length, 3);
    assert.deepEqual(answer.rows, expected.rows.map((r) => [r.country, r.revenue, r.orders, r.basket, (r.spread as Record<string, unknown>).p90]));
    const { batchAgeMs: _age, ...meta } = answer.meta;
    const { batchAgeMs: _ageJson, ...metaJson } = expected.meta;
    assert.deepEqual(meta, metaJson);
    assert.ok((meta.logEnd as number) > (meta.batchCutoff as number), 'the answer merges both layers');
  });

  test('sql route - SELECT * lists the view\'s rows, a quantiles measure as json', async () => {
    const response = await sql('SELECT * FROM all_time ORDER BY country');
    assert.equal(response.statusCode, 200, response.body);
    const answer = response.json() as { columns: { type: string }[]; rows: unknown[][] };
    assert.deepEqual(answer.columns.map((c) => c.type), ['text', 'int8', 'numeric', 'int8', 'json']);
    assert.deepEqual(answer.rows.map((r) => r[0]), ['BR', 'DE', 'FR', 'US']);
    assert.deepEqual(Object.keys(answer.rows[0]![4] as object), ['p50', 'p90', 'p99']);
  });

  test('sql route - aggregates without GROUP BY answer one row even when nothing matches, as in SQL', async () => {
    const response = await sql("SELECT sum(orders), count(DISTINCT devices), avg(basket) FROM by_country_hour WHERE country = 'nowhere'");
    assert.deepEqual((response.json() as { rows: unknown[][] }).rows, [[null, 0, null]]);
    const grouped = await sql("SELECT country, sum(orders) FROM by_country_hour WHERE country = 'nowhere' GROUP BY country");
    assert.deepEqual((grouped.json() as { rows: unknown[][] }).rows, []);
    const offset = await sql("SELECT sum(orders) FROM by_country_hour WHERE country = 'nowhere' OFFSET 1");
    assert.deepEqual((offset.json() as { rows: unknown[][] }).rows, []);
  });

  test('sql route - a statement is timed in the query histogram, labelled by its view', async () => {
    await sql('SELECT sum(orders) FROM totals_month');
    const metrics = await server.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.match(metrics.body, /tandem_query_duration_seconds_count\{view="totals_month"\} \d+/);
  });
});

describe('sql route - refusals', () => {
  test('sql route - the query scope: 401 without a key, 403 with a key lacking it', async () => {
    const none = await sql('SELECT sum(orders) FROM totals_month', undefined, null);
    assert.equal(none.statusCode, 401);
    const ingest = await sql('SELECT sum(orders) FROM totals_month', undefined, INGEST_KEY);
    assert.equal(ingest.statusCode, 403);
    assert.equal(ingest.json().error.code, 'forbidden');
  });

  test('sql route - refusals answer 400 with their code, the clause at fault and one sentence', async () => {
    const cases: [string, unknown[] | undefined, string, string | undefined][] = [
      ['SELEC 1', undefined, 'sql_syntax', 'sql'],
      ['SELECT 1; SELECT 2', undefined, 'sql_syntax', 'sql'],
      ['SELECT sum(orders) FROM nope', undefined, 'unknown_view', undefined],
      ['SELECT sum(ordrs) FROM totals_month', undefined, 'unknown_column', 'select[0]'],
      ['SELECT max(revenue) FROM totals_month', undefined, 'measure_misuse', 'select[0]'],
      ["SELECT time_bucket('5 minutes', time), sum(orders) FROM by_country_hour GROUP BY 1", undefined, 'time_bucket_unsupported', 'select[0]'],
      ["SELECT sum(orders) FROM by_country_hour WHERE country LIKE 'D%'", undefined, 'sql_unsupported', 'where'],
      ['SELECT sum(orders) FROM by_country_hour LIMIT -1', undefined, 'invalid_sql_value', 'limit'],
      ['SELECT sum(orders) FROM by_country_hour WHERE country = $1', undefined, 'sql_parameter', 'params[0]'],
      ['SELECT sum(orders) FROM by_country_hour', ['unused'], 'sql_parameter', 'params[0]'],
    ];
    for (const [text, params, code, field] of cases) {
      const response = await sql(text, params);
      assert.equal(response.statusCode, 400, text);
      const { error } = response.json() as { error: { code: string; message: string; field?: string } };
      assert.equal(error.code, code, text);
      assert.equal(error.field, field, text);
      assert.match(error.message, /^[^\n]+\.$/);
    }
  });

  test('sql route - a body that is no SQL request answers 400 malformed_body, and a body that is not JSON 415', async () => {
    for (const body of ['[1]', '"SELECT 1"', '{"sql": 1}', '{"sql": "SELECT 1", "param": []}', '{"sql": "SELECT 1", "params": {}}']) {
      const response = await post('/v1/sql', body);
      assert.equal(response.statusCode, 400, body);
      assert.equal(response.json().error.code, 'malformed_body', body);
    }
    const text = await server.app.inject({ method: 'POST', url: '/v1/sql', payload: 'SELECT 1', headers: { 'content-type': 'text/plain', authorization: `Bearer ${QUERY_KEY}` } });
    assert.equal(text.statusCode, 415);
  });

  test('sql route - the row limit and the timeout of /v1/query hold, the parse counted in the time', async () => {
    const fewRows = createServer({ tandem: shop.tandem, limits: { queryRows: 2 } });
    const quick = createServer({ tandem: shop.tandem, limits: { queryTimeoutMs: 1 } });
    try {
      const rows = await post('/v1/sql', { sql: 'SELECT country, sum(orders) FROM all_time GROUP BY country' }, null, fewRows.app);
      assert.equal(rows.statusCode, 400, rows.body);
      assert.equal(rows.json().error.code, 'result_too_large');
      const long = `SELECT sum(orders) FROM all_time WHERE country IN (${Array.from({ length: 9000 }, (_, i) => `'c${i}'`).join(',')})`;
      const slow = await post('/v1/sql', { sql: long }, null, quick.app);
      assert.equal(slow.statusCode, 503, slow.body);
      assert.equal(slow.json().error.code, 'query_timeout');
    } finally {
      await fewRows.app.close();
      await quick.app.close();
    }
  });
});

test('sql route - /openapi.json documents POST /v1/sql: its body, its answer, its scope and its codes', async () => {
  const response = await server.app.inject({ url: '/openapi.json', headers: { authorization: `Bearer ${QUERY_KEY}` } });
  const doc = response.json() as { paths: Record<string, { post?: { 'x-tandem-scope'?: string; requestBody: { content: Record<string, { schema: { required: string[] } }> }; responses: Record<string, { description: string }> } }> };
  const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  const operation = doc.paths['/v1/sql']!.post!;
  assert.equal(operation['x-tandem-scope'], 'query');
  assert.deepEqual(operation.requestBody.content['application/json']!.schema.required, ['sql']);
  for (const code of ['sql_syntax', 'sql_unsupported', 'unknown_column', 'measure_misuse', 'time_bucket_unsupported', 'invalid_sql_value', 'sql_parameter', 'result_too_large']) {
    assert.ok(operation.responses[400]!.description.includes(`\`${code}\``), code);
  }
  assert.ok(operation.responses[503]!.description.includes('`query_timeout`'));
});
