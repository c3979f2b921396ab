/**
 * The sketch measures' states (issue #18): the hash is DuckDB's
 * `md5_number_lower`, states are monoids whose bytes do not depend on the
 * order or grouping of what went in, exact where promised, within their
 * error bounds over a million values, and built byte for byte alike by the
 * speed layer (JavaScript) and the batch layer (DuckDB).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileConfig, InvalidDefinitionError, InvalidQueryError, Tandem } from '../../src/index.ts';
import { quantileName } from '../../src/definitions/measures/quantiles-measure.ts';
import { exactLimit, HyperLogLog, standardError } from '../../src/definitions/measures/hyperloglog.ts';
import { bucketOf, QuantileSketch, representative, subBucketBits } from '../../src/definitions/measures/quantile-sketch.ts';
import { md5Lower64 } from '../../src/definitions/measures/value-hash.ts';
import { withTempDir } from '../support/temp-dir.ts';
import { Random } from '../../src/demo/random.ts';

const hll = (values: readonly string[], precision = 8): HyperLogLog => {
  const state = new HyperLogLog(precision);
  const out = { lo: 0, hi: 0 };
  for (const v of values) state.addHash(md5Lower64(v, out));
  return state;
};
const bytes = (state: HyperLogLog) => Buffer.from(state.encode()).toString('hex');

test('sketches - the value hash is md5_number_lower: the last 8 bytes of MD5 over UTF-8, little-endian', () => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ minLength: 50, maxLength: 200 })), (text) => {
    const digest = createHash('md5').update(text, 'utf8').digest();
    const out = md5Lower64(text, { lo: 0, hi: 0 });
    assert.equal(out.lo, digest.readUInt32LE(8));
    assert.equal(out.hi, digest.readUInt32LE(12));
  }), { seed: 18, numRuns: 2_000 });
});

test('sketches - countDistinct states: the same bytes whatever the order and grouping of the values, exact below the limit, merge laws', () => {
  // Precision 8: exact below 32 distinct values, so both forms and the switch between them are exercised.
  const values = fc.array(fc.oneof(fc.constantFrom('', 'a', 'é', '日本', '🎉'), fc.string({ maxLength: 6 }), fc.nat(80).map(String)), { maxLength: 120 });
  fc.assert(fc.property(values, fc.nat(120), fc.nat(120), (all, cut1, cut2) => {
    const [i, j] = [Math.min(cut1, cut2, all.length), Math.min(Math.max(cut1, cut2), all.length)];
    const whole = hll(all);
    const a = hll(all.slice(0, i));
    const b = hll(all.slice(i, j));
    const c = hll(all.slice(j));
    const left = a.clone();
    left.merge(b);
    left.merge(c);
    const right = c.clone();
    const bc = b.clone();
    bc.merge(a);
    right.merge(bc);
    const reversed = hll([...all].reverse());
    assert.equal(bytes(left), bytes(whole), 'merged in order');
    assert.equal(bytes(right), bytes(whole), 'merged in another order and grouping');
    assert.equal(bytes(reversed), bytes(whole), 'added in another order');
    const identity = whole.clone();
    identity.merge(new HyperLogLog(8));
    assert.equal(bytes(identity), bytes(whole), 'the empty state is the identity');
    assert.equal(bytes(HyperLogLog.decode(whole.encode())), bytes(whole), 'decode reads encode back');
    const distinct = new Set(all).size;
    if (distinct <= exactLimit(8)) assert.equal(whole.estimate(), distinct, 'exact below the limit');
    else assert.equal(whole.isExact, false);
  }), { seed: 18, numRuns: 400 });
});

test('sketches - quantile buckets: monotone, contiguous, and every value within the guaranteed relative error of its bucket', () => {
  const k = subBucketBits(0.01);
  assert.equal(k, 6);
  const bound = 1 / (2 ** (k + 1) + 1);
  fc.assert(fc.property(fc.oneof(fc.integer({ min: -10_000, max: 10_000 }), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })), (v) => {
    const index = bucketOf(v, k);
    const approx = representative(index, k);
    if (v === 0) assert.equal(approx, 0);
    else assert.ok(Math.abs(approx - v) / Math.abs(v) <= bound, `${v} → ${approx}`);
    if (v < Number.MAX_SAFE_INTEGER) assert.ok(bucketOf(v + 1, k) >= index, 'monotone');
  }), { seed: 18, numRuns: 5_000 });
  for (const v of [0, 1, 127, 128, 129, 255, 256, 2 ** 52, 2 ** 53 - 1]) {
    assert.ok(bucketOf(v + 1, k) - bucketOf(v, k) <= 1, `no gap after ${v}`);
  }
});

test('sketches - quantile states: the same bytes whatever the order and grouping, merge laws', () => {
  const k = 6;
  const sketch = (values: readonly number[]) => {
    const s = new QuantileSketch();
    for (const v of values) s.addBucket(bucketOf(v, k));
    return s;
  };
  const hex = (s: QuantileSketch) => Buffer.from(s.encode(k)).toString('hex');
  fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: -5_000, max: 5_000 }), fc.constant(0), fc.maxSafeInteger()), { maxLength: 200 }), fc.nat(200), (values, cut) => {
    const i = Math.min(cut, values.length);
    const a = sketch(values.slice(0, i));
    const b = sketch(values.slice(i));
    const ab = a.clone();
    ab.merge(b);
    const ba = b.clone();
    ba.merge(a);
    assert.equal(hex(ab), hex(sketch(values)));
    assert.equal(hex(ba), hex(ab));
    const id = ab.clone();
    id.merge(new QuantileSketch());
    assert.equal(hex(id), hex(ab));
    assert.equal(hex(QuantileSketch.decode(ab.encode(k)).sketch), hex(ab));
  }), { seed: 18, numRuns: 300 });
});

/** A deterministic generator (the demo's seeded PRNG): the accuracy figures are the same on every run. */
function random(seed: number): () => number {
  const generator = new Random(seed);
  return () => generator.next();
}

test('sketches - within their bounds over a million values: uniform, Zipf-like and heavy-tailed', (t) => {
  const next = random(18);
  const distributions: Record<string, () => number> = {
    uniform: () => Math.floor(next() * 10_000_000),
    zipf: () => Math.floor(1 / (next() ** 1.2 + 1e-9)),
    latency: () => Math.round(Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next())) * 10),
  };
  const k = subBucketBits(0.01);
  for (const [name, draw] of Object.entries(distributions)) {
    const values = Array.from({ length: 1_000_000 }, draw);
    const distinct = hll(values.map(String), 12).estimate();
    const exact = new Set(values).size;
    const error = Math.abs(distinct - exact) / exact;
    // Three standard errors: a real estimator misses by more about once in 370 sketches; these are fixed.
    assert.ok(error <= 3 * standardError(12), `${name}: ${distinct} for ${exact} distinct values`);
    const sketch = new QuantileSketch();
    for (const v of values) sketch.addBucket(bucketOf(v, k));
    const sorted = values.sort((a, b) => a - b);
    const entries = sketch.entries();
    let worst = 0;
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1]) {
      const truth = sorted[Math.floor(q * (sorted.length - 1))]!;
      const estimate = sketch.quantile(q, k, entries)!;
      const relative = truth === 0 ? Math.abs(estimate) : Math.abs(estimate - truth) / truth;
      worst = Math.max(worst, relative);
      assert.ok(relative <= 0.01, `${name} q${q}: ${estimate} for ${truth}`);
    }
    t.diagnostic(`${name}: countDistinct ${distinct} for ${exact} (${(error * 100).toFixed(2)}% off); worst quantile ${(worst * 100).toFixed(3)}% off`);
  }
});

const sketchConfig = {
  eventTypes: [{ name: 'req', time: 'at', fields: { at: 'timestamp', user: 'string', code: { type: 'number', scale: 0 }, ms: { type: 'number', scale: 2 }, ok: 'boolean', route: 'string' } }],
  views: [{
    name: 'traffic', eventType: 'req', dimensions: ['route'], granularity: 'hour',
    measures: {
      users: { type: 'countDistinct', field: 'user', precision: 8 },
      codes: { type: 'countDistinct', field: 'code' },
      oks: { type: 'countDistinct', field: 'ok' },
      seen: { type: 'countDistinct', field: 'at' },
      latency: { type: 'quantiles', field: 'ms', quantiles: [0, 0.5, 0.99, 1] },
      coarse: { type: 'quantiles', field: 'ms', relativeAccuracy: 0.05 },
    },
  }],
};

const request = fc.record({
  at: fc.integer({ min: 0, max: 5 }).map((h) => new Date(Date.UTC(2026, 10, 29, h, 7)).toISOString()),
  user: fc.oneof(fc.constantFrom('', 'é', '日本', '🎉', 'O\'Brien'), fc.string({ maxLength: 8 }), fc.nat(60).map((n) => `u${n}`)),
  code: fc.oneof(fc.constantFrom(0, -1, 200, 404, 500), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
  ms: fc.oneof(fc.constantFrom(0, -0.01, 0.01, 1e9), fc.integer({ min: -1_000_000, max: 100_000_000 }).map((n) => n / 100)),
  ok: fc.boolean(),
  route: fc.constantFrom('/a', '/b'),
});

test('sketches - the batch layer (DuckDB) builds byte for byte the states the speed layer (JavaScript) builds, for any events', async () => {
  await fc.assert(fc.asyncProperty(fc.array(request, { maxLength: 300 }), async (events) => {
    await withTempDir(async (dir) => {
      const engine = await Tandem.open({ dataDir: dir, config: sketchConfig });
      try {
        await engine.ingest('req', events);
        const query = { view: 'traffic', groupBy: ['route'], states: true } as const;
        const speed = await engine.query({ ...query, layer: 'speed' });
        await engine.runBatch();
        const batch = await engine.query({ ...query, layer: 'batch' });
        assert.deepEqual(batch.rows, speed.rows);
        const merged = await engine.query({ view: 'traffic', groupBy: ['route'], granularity: 'all' });
        for (const row of merged.rows) {
          const mine = events.filter((e) => e.route === row.route);
          assert.equal(row.oks, new Set(mine.map((e) => e.ok)).size);
          const users = new Set(mine.map((e) => e.user)).size;
          if (users <= exactLimit(8)) assert.equal(row.users, users);
          const ms = mine.map((e) => e.ms).sort((a, b) => a - b);
          const latency = row.latency as Record<string, number>;
          const near = (estimate: number, truth: number) => Math.abs(estimate - truth) <= Math.abs(truth) * 0.01 + 1e-9;
          assert.ok(near(latency.p0!, ms[0]!), `p0 ${latency.p0} for ${ms[0]}`);
          assert.ok(near(latency.p100!, ms.at(-1)!), `p100 ${latency.p100} for ${ms.at(-1)}`);
        }
      } finally {
        await engine.close();
      }
    });
  }), { seed: 18, numRuns: 15 });
});

test('sketches - a query asks for other quantiles, orders by one, and its mistakes are named; sketches count toward the speed layer\'s bytes', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: sketchConfig });
    try {
      const events = Array.from({ length: 600 }, (_, i) => ({
        at: '2026-11-29T01:00:00Z', user: `u${i}`, code: 200, ms: i % 2 === 0 ? i : i * 10, ok: true, route: i % 2 === 0 ? '/fast' : '/slow',
      }));
      const before = engine.status().speed.bytes;
      await engine.ingest('req', events);
      // 300 distinct users per route at precision 8 (exact below 32): two dense 256-register sketches, at least.
      assert.ok(engine.status().speed.bytes - before > 2 * 256, 'the sketches are counted');
      const { rows } = await engine.query({ view: 'traffic', groupBy: ['route'], granularity: 'all', quantiles: { latency: [0.25, 0.999] }, orderBy: [{ measure: 'latency', quantile: 0.999, desc: true }] });
      assert.deepEqual(rows.map((r) => r.route), ['/slow', '/fast']);
      assert.deepEqual(Object.keys(rows[0]!.latency as object), ['p25', 'p99.9']);
      const p999 = (rows[0]!.latency as Record<string, number>)['p99.9']!;
      assert.ok(Math.abs(p999 - 5990) / 5990 <= 0.01, `p99.9 of /slow: ${p999}`);
      await assert.rejects(engine.query({ view: 'traffic', quantiles: { users: [0.5] } }), /not a quantiles measure/);
      await assert.rejects(engine.query({ view: 'traffic', quantiles: { latency: [2] } }), /from 0 to 1/);
      await assert.rejects(engine.query({ view: 'traffic', orderBy: [{ measure: 'users', quantile: 0.5 }] }), /on a quantiles measure/);
      await assert.rejects(engine.query({ view: 'traffic', states: 'yes' } as never), /states must be true or false/);
    } finally {
      await engine.close();
    }
  });
});

test('sketches - two quantiles that answer under one name are refused, in a view and in a query; distinct names each answer', async () => {
  const near = fc.constantFrom(0.5, 0.5000000000000001, 0.4999999999999999, 0.99, 0.9900000000000001, 0.999, 0.9990000000000001, 0, 1, 1e-13, 0.1);
  const lists = fc.array(fc.oneof(near, fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 6 });
  const distinct = (qs: readonly number[]) => new Set(qs.map(quantileName)).size === qs.length;
  const withQuantiles = (qs: readonly number[]) => ({
    ...sketchConfig,
    views: sketchConfig.views.map((v) => ({ ...v, measures: { ...v.measures, latency: { ...v.measures.latency, quantiles: qs } } })),
  });
  fc.assert(fc.property(lists, (qs) => {
    if (distinct(qs)) return void compileConfig(withQuantiles(qs));
    assert.throws(() => compileConfig(withQuantiles(qs)), (e: unknown) => e instanceof InvalidDefinitionError && /which both answer as 'p[\d.e-]+'; list each quantile once\.$/.test(e.message));
  }), { seed: 20261202, numRuns: 500 });
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: sketchConfig });
    try {
      await engine.ingest('req', [{ at: '2026-11-29T01:00:00Z', user: 'u', code: 200, ms: 12, ok: true, route: '/' }]);
      await fc.assert(fc.asyncProperty(lists, async (qs) => {
        const asking = engine.query({ view: 'traffic', granularity: 'all', quantiles: { latency: qs } });
        if (!distinct(qs)) return void await assert.rejects(asking, (e: unknown) => e instanceof InvalidQueryError && /^quantiles\.latency lists .+ which both answer as/.test(e.message));
        const { rows } = await asking;
        assert.deepEqual(Object.keys(rows[0]!.latency as object).sort(), qs.map(quantileName).sort());
      }), { seed: 20261203, numRuns: 200 });
    } finally {
      await engine.close();
    }
  });
});
