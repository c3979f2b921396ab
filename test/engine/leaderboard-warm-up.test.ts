/**
 * The leaderboard warm-up runs once per process, plans each view's top 10
 * as a query would, and never fails the cycle that runs it. (Whether it
 * makes the first leaderboards faster is a benchmark's question:
 * `bench/first-queries.ts`.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig } from '../../src/index.ts';
import { warmUpLeaderboards } from '../../src/engine/leaderboard-warm-up.ts';
import { NO_LIMIT, planQuery } from '../../src/serving/query-plan.ts';
import { shopConfig } from '../support/shop-config.ts';

const catalog = compileConfig(shopConfig);

test('leaderboard warm-up - each view\'s top 10 over all time, a failing answer swallowed, and only once per process', async () => {
  const views = ['by_country_hour', 'totals_month', 'all_time'];
  const asked: string[] = [];
  await warmUpLeaderboards(catalog, views, (plan) => {
    asked.push(plan.view.name);
    assert.equal(plan.granularity, 'all');
    assert.equal(plan.limit, 10);
    assert.deepEqual(plan.groupBy, plan.view.dimensions.map((_, i) => i));
    if (asked.length === 5) throw new Error('out of memory, say');
  });
  assert.deepEqual(asked, ['by_country_hour', 'totals_month', 'all_time', 'by_country_hour', 'totals_month'], 'stopped at the failure, nothing thrown');
  await warmUpLeaderboards(catalog, views, () => asked.push('again'));
  assert.equal(asked.length, 5, 'not again in this process');
});

test('leaderboard warm-up - a plan\'s limit is always a small integer: none, or one past it, is NO_LIMIT', () => {
  const plan = (limit?: number) => planQuery(catalog, { view: 'by_country_hour', ...(limit === undefined ? {} : { limit }) }).limit;
  assert.equal(plan(), NO_LIMIT);
  assert.equal(plan(1e15), NO_LIMIT);
  assert.equal(plan(10), 10);
  assert.ok(NO_LIMIT <= 2 ** 30 - 1, 'a small integer in every V8 build');
});
