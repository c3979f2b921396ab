/**
 * The SQL planner: statements as BI tools and people write them, each
 * mapped onto the JSON query that answers it, and every refusal, each a
 * typed error with a code, the clause at fault and one sentence.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { compileConfig, type TandemError } from '../../src/index.ts';
import type { Query } from '../../src/serving/index.ts';
import {
  InvalidSqlValueError, MeasureMisuseError, SqlParameterError, SqlRunner, SqlSyntaxError, SqlTooLargeError, TimeBucketError, UnknownColumnError, UnsupportedSqlError,
  type SqlPlan,
} from '../../src/sql/index.ts';
import { UnknownViewError } from '../../src/serving/index.ts';
import { shopConfig } from '../support/shop-config.ts';

const NOW = Date.UTC(2024, 4, 10, 12, 30);
const runner = new SqlRunner({ catalog: compileConfig(shopConfig), query: () => Promise.reject(new Error('plans only')) }, () => NOW);
after(() => runner.close());

const plan = (sql: string, params?: unknown[]): Promise<SqlPlan> => runner.plan({ sql, ...(params === undefined ? {} : { params }) });

async function expectQuery(sql: string, query: Partial<Query>, params?: unknown[]): Promise<SqlPlan> {
  const planned = await plan(sql, params);
  const { view, ...rest } = planned.query;
  assert.deepEqual(rest, { groupBy: [], granularity: 'all', ...query }, sql);
  assert.ok(typeof view === 'string');
  return planned;
}

const columnsOf = (planned: SqlPlan) => planned.columns.map((c) => `${c.name}:${c.type}`);

describe('sql planner - shapes', () => {
  test('sql planner - a grouped top-N with aliases, every measure type merged by its own aggregate, LIMIT and OFFSET', async () => {
    const planned = await expectQuery(
      `SELECT country, sum(revenue) AS rev, sum(orders), avg(basket), min(smallest), max(latest), count(DISTINCT devices),
              approx_count_distinct(devices) AS d2, percentile_cont(0.99) WITHIN GROUP (ORDER BY spread), approx_quantile(spread, 0.5) p50, median(spread)
       FROM by_country_hour GROUP BY country ORDER BY rev DESC LIMIT 10 OFFSET 5`,
      { groupBy: ['country'], orderBy: [{ measure: 'revenue', desc: true }], limit: 15, quantiles: { spread: [0.99, 0.5] } },
    );
    assert.deepEqual(columnsOf(planned), [
      'country:text', 'rev:numeric', 'sum:int8', 'avg:numeric', 'min:numeric', 'max:timestamptz', 'count:int8', 'd2:int8', 'percentile_cont:float8', 'p50:float8', 'median:float8',
    ]);
    assert.equal(planned.offset, 5);
  });

  test('sql planner - time ranges: >= and <, > and <=, BETWEEN, =, the value on the left, casts, params, now() - interval, to_timestamp', async () => {
    const may = Date.UTC(2024, 4, 1);
    const june = Date.UTC(2024, 5, 1);
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time >= '2024-05-01' AND time < '2024-06-01T00:00:00Z'", { from: may, to: june });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time > '2024-05-01' AND time <= '2024-06-01'", { from: may + 1, to: june + 1 });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time BETWEEN '2024-05-01T00:00:00Z' AND '2024-06-01T00:00:00Z'", { from: may, to: june + 1 });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time = TIMESTAMPTZ '2024-05-01 00:00:00+00'", { from: may, to: may + 1 });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE '2024-05-01'::timestamptz <= time AND DATE '2024-06-01' > time", { from: may, to: june });
    await expectQuery('SELECT sum(orders) FROM by_country_hour WHERE time >= $1 AND time < $2', { from: may, to: june }, ['2024-05-01T00:00:00Z', june]);
    await expectQuery('SELECT sum(orders) FROM by_country_hour WHERE time >= $1::timestamptz', { from: may }, ['2024-05-01T02:00:00+02:00']);
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time >= now() - interval '7 days'", { from: NOW - 7 * 86_400_000 });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time >= now() - INTERVAL 2 HOUR AND time < current_timestamp", { from: NOW - 7_200_000, to: NOW });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time > NOW() - '1 month 2 days'::interval", { from: Date.UTC(2024, 3, 8, 12, 30) + 1 });
    await expectQuery('SELECT sum(orders) FROM by_country_hour WHERE time >= to_timestamp(1714521600) AND time < to_timestamp(1717200000)', { from: may, to: june });
    // Two lower bounds: both hold. A bound beyond the times events can hold is no bound.
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time >= '2024-01-01' AND time >= '2024-05-01' AND time > '1800-01-01'", { from: may });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE time >= '2024-06-01' AND time < '2024-05-01'", { from: june, to: june });
  });

  test('sql planner - buckets: the time column, date_trunc, time_bucket, and Grafana macros (epoch seconds, to_timestamp, extract)', async () => {
    const buckets: [expression: string, granularity: string, type: string, view?: string][] = [
      ['time', 'hour', 'timestamptz'],
      ["date_trunc('day', time)", 'day', 'timestamptz'],
      ["date_trunc('WEEK', time)", 'week', 'timestamptz'],
      ["date_trunc('month', time)", 'month', 'timestamptz'],
      ["date_trunc('minute', time)", 'minute', 'timestamptz', 'by_country_minute'],
      ["time_bucket(INTERVAL '1 hour', time)", 'hour', 'timestamptz'],
      ["time_bucket('1 day', time)", 'day', 'timestamptz'],
      ["time_bucket('7 days', time)", 'week', 'timestamptz'],
      ["time_bucket('1 month', time)", 'month', 'timestamptz'],
      ['floor(extract(epoch from time)/3600)*3600', 'hour', 'numeric'],
      ['floor(extract(epoch from "time")/86400)*86400', 'day', 'numeric'],
      ['to_timestamp(floor(extract(epoch from time)/60)*60)', 'minute', 'timestamptz', 'by_country_minute'],
      ['extract(epoch from time)', 'hour', 'numeric'],
      ["date_trunc('week', time)", 'week', 'timestamptz', 'by_device_week'],
      ['CAST(time AS date)', 'day', 'date'],
      ["date_trunc('month', time)::date", 'month', 'date'],
      ['CAST(time AS date)', 'week', 'date', 'by_device_week'],
      ['time::timestamptz', 'hour', 'timestamptz'],
      ["CAST(date_trunc('day', time::timestamp) AS timestamptz)", 'day', 'timestamptz'],
    ];
    for (const [expression, granularity, type, view = 'by_country_hour'] of buckets) {
      const planned = await expectQuery(`SELECT ${expression} AS t, sum(orders) FROM ${view} GROUP BY 1 ORDER BY 1`, { granularity, orderBy: [{ time: true }] } as Partial<Query>);
      assert.equal(planned.columns[0]!.type, type, expression);
    }
  });

  test('sql planner - GROUP BY by position, by output alias, by expression, and a grouped dimension left out of SELECT', async () => {
    await expectQuery("SELECT date_trunc('day', time) AS day, country, sum(orders) FROM by_country_hour GROUP BY day, 2", { groupBy: ['country'], granularity: 'day' });
    await expectQuery("SELECT sum(orders) FROM by_country_hour GROUP BY date_trunc('day', time), country", { groupBy: ['country'], granularity: 'day' });
    await expectQuery('SELECT device, sum(orders) FROM by_device_week GROUP BY mobile, device', { groupBy: ['mobile', 'device'] });
    await expectQuery('SELECT DISTINCT country FROM by_country_hour', { groupBy: ['country'] });
  });

  test('sql planner - WHERE on dimensions: =, IN, IS NULL, params, number and boolean values, two conditions on one dimension', async () => {
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE country = 'DE'", { where: { country: ['DE'] } });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE country IN ('DE', 'FR', 'DE')", { where: { country: ['DE', 'FR'] } });
    await expectQuery('SELECT sum(orders) FROM by_device_week WHERE device IS NULL AND mobile = true', { where: { device: [null], mobile: [true] } });
    await expectQuery('SELECT sum(orders) FROM by_device_week WHERE mobile = $1 AND device IN ($2, NULL)', { where: { mobile: [false], device: ['ios'] } }, [false, 'ios']);
    await expectQuery("SELECT sum(orders) FROM by_country_minute WHERE qty IN (5, '7', 7.0)", { where: { qty: [5, 7] } });
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE country IN ('DE', 'FR') AND country = 'FR'", { where: { country: ['FR'] } });
    // No value can meet both: nothing is read.
    await expectQuery("SELECT sum(orders) FROM by_country_hour WHERE country = 'DE' AND country = 'FR'", { limit: 0 });
  });

  test('sql planner - ORDER BY output names, positions, aggregates not selected, dimensions, time, quantiles, NULLS LAST, repeats', async () => {
    await expectQuery(
      'SELECT country AS c, time, sum(revenue) FROM by_country_hour GROUP BY c, time ORDER BY 3 DESC, c, time DESC NULLS LAST, max(latest), sum(revenue)',
      { groupBy: ['country'], granularity: 'hour', orderBy: [{ measure: 'revenue', desc: true }, { dimension: 'country' }, { time: true, desc: true }, { measure: 'latest' }] },
    );
    await expectQuery(
      'SELECT country FROM by_country_hour GROUP BY country ORDER BY approx_quantile(spread, 0.9) DESC LIMIT 3',
      { groupBy: ['country'], orderBy: [{ measure: 'spread', quantile: 0.9, desc: true }], limit: 3, quantiles: { spread: [0.9] } },
    );
  });

  test('sql planner - the view\'s own rows: SELECT *, plain columns, and names in any case, qualified, in a schema', async () => {
    const star = await expectQuery('SELECT * FROM all_time', { groupBy: ['country'] });
    assert.deepEqual(columnsOf(star), ['country:text', 'orders:int8', 'revenue:numeric', 'sizes:int8', 'typical:json']);
    const rows = await expectQuery('SELECT r.TIME, R.Country, revenue FROM public.BY_COUNTRY_HOUR AS r ORDER BY revenue DESC LIMIT 5', {
      groupBy: ['country'], granularity: 'hour', orderBy: [{ measure: 'revenue', desc: true }], limit: 5,
    });
    assert.deepEqual(columnsOf(rows), ['TIME:timestamptz', 'Country:text', 'revenue:numeric']);
    // As Metabase writes its queries: every column qualified by schema and view.
    await expectQuery('SELECT "public"."by_country_hour"."country" AS "country", sum("public"."by_country_hour"."orders") AS "sum" FROM "public"."by_country_hour" GROUP BY "public"."by_country_hour"."country" ORDER BY "public"."by_country_hour"."country" ASC LIMIT 2000', {
      groupBy: ['country'], orderBy: [{ dimension: 'country' }], limit: 2000,
    });
    await expectQuery('/* a comment */ SELECT sum(orders) -- and another\nFROM by_country_hour WHERE country = \'Côte d’Ivoire 😀\';', { where: { country: ['Côte d’Ivoire 😀'] } });
  });
});

/** A refusal: its class, the clause it names, and a pattern its one sentence matches. */
type Refusal = readonly [sql: string, error: new (...args: never[]) => TandemError, field: string | undefined, message: RegExp, params?: unknown[]];

const REFUSALS: readonly Refusal[] = [
  ['SELEC 1', SqlSyntaxError, 'sql', /does not parse: syntax error at or near "SELEC"/],
  ['SELECT sum(orders) FROM by_country_hour; SELECT 1', SqlSyntaxError, 'sql', /holds 2 statements; send exactly one SELECT/],
  ['   ', SqlSyntaxError, 'sql', /one SELECT statement/],
  ["INSERT INTO by_country_hour VALUES (1)", SqlSyntaxError, 'sql', /Only SELECT statements are answered/],
  ['DROP TABLE by_country_hour', SqlSyntaxError, 'sql', /Only SELECT/],
  ['SELECT sum(orders) FROM by_country_hour LIMIT 1e400', SqlSyntaxError, 'sql', /beyond the range of a double \(such as 1e400\)/],
  [`SELECT sum(orders) FROM by_country_hour WHERE country IN (${"'x',".repeat(30_000)}'y')`, SqlTooLargeError, 'sql', /more than the limit of 100,000/],
  [`SELECT sum(orders) FROM by_country_hour WHERE qty = ${'abs('.repeat(100)}1${')'.repeat(100)}`, SqlTooLargeError, 'sql', /nests expressions too deeply/],
  ['SELECT sum(orders) FROM nope', UnknownViewError, undefined, /Unknown view 'nope'/],
  ['SELECT sum(orders) FROM other.by_country_hour', UnknownViewError, undefined, /Unknown view/],
  ['SELECT sum(ordrs) FROM by_country_hour', UnknownColumnError, 'select[0]', /column 'ordrs', which view 'by_country_hour' does not have; its columns are time, country, orders/],
  ["SELECT sum(orders) FROM by_country_hour WHERE land = 'DE'", UnknownColumnError, 'where', /column 'land'/],
  ['SELECT sum(orders) FROM by_country_hour GROUP BY land', UnknownColumnError, 'group by[0]', /column 'land'/],
  ['SELECT x.country FROM by_country_hour', UnsupportedSqlError, 'select[0]', /qualify a column with the view's name \(in schema public\) or alias only/],
  ['SELECT other.by_country_hour.country FROM by_country_hour', UnsupportedSqlError, 'select[0]', /qualify a column/],
  ['SELECT max(revenue) FROM by_country_hour', MeasureMisuseError, 'select[0]', /max\(revenue\) cannot be answered .*'revenue' is a sum measure, merged by adding; write sum\(revenue\)\./],
  ['SELECT sum(smallest) FROM by_country_hour', MeasureMisuseError, 'select[0]', /write min\(smallest\)/],
  ['SELECT avg(revenue) FROM by_country_hour', MeasureMisuseError, 'select[0]', /write sum\(revenue\)/],
  ['SELECT sum(basket) FROM by_country_hour', MeasureMisuseError, 'select[0]', /an avg measure, merged as its exact sum over its count; write avg\(basket\)/],
  ['SELECT count(devices) FROM by_country_hour', MeasureMisuseError, 'select[0]', /write count\(DISTINCT devices\) or approx_count_distinct\(devices\)/],
  ['SELECT count(orders) FROM by_country_hour', MeasureMisuseError, 'select[0]', /write sum\(orders\)/],
  ['SELECT sum(DISTINCT revenue) FROM by_country_hour', MeasureMisuseError, 'select[0]', /sum\(DISTINCT revenue\) cannot/],
  ['SELECT max(spread) FROM by_country_hour', MeasureMisuseError, 'select[0]', /write percentile_cont\(0.99\) WITHIN GROUP \(ORDER BY spread\) or approx_quantile\(spread, 0.99\)/],
  ['SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY basket) FROM by_country_hour', MeasureMisuseError, 'select[0]', /write avg\(basket\)/],
  ['SELECT country, revenue FROM by_country_hour GROUP BY country', MeasureMisuseError, 'select[1]', /revenue without an aggregate in a grouped query cannot be answered/],
  ['SELECT sum(orders) FROM by_country_hour GROUP BY revenue', MeasureMisuseError, 'group by[0]', /a grouping by revenue cannot be answered/],
  ["SELECT time_bucket('5 minutes', time), sum(orders) FROM by_country_hour GROUP BY 1", TimeBucketError, 'select[0]', /'5 minutes', which no granularity matches/],
  ["SELECT date_trunc('minute', time), sum(orders) FROM by_country_hour GROUP BY 1", TimeBucketError, 'select[0]', /minute buckets, finer than the hour buckets of view 'by_country_hour'; use hour, day, week, month, quarter or year\./],
  ["SELECT date_trunc('month', time), sum(orders) FROM by_device_week GROUP BY 1", TimeBucketError, 'select[0]', /month buckets, which do not roll up from the week buckets of view 'by_device_week'; use week\./],
  ["SELECT date_trunc('decade', time), sum(orders) FROM by_country_hour GROUP BY 1", TimeBucketError, 'select[0]', /'decade', which no granularity matches/],
  ['SELECT floor(extract(epoch from time)/300)*300, sum(orders) FROM by_country_hour GROUP BY 1', TimeBucketError, 'select[0]', /300 seconds, which no granularity matches/],
  ['SELECT floor(extract(epoch from time)/604800)*604800, sum(orders) FROM by_country_hour GROUP BY 1', TimeBucketError, 'select[0]', /604800 seconds.*date_trunc\('week', time\)/],
  ['SELECT floor(extract(epoch from time)/3600)*60, sum(orders) FROM by_country_hour GROUP BY 1', TimeBucketError, 'select[0]', /the same whole number of seconds/],
  ['SELECT time + interval \'1 hour\', sum(orders) FROM by_country_hour GROUP BY 1', UnsupportedSqlError, 'select[0]', /not a time bucket/],
  ['SELECT sum(orders) FROM by_country_hour a JOIN by_device_week b ON true', UnsupportedSqlError, 'from', /exactly one view: joins, subqueries/],
  ['SELECT * FROM (SELECT 1) s', UnsupportedSqlError, 'from', /joins, subqueries/],
  ["SELECT * FROM read_csv('/etc/passwd')", UnsupportedSqlError, 'from', /table functions/],
  ['SELECT 1', UnsupportedSqlError, 'from', /reads no view/],
  ['SELECT 1 FROM by_country_hour', UnsupportedSqlError, 'select[0]', /is a constant/],
  ['SELECT sum(orders) FROM by_country_hour UNION SELECT sum(orders) FROM by_country_hour', UnsupportedSqlError, 'sql', /combines SELECTs/],
  ['WITH t AS (SELECT 1) SELECT sum(orders) FROM by_country_hour', UnsupportedSqlError, 'sql', /WITH clause/],
  ['SELECT country FROM by_country_hour GROUP BY country HAVING sum(orders) > 1', UnsupportedSqlError, 'having', /HAVING is not supported/],
  ["SELECT sum(orders) FROM by_country_hour WHERE country = 'DE' OR country = 'FR'", UnsupportedSqlError, 'where', /OR; .*country IN \('DE', 'FR'\)/],
  ["SELECT sum(orders) FROM by_country_hour WHERE country NOT IN ('DE')", UnsupportedSqlError, 'where', /excludes values/],
  ["SELECT sum(orders) FROM by_country_hour WHERE NOT country = 'DE'", UnsupportedSqlError, 'where', /with <>/],
  ["SELECT sum(orders) FROM by_country_hour WHERE NOT (country = 'DE' AND country = 'FR')", UnsupportedSqlError, 'where', /excludes values/],
  ["SELECT sum(orders) FROM by_country_hour WHERE country <> 'DE'", UnsupportedSqlError, 'where', /'country' with <>/],
  ["SELECT sum(orders) FROM by_country_hour WHERE country LIKE 'D%'", UnsupportedSqlError, 'where', /pattern \(LIKE\)/],
  ["SELECT sum(orders) FROM by_country_hour WHERE country > 'D'", UnsupportedSqlError, 'where', /range to dimension 'country'/],
  ['SELECT sum(orders) FROM by_country_hour WHERE revenue > 10', UnsupportedSqlError, 'where', /filters on measure 'revenue'/],
  ["SELECT sum(orders) FROM by_country_hour WHERE time IN ('2024-05-01')", UnsupportedSqlError, 'where', /IN to time/],
  ["SELECT sum(orders) FROM all_time WHERE time >= '2024-05-01'", UnsupportedSqlError, 'where', /no time buckets/],
  ['SELECT sum(orders) OVER () FROM by_country_hour', UnsupportedSqlError, 'select[0]', /window function/],
  ['SELECT count(*) FROM by_country_hour', UnsupportedSqlError, 'select[0]', /count\(\*\) would count the view's rows .*write sum\(orders\)/],
  ['SELECT count(*) FROM by_device_week', UnsupportedSqlError, 'select[0]', /write sum\(orders\)/],
  ['SELECT sum(revenue) / sum(orders) FROM by_country_hour', UnsupportedSqlError, 'select[0]', /computes with aggregates/],
  ['SELECT upper(country) FROM by_country_hour', UnsupportedSqlError, 'select[0]', /expression upper\(\)/],
  ['SELECT max(country) FROM by_country_hour', UnsupportedSqlError, 'select[0]', /aggregates dimension 'country', but only measures aggregate/],
  ['SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY spread DESC) FROM by_country_hour', UnsupportedSqlError, 'select[0]', /descending/],
  ['SELECT sum(orders) FILTER (WHERE country = \'DE\') FROM by_country_hour', UnsupportedSqlError, 'select[0]', /FILTER/],
  ['SELECT country, sum(orders) FROM by_country_hour', UnsupportedSqlError, 'select[0]', /'country', which is not in GROUP BY/],
  ['SELECT time, sum(orders) FROM by_country_hour', UnsupportedSqlError, 'select[0]', /reads the time, which is not in GROUP BY/],
  ["SELECT time, sum(orders) FROM by_country_hour GROUP BY date_trunc('day', time)", UnsupportedSqlError, 'select[0]', /hour time buckets, but GROUP BY groups by day ones/],
  ["SELECT sum(orders) FROM by_country_hour GROUP BY time, date_trunc('day', time)", UnsupportedSqlError, 'group by[1]', /second time bucket/],
  ["SELECT date_trunc('day', time) FROM by_country_hour", UnsupportedSqlError, 'select[0]', /coarser than the rows of view 'by_country_hour'; GROUP BY that bucket/],
  ['SELECT country FROM by_country_hour ORDER BY sum(orders)', UnsupportedSqlError, 'select[0]', /not in GROUP BY/],
  ['SELECT country FROM by_country_hour GROUP BY ALL', UnsupportedSqlError, 'group by', /GROUP BY ALL/],
  ['SELECT country, sum(orders) FROM by_country_hour GROUP BY ROLLUP (country)', UnsupportedSqlError, 'group by', /ROLLUP/],
  ['SELECT DISTINCT ON (country) country FROM by_country_hour', UnsupportedSqlError, 'select', /DISTINCT ON/],
  ['SELECT DISTINCT country, sum(orders) FROM by_country_hour GROUP BY country', UnsupportedSqlError, 'select', /leave DISTINCT out/],
  ['SELECT sum(orders) FROM by_country_hour LIMIT 10%', UnsupportedSqlError, 'limit', /percentage/],
  ['SELECT country, sum(orders) FROM by_country_hour GROUP BY 1 ORDER BY 2 NULLS FIRST', UnsupportedSqlError, 'order by[0]', /NULLS FIRST/],
  ['SELECT country, sum(orders) FROM by_country_hour GROUP BY 1 ORDER BY 3', UnsupportedSqlError, 'order by[0]', /output column 3, but the SELECT list has 2/],
  ['SELECT country, sum(orders) FROM by_country_hour GROUP BY 3', UnsupportedSqlError, 'group by[0]', /output column 3/],
  ['SELECT sum(orders) FROM by_country_hour GROUP BY country ORDER BY approx_quantile(spread, 0.5), approx_quantile(spread, 0.9)', UnsupportedSqlError, 'order by[1]', /second quantile/],
  ["SELECT sum(orders) FROM by_country_hour WHERE time >= 'yesterday'", InvalidSqlValueError, 'where', /'yesterday', which is not a timestamp/],
  ["SELECT sum(orders) FROM by_country_hour WHERE time >= now() - interval 'a while'", InvalidSqlValueError, 'where', /to an interval/],
  ['SELECT sum(orders) FROM by_country_hour LIMIT -1', InvalidSqlValueError, 'limit', /LIMIT is -1; it must be a whole number/],
  ["SELECT sum(orders) FROM by_country_hour LIMIT 'ten'", InvalidSqlValueError, 'limit', /LIMIT is 'ten'/],
  ['SELECT sum(orders) FROM by_country_hour OFFSET 1.5', InvalidSqlValueError, 'offset', /OFFSET is 1.5/],
  ['SELECT approx_quantile(spread, 1.5) FROM by_country_hour', InvalidSqlValueError, 'select[0]', /quantile 1.5; a quantile is a number from 0 to 1/],
  ["SELECT sum(orders) FROM by_country_minute WHERE qty = 'many'", InvalidSqlValueError, 'where', /dimension 'qty' with 'many', which it cannot hold/],
  ["SELECT sum(orders) FROM by_device_week WHERE mobile = 'maybe'::boolean", InvalidSqlValueError, 'where', /to a boolean/],
  ['SELECT sum(orders) FROM by_country_hour WHERE country = 12345678901234567890123', InvalidSqlValueError, 'where', /64 bits/],
  ['SELECT sum(orders) FROM by_country_hour WHERE country = $1', SqlParameterError, 'params[0]', /uses \$1, but params has 0 values/],
  ['SELECT sum(orders) FROM by_country_hour', SqlParameterError, 'params[0]', /params\[0\] is not used/, ['DE']],
  ['SELECT sum(orders) FROM by_country_hour WHERE country = $name', SqlParameterError, 'sql', /has a name/],
  ['SELECT sum(orders) FROM by_country_hour WHERE country = $1', SqlParameterError, 'params[0]', /must be a string, a number, a boolean or null/, [{ a: 1 }]],
];

describe('sql planner - refusals', () => {
  for (const [sql, type, field, message, params] of REFUSALS) {
    test(`sql planner - refuses ${sql.slice(0, 90)}`, async () => {
      await assert.rejects(plan(sql, params), (error: unknown) => {
        assert.ok(error instanceof type, `${(error as Error).constructor.name}: ${(error as Error).message}`);
        assert.match(error.message, message);
        assert.equal((error as { field?: string }).field, field);
        assert.match(error.code, /^[a-z_]+$/);
        // One sentence: no line break, one full stop at the end.
        assert.match(error.message, /^[^\n]*[.]$/, error.message);
        return true;
      });
    });
  }

  test('sql planner - every error class of the SQL layer is met by some refusal', () => {
    const met = new Set(REFUSALS.map(([, type]) => type));
    for (const type of [SqlSyntaxError, SqlTooLargeError, UnsupportedSqlError, UnknownColumnError, MeasureMisuseError, TimeBucketError, InvalidSqlValueError, SqlParameterError]) assert.ok(met.has(type), type.name);
  });
});
