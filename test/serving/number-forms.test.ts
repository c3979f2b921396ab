/**
 * Number forms and `stored` (issue #32): with `numbers: 'text'` every count
 * and sum is the exact decimal of the reference total, with `bigint` a
 * bigint (text for a sum with decimals), and `auto` is the same value; an
 * ingest's `stored` is the events it newly stored, duplicates excluded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createServer } from '../../src/server/index.ts';
import { defineConfig, defineEventType, defineView, Tandem } from '../../src/index.ts';
import { withTempDir } from '../support/temp-dir.ts';

const usage = defineEventType({
  name: 'usage',
  time: 'at',
  idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', account: 'string', calls: { type: 'number', scale: 0 }, price: { type: 'number', scale: 2 } },
});
const billing = defineView(usage, {
  name: 'billing',
  dimensions: ['account'],
  granularity: 'none',
  measures: { events: { type: 'count' }, calls: { type: 'sum', field: 'calls' }, amount: { type: 'sum', field: 'price' } },
});
const config = defineConfig({ eventTypes: [usage], views: [billing] });

/** Values up to the largest each field takes, so that sums pass 2^53 and need text or bigint. */
const CALLS_MAX = Number.MAX_SAFE_INTEGER;
const CENTS_MAX = Number.MAX_SAFE_INTEGER;

interface Row { readonly account: string; readonly calls: bigint; readonly cents: bigint }

const rows = fc.array(fc.record({
  account: fc.constantFrom('a', 'b', 'c'),
  calls: fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: -BigInt(CALLS_MAX), max: BigInt(CALLS_MAX) })),
  cents: fc.oneof(fc.bigInt({ min: 0n, max: 100_000n }), fc.bigInt({ min: -BigInt(CENTS_MAX), max: BigInt(CENTS_MAX) })),
}), { minLength: 1, maxLength: 40 });

/** Exact decimal text of cents, without trailing zeros: the reference for a sum at scale 2. */
function centsText(cents: bigint): string {
  const negative = cents < 0n;
  const digits = (negative ? -cents : cents).toString().padStart(3, '0');
  const text = `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`.replace(/\.?0+$/, '');
  return text === '-0' ? '0' : text;
}

function reference(all: readonly Row[]): Map<string, { events: bigint; calls: bigint; cents: bigint }> {
  const totals = new Map<string, { events: bigint; calls: bigint; cents: bigint }>();
  for (const r of all) {
    const t = totals.get(r.account) ?? { events: 0n, calls: 0n, cents: 0n };
    totals.set(r.account, { events: t.events + 1n, calls: t.calls + r.calls, cents: t.cents + r.cents });
  }
  return totals;
}

const asEvents = (all: readonly Row[], from: number) => all.map((r, i) => ({
  id: `e${from + i}`, at: 1_700_000_000_000 + i, account: r.account, calls: Number(r.calls), price: centsText(r.cents) as `${number}`,
}));

test('numbers: text and bigint answer every count and sum exactly, in one type per column, over both layers; auto is the same value', { timeout: 300_000 }, async () => {
  await fc.assert(fc.asyncProperty(rows, rows, async (batched, recent) => {
    // Each value must be a safe integer at its scale to be accepted; the generators keep to that.
    await withTempDir(async (dir) => {
      const tandem = await Tandem.open({ dataDir: dir, config });
      try {
        await tandem.ingest('usage', asEvents(batched, 0));
        await tandem.runBatch({ seal: true });
        await tandem.ingest('usage', asEvents(recent, batched.length));
        const expected = reference([...batched, ...recent]);
        const query = { view: 'billing', groupBy: ['account'], granularity: 'all' } as const;
        const text = await tandem.query({ ...query, numbers: 'text' });
        const big = await tandem.query({ ...query, numbers: 'bigint' });
        const auto = await tandem.query(query);
        assert.equal(text.rows.length, expected.size);
        for (const [i, row] of text.rows.entries()) {
          const want = expected.get(row.account!)!;
          assert.deepEqual([row.events, row.calls, row.amount], [want.events.toString(), want.calls.toString(), centsText(want.cents)]);
          const b = big.rows[i]!;
          assert.deepEqual([b.account, b.events, b.calls, b.amount], [row.account, want.events, want.calls, centsText(want.cents)]);
          const a = auto.rows[i]!;
          for (const name of ['events', 'calls', 'amount'] as const) {
            const value = a[name];
            // auto is a number where a double prints as the decimal, else that very text.
            if (typeof value === 'number') assert.equal(Number(row[name]), value, name);
            else assert.equal(value, row[name], name);
          }
        }
      } finally {
        await tandem.close();
      }
    });
  }), { numRuns: 12, seed: 3201 });
});

test('stored: each ingest answers how many events it newly stored, duplicates of stored keys (earlier or in the same call) excluded', { timeout: 120_000 }, async () => {
  const calls = fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 25 }), { minLength: 1, maxLength: 6 });
  await fc.assert(fc.asyncProperty(calls, async (keysPerCall) => {
    await withTempDir(async (dir) => {
      const tandem = await Tandem.open({ dataDir: dir, config });
      try {
        const seen = new Set<number>();
        for (const keys of keysPerCall) {
          const result = await tandem.ingest('usage', keys.map((k) => ({ id: `k${k}`, at: 1_700_000_000_000, account: 'a', calls: 1, price: 1 })));
          const fresh = new Set(keys.filter((k) => !seen.has(k)));
          for (const k of keys) seen.add(k);
          assert.deepEqual([result.accepted, result.stored, result.duplicates], [keys.length, fresh.size, keys.length - fresh.size]);
        }
        const { rows: [total] } = await tandem.query({ view: 'billing', granularity: 'all', numbers: 'bigint' });
        assert.equal(total?.events ?? 0n, BigInt(seen.size));
      } finally {
        await tandem.close();
      }
    });
  }), { numRuns: 15, seed: 3202 });
});

test('numbers over HTTP: text answers exact decimal text; bigint, which JSON cannot carry, is refused naming the key; the ingest answer has stored', async () => {
  await withTempDir(async (dir) => {
    const tandem = await Tandem.open({ dataDir: dir, config });
    const { app } = createServer({ tandem });
    try {
      const big = { id: 'x', at: 1_700_000_000_000, account: 'a', calls: Number.MAX_SAFE_INTEGER, price: '90071992547409.91' as const };
      const ingested = await app.inject({ method: 'POST', url: '/v1/events/usage', payload: [big, { ...big, id: 'y' }, big] });
      assert.equal(ingested.json().stored, 2);
      assert.equal(ingested.json().duplicates, 1);
      const text = await app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'billing', granularity: 'all', numbers: 'text' } });
      assert.deepEqual(text.json().rows, [{ events: '2', calls: '18014398509481982', amount: '180143985094819.82' }]);
      const refused = await app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'billing', numbers: 'bigint' } });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.json().error.message, /numbers/);
    } finally {
      await app.close();
      await tandem.close();
    }
  });
});
