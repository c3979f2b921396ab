/**
 * Exactness: a random SQL statement (groupings, time buckets in every form,
 * time ranges, dimension filters, every measure type's aggregate, orderings,
 * LIMIT and OFFSET) answers the same rows as the JSON query it means, built
 * here independently of the planner, over engines whose events are all in
 * the speed layer, all in the batch layer, and split between them.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { quantileName, rollsUpInto, type QueryGranularity } from '../../src/definitions/index.ts';
import { Tandem, type Query, type QueryRow } from '../../src/index.ts';
import type { OrderBy } from '../../src/serving/index.ts';
import { SqlRunner } from '../../src/sql/index.ts';
import { shopConfig, views } from '../support/shop-config.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { shopEvents } from './shop-engine.ts';

type MeasureType = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'countDistinct' | 'quantiles';

/** The test shop's views as SQL sees them: dimensions with the values events take, measures with their types. */
const VIEWS = views.map((v) => ({
  name: v.name,
  granularity: v.granularity,
  dimensions: v.dimensions as readonly string[],
  measures: Object.entries(v.measures as Record<string, { type: MeasureType }>).map(([name, spec]) => ({ name, type: spec.type })),
}));

const DOMAINS: Readonly<Record<string, readonly (string | number | boolean)[]>> = {
  country: ['DE', 'FR', 'US', 'BR', 'XX'],
  device: ['ios', 'android', 'web'],
  mobile: [true, false],
  qty: [0, 1, 2, 3, 5, 8, 13, 20],
};

const BASE = Date.UTC(2024, 2, 1);
const SPAN = 120 * 86_400_000;
const BUCKET_S: Readonly<Record<string, number>> = { minute: 60, hour: 3600, day: 86_400 };
const GRANULARITIES = ['minute', 'hour', 'day', 'week', 'month'] as const;

interface Statement {
  readonly sql: string;
  readonly params: unknown[];
  readonly query: Query;
  readonly offset: number;
  /** Per output column, how the JSON query's row gives its value. */
  readonly cells: readonly ((row: QueryRow) => unknown)[];
  /** Aggregates without grouping: SQL answers one row even when nothing matches, of these values. */
  readonly scalar: readonly unknown[] | undefined;
}

const literal = (v: string | number | boolean) => (typeof v === 'string' ? `'${v}'` : String(v));

function bucketSql(form: string, granularity: string): string {
  const s = BUCKET_S[granularity];
  switch (form) {
    case 'time': return 'time';
    case 'time_bucket': return `time_bucket(INTERVAL '1 ${granularity}', time)`;
    case 'epoch': return `floor(extract(epoch from time)/${s})*${s}`;
    case 'to_timestamp': return `to_timestamp(floor(extract(epoch from time)/${s})*${s})`;
    case 'date': return granularity === 'day' ? 'CAST(time AS date)' : `date_trunc('${granularity}', time)::date`;
    default: return `date_trunc('${granularity}', time)`;
  }
}

const statement: fc.Arbitrary<Statement> = fc.constantFrom(...VIEWS).chain((view) => {
  const granularities: QueryGranularity[] = view.granularity === 'none' ? ['all'] : ['all', ...GRANULARITIES.filter((g) => rollsUpInto(view.granularity, g))];
  return fc.record({
    granularity: fc.constantFrom(...granularities),
    bucketForm: fc.constantFrom('time', 'date_trunc', 'time_bucket', 'epoch', 'to_timestamp', 'date'),
    selectTime: fc.boolean(),
    dims: fc.shuffledSubarray([...view.dimensions]),
    selectDims: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    measures: fc.shuffledSubarray(view.measures, { minLength: 1 }),
    quantile: fc.constantFrom(0.25, 0.5, 0.9, 0.99),
    aggregateForm: fc.nat(2),
    range: fc.option(fc.record({ a: fc.integer({ min: -86_400_000, max: SPAN }), length: fc.integer({ min: 0, max: SPAN / 2 }), aligned: fc.boolean(), form: fc.nat(3) }), { nil: undefined }),
    where: fc.array(fc.record({ dim: fc.constantFrom(...(view.dimensions.length === 0 ? ['-'] : view.dimensions)), values: fc.integer({ min: 0, max: 255 }), isNull: fc.boolean(), param: fc.boolean() }), { maxLength: 2 }),
    order: fc.array(fc.record({ key: fc.nat(20), desc: fc.boolean(), byPosition: fc.boolean() }), { maxLength: 3 }),
    limit: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    offset: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined, freq: 2 }),
  }).map((r) => render(view, r));
});

type Choices = {
  granularity: QueryGranularity; bucketForm: string; selectTime: boolean; dims: string[]; selectDims: boolean[];
  measures: { name: string; type: MeasureType }[]; quantile: number; aggregateForm: number;
  range: { a: number; length: number; aligned: boolean; form: number } | undefined;
  where: { dim: string; values: number; isNull: boolean; param: boolean }[];
  order: { key: number; desc: boolean; byPosition: boolean }[];
  limit: number | undefined; offset: number | undefined;
};

function render(view: (typeof VIEWS)[number], c: Choices): Statement {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const select: string[] = [];
  const cells: ((row: QueryRow) => unknown)[] = [];
  const empty: unknown[] = [];
  const query: { -readonly [K in keyof Query]: Query[K] } = { view: view.name, groupBy: c.dims, granularity: c.granularity };
  const hasBuckets = c.granularity !== 'all';
  const form = c.bucketForm === 'time' && c.granularity !== view.granularity ? 'date_trunc'
    : (c.bucketForm === 'epoch' || c.bucketForm === 'to_timestamp') && BUCKET_S[c.granularity] === undefined ? 'time_bucket'
      : c.bucketForm === 'date' && (c.granularity === 'minute' || c.granularity === 'hour') ? 'date_trunc' : c.bucketForm;
  const bucket = hasBuckets ? bucketSql(form, c.granularity) : '';
  if (hasBuckets && c.selectTime) {
    select.push(`${bucket} AS t`);
    empty.push(null);
    cells.push(form === 'epoch' ? (row) => Date.parse(row.time as string) / 1000 : form === 'date' ? (row) => (row.time as string).slice(0, 10) : (row) => row.time);
  }
  c.dims.forEach((d, i) => {
    if (!c.selectDims[i]) return;
    select.push(d);
    empty.push(null);
    cells.push((row) => row[d]);
  });
  const quantiles: Record<string, number[]> = {};
  const aggregates = c.measures.map((m, i) => {
    const q = c.quantile;
    const expression = aggregateSql(m.name, m.type, q, c.aggregateForm);
    select.push(`${expression} AS a${i}`);
    if (m.type === 'quantiles') quantiles[m.name] = [q];
    const at = select.length;
    empty.push(m.type === 'countDistinct' ? 0 : null);
    cells.push(m.type === 'quantiles' ? (row) => (row[m.name] as Record<string, unknown>)[quantileName(q)] : (row) => row[m.name]);
    return { ...m, q, expression, alias: `a${i}`, position: at };
  });
  if (Object.keys(quantiles).length > 0) query.quantiles = quantiles;
  const conditions: string[] = [];
  if (c.range !== undefined && view.granularity !== 'none') {
    const round = (t: number) => (c.range!.aligned ? Math.floor(t / 3_600_000) * 3_600_000 : t);
    const [a, b] = [BASE + round(c.range.a), BASE + round(c.range.a + c.range.length)];
    const iso = (t: number) => new Date(t).toISOString();
    const forms: (() => [string, Pick<Query, 'from' | 'to'>])[] = [
      () => [`time >= '${iso(a)}' AND time < '${iso(b)}'`, { from: a, to: b }],
      () => [`time BETWEEN '${iso(a)}' AND '${iso(b)}'`, { from: a, to: b + 1 }],
      () => [`time >= ${param(iso(a))} AND ${param(b)} > time`, { from: a, to: b }],
      () => [`time > '${iso(a)}'`, { from: a + 1 }],
    ];
    const [condition, bounds] = forms[c.range.form]!();
    conditions.push(condition);
    Object.assign(query, bounds);
  }
  const where: Record<string, (string | number | boolean | null)[]> = {};
  for (const w of c.where) {
    if (w.dim === '-' || where[w.dim] !== undefined) continue;
    if (w.isNull && w.dim === 'device') {
      conditions.push('device IS NULL');
      where.device = [null];
      continue;
    }
    const domain = DOMAINS[w.dim]!;
    const values = domain.filter((_, i) => (w.values >> i) % 2 === 1).slice(0, 3);
    if (values.length === 0) values.push(domain[w.values % domain.length]!);
    const written = values.map((v) => (w.param ? param(v) : literal(v)));
    conditions.push(values.length === 1 ? `${w.dim} = ${written[0]}` : `${w.dim} IN (${written.join(', ')})`);
    where[w.dim] = values;
  }
  if (Object.keys(where).length > 0) query.where = where;
  // Order keys: the aggregates, the grouped dimensions, the time; each at most once.
  const keys = [
    ...aggregates.map((m) => ({ sql: [m.alias, m.expression, String(m.position)], json: { measure: m.name, ...(m.type === 'quantiles' ? { quantile: m.q } : {}) } as OrderBy })),
    ...c.dims.map((d) => ({ sql: [d], json: { dimension: d } as OrderBy })),
    ...(hasBuckets ? [{ sql: c.selectTime ? ['t', '1'] : [bucket], json: { time: true } as OrderBy }] : []),
  ];
  const used = new Set<number>();
  const orderSql: string[] = [];
  const orderBy: OrderBy[] = [];
  for (const o of c.order) {
    const k = o.key % keys.length;
    if (used.has(k)) continue;
    used.add(k);
    const forms = keys[k]!.sql;
    orderSql.push(`${forms[o.byPosition ? forms.length - 1 : 0]}${o.desc ? ' DESC' : ''}`);
    orderBy.push({ ...keys[k]!.json, ...(o.desc ? { desc: true } : {}) });
  }
  if (orderBy.length > 0) query.orderBy = orderBy;
  const offset = c.offset ?? 0;
  if (c.limit !== undefined) query.limit = c.limit + offset;
  const group = [...(hasBuckets ? [c.selectTime ? 't' : bucket] : []), ...c.dims];
  const sql = [
    `SELECT ${select.join(', ')} FROM ${view.name}`,
    conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '',
    group.length > 0 ? `GROUP BY ${group.join(', ')}` : '',
    orderSql.length > 0 ? `ORDER BY ${orderSql.join(', ')}` : '',
    c.limit !== undefined ? `LIMIT ${c.limit}` : '',
    c.offset !== undefined ? `OFFSET ${c.offset}` : '',
  ].filter((part) => part !== '').join(' ');
  const scalar = c.granularity === 'all' && c.dims.length === 0 && c.limit !== 0 ? empty : undefined;
  return { sql, params, query, offset, cells, scalar };
}

function aggregateSql(name: string, type: MeasureType, q: number, form: number): string {
  switch (type) {
    case 'count':
    case 'sum': return `sum(${name})`;
    case 'avg': return `avg(${name})`;
    case 'min': return `min(${name})`;
    case 'max': return `max(${name})`;
    case 'countDistinct': return form === 0 ? `count(DISTINCT ${name})` : `approx_count_distinct(${name})`;
    case 'quantiles': return form === 0 ? `percentile_cont(${q}) WITHIN GROUP (ORDER BY ${name})` : form === 1 || q !== 0.5 ? `approx_quantile(${name}, ${q})` : `median(${name})`;
  }
}

interface Layered {
  readonly name: string;
  readonly tandem: Tandem<typeof shopConfig>;
  readonly sql: SqlRunner;
}

const engines: Layered[] = [];
const answered: number[] = [];
const removals: (() => Promise<void>)[] = [];

/** 400 events: `batched` of them absorbed by a batch run, the rest only in the speed layer. */
async function openEngine(name: string, batched: number): Promise<Layered> {
  const temp = await makeTempDir('tandem-sql-eq-');
  const tandem = await Tandem.open({ dataDir: temp.dir, config: shopConfig });
  const events = shopEvents(400, 3030);
  if (batched > 0) {
    await tandem.ingestUntyped('order', events.slice(0, batched));
    await tandem.runBatch();
  }
  if (batched < events.length) await tandem.ingestUntyped('order', events.slice(batched));
  const sql = new SqlRunner(tandem);
  removals.push(async () => {
    await sql.close();
    await tandem.close();
    await temp.remove();
  });
  return { name, tandem, sql };
}

before(async () => {
  engines.push(await openEngine('speed', 0), await openEngine('batch', 400), await openEngine('merged', 250));
});
after(async () => {
  for (const remove of removals) await remove();
});

test('sql equivalence - random SQL answers the rows of the JSON query it means, in the speed, batch and merged layers', async () => {
  await fc.assert(
    fc.asyncProperty(statement, fc.nat(2), async (s, e) => {
      const engine = engines[e]!;
      const expected = await engine.tandem.queryUntyped(s.query);
      const answer = await engine.sql.run({ sql: s.sql, params: s.params });
      const found = s.scalar !== undefined && expected.rows.length === 0 ? [s.scalar] : expected.rows.map((row) => s.cells.map((cell) => cell(row)));
      const rows = found.slice(s.offset);
      assert.deepEqual(answer.rows, rows, `${engine.name}: ${s.sql} ${JSON.stringify(s.params)}`);
      assert.equal(answer.columns.length, s.cells.length);
      assert.equal(answer.meta.logEnd, expected.meta.logEnd);
      answered.push(answer.rows.length);
    }),
    { numRuns: 300, seed: 30_2026 },
  );
  // Most statements answer rows: the property compares answers, not empty lists.
  assert.ok(answered.filter((n) => n > 0).length > answered.length * 0.6, `${answered.filter((n) => n > 0).length} of ${answered.length} answered rows`);
});

test('sql equivalence - the generated statements reach every measure type, bucket form and clause', () => {
  const samples = fc.sample(statement, { numRuns: 300, seed: 30_2026 }).map((s) => s.sql).join('\n');
  for (const part of ['CAST(time AS date)', '::date', 'sum(', 'avg(', 'min(', 'max(', 'count(DISTINCT', 'approx_count_distinct(', 'percentile_cont(', 'approx_quantile(', 'date_trunc(', 'time_bucket(', 'floor(extract(epoch', 'to_timestamp(', 'BETWEEN', ' IN (', 'IS NULL', '$1', 'ORDER BY', 'DESC', 'LIMIT', 'OFFSET', 'GROUP BY']) {
    assert.ok(samples.includes(part), part);
  }
});
