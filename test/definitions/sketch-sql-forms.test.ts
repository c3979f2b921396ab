/**
 * The forms in which the batch layer's SQL hands sketch states to
 * JavaScript (text of integers, pairs in any order and maybe repeated) give
 * the very states the speed layer builds, and a view that groups twice (a
 * sketch beside number measures) answers as the speed layer does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Tandem } from '../../src/index.ts';
import { exactLimit, HyperLogLog } from '../../src/definitions/measures/hyperloglog.ts';
import { bucketOf, QuantileSketch } from '../../src/definitions/measures/quantile-sketch.ts';
import { parseIntegers } from '../../src/definitions/measures/sql-integers.ts';
import { md5Lower64 } from '../../src/definitions/measures/value-hash.ts';
import { withTempDir } from '../support/temp-dir.ts';

test('sketch SQL forms - parseIntegers reads every integer of the text, exactly, whatever separates them', () => {
  const integer = fc.oneof(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.integer({ min: -1000, max: 1000 }));
  fc.assert(fc.property(fc.array(integer, { maxLength: 50 }), fc.array(fc.constantFrom(',', ':', ', '), { minLength: 50, maxLength: 50 }), (values, separators) => {
    const text = values.map((v, i) => `${i === 0 ? '' : separators[i]!}${v}`).join('');
    assert.deepEqual([...parseIntegers(text)], values.map((v) => v + 0));
  }), { seed: 29 });
});

/** What the SQL packs a hash into: its register (the low p bits) times 64 plus its rho (trailing zeros of the rest, with a sentinel bit, plus one), in BigInt as a second opinion. */
function packedOf(hash: { lo: number; hi: number }, precision: number): number {
  const h = (BigInt(hash.hi >>> 0) << 32n) | BigInt(hash.lo >>> 0);
  let w = (h >> BigInt(precision)) | (1n << BigInt(64 - precision));
  let rho = 1;
  while ((w & 1n) === 0n) {
    w >>= 1n;
    rho++;
  }
  return Number(h & BigInt(2 ** precision - 1)) * 64 + rho;
}

test('sketch SQL forms - a state read from SQL text (any order, repeats) is the state the speed layer builds, and behaves as one', () => {
  const precision = 8;
  const values = fc.array(fc.oneof(fc.nat(700).map((n) => `v${n}`), fc.constantFrom('', 'é', '🎉')), { maxLength: 900 });
  fc.assert(fc.property(values, fc.nat(), (all, seed) => {
    const speed = new HyperLogLog(precision);
    for (const v of all) speed.addHash(md5Lower64(v, { lo: 0, hi: 0 }));
    const hashes = all.map((v) => md5Lower64(v, { lo: 0, hi: 0 }));
    const distinct = new Set(all).size;
    // The SQL's forms: every hash's halves (shuffled, some twice) while exact, else each register's distinct rho.
    const shuffled = [...hashes, ...hashes.slice(0, seed % 5)].sort((a, b) => ((a.lo ^ seed) >>> 0) - ((b.lo ^ seed) >>> 0));
    const exact = shuffled.map((h) => `${h.hi >>> 0}:${h.lo >>> 0}`).join(',');
    const packed = [...new Set(hashes.map((h) => packedOf(h, precision)))].join(',');
    const batch = distinct <= exactLimit(precision) ? HyperLogLog.fromSql(precision, exact, null) : HyperLogLog.fromSql(precision, null, packed);
    assert.deepEqual(batch.encode(), speed.encode());
  }), { seed: 29, numRuns: 50 });

  const numbers = fc.array(fc.integer({ min: -100_000, max: 100_000 }), { maxLength: 300 });
  fc.assert(fc.property(numbers, fc.nat(), (all, seed) => {
    const k = 6;
    const speed = new QuantileSketch();
    for (const v of all) speed.addBucket(bucketOf(v, k));
    const counts = new Map<number, number>();
    for (const v of all) counts.set(bucketOf(v, k), (counts.get(bucketOf(v, k)) ?? 0) + 1);
    // Each bucket's count split in two entries where it can, in shuffled order, as two sub-keys' groups would give them.
    const entries = [...counts].flatMap(([b, n]) => (n > 1 ? [[b, 1], [b, n - 1]] : [[b, n]])).sort((a, b) => ((a[0]! * 31 + seed) % 7) - ((b[0]! * 31 + seed) % 7));
    const batch = QuantileSketch.fromSql(entries.map(([b, n]) => `${b}:${n}`).join(','));
    assert.deepEqual(batch.encode(k), speed.encode(k));
    assert.equal(batch.count, speed.count);
    assert.equal(batch.quantile(0.5, k), speed.quantile(0.5, k));
    const merged = new QuantileSketch();
    merged.merge(batch);
    assert.deepEqual(merged.encode(k), speed.encode(k));
    batch.addBucket(3);
    speed.addBucket(3);
    assert.deepEqual(batch.encode(k), speed.encode(k));
  }), { seed: 29, numRuns: 100 });
});

const mixedConfig = {
  eventTypes: [{ name: 'req', time: 'at', fields: { at: 'timestamp', user: { type: 'string', optional: true }, ms: { type: 'number', scale: 2, optional: true }, route: 'string' } }],
  views: [
    {
      // A sketch beside number measures: the number measures' states are re-aggregated over the sketches' sub-keys.
      name: 'mixed', eventType: 'req', dimensions: ['route'], granularity: 'hour',
      measures: {
        n: { type: 'count' }, total: { type: 'sum', field: 'ms' }, mean: { type: 'avg', field: 'ms' }, low: { type: 'min', field: 'ms' }, high: { type: 'max', field: 'ms' },
        users: { type: 'countDistinct', field: 'user', precision: 8 }, latency: { type: 'quantiles', field: 'ms' },
      },
    },
    { name: 'users', eventType: 'req', dimensions: [], granularity: 'day', measures: { users: { type: 'countDistinct', field: 'user', precision: 8 } } },
  ],
};

const mixedEvent = fc.record({
  at: fc.integer({ min: 0, max: 3 }).map((h) => new Date(Date.UTC(2026, 11, 3, h, 5)).toISOString()),
  user: fc.option(fc.oneof(fc.nat(80).map((n) => `u${n}`), fc.constantFrom('', 'é')), { nil: undefined }),
  ms: fc.option(fc.oneof(fc.constantFrom(0, -0.01, 1e9), fc.integer({ min: -1_000_000, max: 100_000_000 }).map((n) => n / 100)), { nil: undefined }),
  route: fc.constantFrom('/a', '/b'),
});

test('sketch SQL forms - a view grouped twice (sketches beside number measures) answers from the batch layer what the speed layer answers', async () => {
  await fc.assert(fc.asyncProperty(fc.array(mixedEvent, { maxLength: 250 }), async (events) => {
    await withTempDir(async (dir) => {
      const engine = await Tandem.open({ dataDir: dir, config: mixedConfig });
      try {
        await engine.ingest('req', events.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined))));
        const queries = [{ view: 'mixed', groupBy: ['route'], states: true }, { view: 'users', states: true }] as const;
        const speed = await Promise.all(queries.map((query) => engine.query({ ...query, layer: 'speed' })));
        await engine.runBatch();
        for (const [i, query] of queries.entries()) assert.deepEqual((await engine.query({ ...query, layer: 'batch' })).rows, speed[i]!.rows);
      } finally {
        await engine.close();
      }
    });
  }), { seed: 29, numRuns: 12 });
});
