import assert from 'node:assert/strict';
import { cp, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { compileConfig, InvalidDefinitionError, Tandem, type TandemConfig } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

const WINDOW = 100;
const config: TandemConfig = {
  ...shopConfig,
  eventTypes: shopConfig.eventTypes.map((e) => ({ ...e, idempotencyWindow: WINDOW })),
};
const order = (i: number) => ({ id: `w${i}`, at: '2024-05-01T12:00:00Z', country: 'DE', mobile: true, amount: 1, qty: 1 });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => order(from + i));

test('idempotency window: keys of the latest N events are recognised, older ones forgotten, memory stays at N, across batches and restarts', async () => {
  await withTempDir(async (dir) => {
    const open = () => Tandem.open({ dataDir: dir, config, segmentBytes: 8192 });
    let tandem = await open();
    try {
      for (let i = 0; i < 1000; i += 50) {
        await tandem.ingest('order', range(i, i + 50));
        if (i === 500) await tandem.runBatch();
      }
      assert.equal(tandem.status().idempotencyKeys, WINDOW);
      assert.equal((await tandem.ingest('order', range(900, 1000))).duplicates, WINDOW, 'the latest 100 are recognised');

      // After a restart the window is rebuilt from the Parquet files and the log, in offset order.
      await tandem.runBatch();
      await tandem.close();
      tandem = await open();
      assert.equal(tandem.status().idempotencyKeys, WINDOW);
      assert.equal((await tandem.ingest('order', range(900, 1000))).duplicates, WINDOW);
      // Older than the window: stored again, as the window's documentation says.
      assert.equal((await tandem.ingest('order', range(0, 10))).duplicates, 0);
      assert.equal(tandem.status().idempotencyKeys, WINDOW);
    } finally {
      await tandem.close();
    }
  });
});

test('idempotency window: it must be a positive whole number, on a type with an idempotency key, and changing it recomputes no view', () => {
  const withWindow = (window: unknown, key = true) => ({
    ...shopConfig,
    eventTypes: shopConfig.eventTypes.map((e) => {
      const { idempotencyKey, ...rest } = e;
      return { ...rest, ...(key ? { idempotencyKey } : {}), idempotencyWindow: window };
    }),
  });
  for (const [bad, key, message] of [[0, true, /positive whole number/], [1.5, true, /positive whole number/], ['7d', true, /positive whole number/], [10, false, /needs an idempotencyKey/]] as const) {
    assert.throws(() => compileConfig(withWindow(bad, key)), (e: unknown) => e instanceof InvalidDefinitionError && e.path === 'eventTypes[0].idempotencyWindow' && message.test(e.message));
  }
  const hashes = (c: unknown) => [...compileConfig(c).views.values()].map((v) => v.hash);
  assert.deepEqual(hashes(withWindow(10)), hashes(shopConfig));
});

test('idempotency window: a segment both exported and still in the log (a run that failed after exporting) enters the window once', async () => {
  await withTempDir(async (dir) => {
    const open = () => Tandem.open({ dataDir: dir, config, segmentBytes: 8192 });
    let tandem = await open();
    await tandem.ingest('order', range(0, 60));
    await tandem.runBatch();
    await tandem.ingest('order', range(60, 120));
    await tandem.close();
    // Keep the state just before the second run: its log segments and the first version as published.
    const before = join(dir, '..', `${basename(dir)}-before`);
    await cp(dir, before, { recursive: true });
    tandem = await open();
    await tandem.runBatch();
    await tandem.close();
    // Put back the log and the published pointer: exported, but not published nor released, as after a crash.
    await rm(join(dir, 'log'), { recursive: true });
    await cp(join(before, 'log'), join(dir, 'log'), { recursive: true });
    await cp(join(before, 'batch', 'CURRENT'), join(dir, 'batch', 'CURRENT'));
    await rm(before, { recursive: true });

    tandem = await open();
    try {
      assert.equal(tandem.status().idempotencyKeys, WINDOW);
      assert.equal((await tandem.ingest('order', range(20, 120))).duplicates, WINDOW, 'the latest 100 keys, each once');
      const { rows } = await tandem.query({ view: 'all_time', granularity: 'all' });
      assert.equal(rows[0]!.orders, 120);
    } finally {
      await tandem.close();
    }
  });
});

test('idempotency window: a history import keeps the file\'s latest N keys in the window, in the file\'s order, repeats dropped', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'history.ndjson');
    // 0..149, then 120..129 again: repeats of keys the file already holds, dropped and never counted twice in the window.
    const rows = [...range(0, 150), ...range(120, 130)];
    await writeFile(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const tandem = await Tandem.open({ dataDir: join(dir, 'data'), config });
    try {
      await tandem.ingest('order', range(1000, 1010));
      const summary = await tandem.importHistory('order', [path]);
      assert.deepEqual([summary.imported, summary.duplicates], [150, 10]);
      assert.equal(tandem.status().idempotencyKeys, WINDOW);
      assert.equal((await tandem.ingest('order', range(50, 150))).duplicates, WINDOW, 'the file\'s latest 100 are recognised');
      assert.equal((await tandem.ingest('order', range(1000, 1010))).duplicates, 0, 'the live keys before the file fell out of the window');
    } finally {
      await tandem.close();
    }
  });
});
