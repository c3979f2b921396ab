/**
 * Every answer is the stored decimal: sums, minimums, maximums and number
 * dimensions at every scale up to the largest values a field accepts come
 * back as a number only when that number prints as the same decimal, else
 * as the exact decimal text; averages as the reference rounds them. Checked
 * from the speed layer, the batch layer and their merge.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_SCALE } from '../../src/definitions/scaled-number.ts';
import { Tandem, type TandemConfig } from '../../src/index.ts';
import { roundedAverage } from '../support/reference.ts';
import { withTempDir } from '../support/temp-dir.ts';

const SCALES = Array.from({ length: MAX_SCALE + 1 }, (_, s) => s);
const config: TandemConfig = {
  eventTypes: [{
    name: 'reading',
    time: 'at',
    fields: { at: 'timestamp', run: 'string', d: { type: 'number', scale: 2 }, ...Object.fromEntries(SCALES.map((s) => [`v${s}`, { type: 'number', scale: s }])) },
  }],
  views: [{
    name: 'exact',
    eventType: 'reading',
    dimensions: ['run', 'd'],
    granularity: 'none',
    measures: Object.fromEntries(SCALES.flatMap((s) => (['sum', 'min', 'max', 'avg'] as const).map((type) => [`${type}${s}`, { type, field: `v${s}` }]))),
  }],
};

/** Exact decimal text of scaled integer `n` at `scale`. */
function decimal(n: bigint, scale: number): string {
  const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
  return `${n < 0n ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale > 0 ? `.${digits.slice(-scale)}` : ''}`;
}

/** The scaled integer the decimal `text` denotes (exponent form included), or undefined when it is not a whole number of 10^-scale units. */
function scaledOf(text: string, scale: number): bigint | undefined {
  const parts = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (parts === null) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = parts;
  // digits × 10^(exponent − fraction digits), as a whole number of 10^-scale units.
  const shift = Number(exponent) - fraction.length + scale;
  const digits = BigInt(whole! + fraction);
  if (shift < 0 && digits % 10n ** BigInt(-shift) !== 0n) return undefined;
  const magnitude = shift >= 0 ? digits * 10n ** BigInt(shift) : digits / 10n ** BigInt(-shift);
  return sign === '-' ? -magnitude : magnitude;
}

/** Asserts `answer` is exactly `expected` (scaled), and a number whenever the number would print as that decimal. */
function assertExact(answer: unknown, expected: bigint, scale: number, what: string): void {
  assert.ok(typeof answer === 'number' || typeof answer === 'string', `${what}: ${String(answer)}`);
  assert.equal(scaledOf(String(answer), scale), expected, `${what}: ${String(answer)} is not ${decimal(expected, scale)}`);
  const printsBack = scaledOf(String(Number(decimal(expected, scale))), scale) === expected;
  assert.equal(typeof answer, printsBack ? 'number' : 'string', `${what}: ${String(answer)} as a ${typeof answer}`);
}

const scaled = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -1_000, max: 1_000 }), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 7_036_874_417_766_401, 900_700_000_000_000_1));
const reading = fc.record({ d: scaled, values: fc.tuple(...SCALES.map(() => scaled)) });

test('exact decimals: sum, min, max, avg and number dimensions answer the stored decimal at every scale, in every layer', async () => {
  await withTempDir(async (dir) => {
    const tandem = await Tandem.open({ dataDir: dir, config });
    try {
      let run = 0;
      await fc.assert(fc.asyncProperty(fc.array(reading, { minLength: 1, maxLength: 8 }), fc.nat(8), async (readings, split) => {
        const id = `r${run++}`;
        // One dimension value for the run, so that each group holds every reading.
        const d = BigInt(readings[0]!.d);
        const events = readings.map((r) => ({ at: '2026-12-01T00:00:00Z', run: id, d: decimal(d, 2), ...Object.fromEntries(SCALES.map((s) => [`v${s}`, decimal(BigInt(r.values[s]!), s)])) }));
        const cut = Math.min(split, events.length);
        await tandem.ingest('reading', events.slice(0, cut));
        await tandem.runBatch({ full: false });
        await tandem.ingest('reading', events.slice(cut));
        for (const layer of ['speed', 'batch', 'merged'] as const) {
          const held = layer === 'speed' ? readings.slice(cut) : layer === 'batch' ? readings.slice(0, cut) : readings;
          const { rows } = await tandem.query({ view: 'exact', where: { run: id }, groupBy: ['d'], layer });
          if (held.length === 0) {
            assert.equal(rows.length, 0);
            continue;
          }
          const [row] = rows as Record<string, unknown>[];
          assertExact(row!.d, d, 2, `${layer} dimension d`);
          for (const s of SCALES) {
            const values = held.map((r) => BigInt(r.values[s]!));
            const sum = values.reduce((a, b) => a + b, 0n);
            assertExact(row![`sum${s}`], sum, s, `${layer} sum at scale ${s}`);
            assertExact(row![`min${s}`], values.reduce((a, b) => (b < a ? b : a)), s, `${layer} min at scale ${s}`);
            assertExact(row![`max${s}`], values.reduce((a, b) => (b > a ? b : a)), s, `${layer} max at scale ${s}`);
            assert.deepEqual(row![`avg${s}`], roundedAverage(sum, values.length, s), `${layer} avg at scale ${s}`);
          }
        }
      }), { seed: 20261202, numRuns: 40 });
    } finally {
      await tandem.close();
    }
  });
});

test('exact decimals: the values users reported answer as stored', async () => {
  await withTempDir(async (dir) => {
    const tandem = await Tandem.open({ dataDir: dir, config });
    try {
      const base = Object.fromEntries(SCALES.map((s) => [`v${s}`, '0']));
      await tandem.ingest('reading', [
        { ...base, at: '2026-12-01T00:00:00Z', run: 'a', d: '1', v2: '70368744177664.01' },
        { ...base, at: '2026-12-01T00:00:00Z', run: 'b', d: '1', v12: '9007.000000000001' },
      ]);
      for (const layer of ['speed', 'merged'] as const) {
        const { rows } = await tandem.query({ view: 'exact', groupBy: ['run'], layer, orderBy: [{ dimension: 'run' }] });
        const [a, b] = rows as Record<string, unknown>[];
        assert.equal(a!.sum2, '70368744177664.01');
        assert.equal(a!.min2, '70368744177664.01');
        assert.equal(a!.avg2, '70368744177664.01');
        assert.equal(b!.sum12, '9007.000000000001');
        assert.equal(b!.max12, '9007.000000000001');
      }
      // Sums nearest one double (…64.015625 and …64.03125) still rank by their exact value.
      await tandem.ingest('reading', ['0.01', '0.02', '0.03', '0.00'].map((cents, i) => ({ ...base, at: '2026-12-01T00:00:00Z', run: `rank${i}`, d: '1', v2: `70368744177664${cents.slice(1)}` })));
      const ranked = await tandem.query({ view: 'exact', where: { run: ['rank0', 'rank1', 'rank2', 'rank3'] }, groupBy: ['run'], orderBy: [{ measure: 'sum2', desc: true }] });
      assert.deepEqual(ranked.rows.map((r) => String(r.sum2)), ['70368744177664.03', '70368744177664.02', '70368744177664.01', '70368744177664']);
      await tandem.runBatch();
      const { rows } = await tandem.query({ view: 'exact', groupBy: ['run'], layer: 'batch', orderBy: [{ dimension: 'run' }] });
      assert.equal((rows[0] as Record<string, unknown>).sum2, '70368744177664.01');
      assert.equal((rows[1] as Record<string, unknown>).sum12, '9007.000000000001');
    } finally {
      await tandem.close();
    }
  });
});
