import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestRate } from '../../src/server/ingest-rate.ts';

test('ingest rate - a steady 1,000 events/s reads as 1,000 over the window, partial second excluded', () => {
  const rate = new IngestRate(10);
  const start = 1_700_000_000_000;
  for (let second = 0; second < 15; second++) rate.record(1000, start + second * 1000 + 500);
  rate.record(999_999, start + 15_000 + 100); // the current second: not counted yet
  assert.equal(rate.perSecond(start + 15_000 + 200), 1000);
});

test('ingest rate - falls to zero once traffic stops', () => {
  const rate = new IngestRate(10);
  rate.record(5000, 0);
  assert.equal(rate.perSecond(1500), 500);
  assert.equal(rate.perSecond(20_000), 0);
});
