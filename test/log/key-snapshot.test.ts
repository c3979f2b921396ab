/**
 * The idempotency keys' snapshot: an open reads the keys back from it, and
 * duplicates stay caught exactly whatever state it is in: whole, older than
 * the master dataset, damaged, missing, ahead of the log, or written for
 * another key field. Each case reopens and retries every event ever stored.
 */
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tandem, type EngineLogger, type TandemConfig } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

const order = (i: number) => ({ id: `k${i}-é`, at: '2024-05-01T12:00:00Z', country: 'DE', mobile: true, amount: 1, qty: 1 });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => order(from + i));

/** A logger that keeps the warnings and the open's figures. */
function recorder(): EngineLogger & { warnings: string[]; opened: Record<string, unknown>[] } {
  const warnings: string[] = [];
  const opened: Record<string, unknown>[] = [];
  return {
    warnings, opened,
    info: (o, m) => { if (m === 'engine opened') opened.push(o as Record<string, unknown>); },
    warn: (o) => { warnings.push(String((o as { reason?: unknown }).reason ?? '')); },
    error: () => {},
  };
}

/** Stores 0..300 over three cycles (the last one sealing) and 300..350 left in the log, then closes. */
async function fill(dir: string, config: TandemConfig = shopConfig): Promise<void> {
  const tandem = await Tandem.open({ dataDir: dir, config, segmentBytes: 4096 });
  try {
    for (let i = 0; i < 300; i += 100) {
      await tandem.ingest('order', range(i, i + 100));
      await tandem.runBatch({ seal: i === 200 });
    }
    await tandem.ingest('order', range(300, 350));
  } finally {
    await tandem.close();
  }
}

/** Reopens, and checks that every stored event is a duplicate and a new one is not. */
async function retryAll(dir: string, logger = recorder(), config: TandemConfig = shopConfig): Promise<typeof logger> {
  const tandem = await Tandem.open({ dataDir: dir, config, segmentBytes: 4096, logger });
  try {
    assert.equal(tandem.status().idempotencyKeys, 350);
    assert.equal((await tandem.ingest('order', range(0, 350))).duplicates, 350);
    assert.equal((await tandem.ingest('order', range(350, 351))).duplicates, 0);
  } finally {
    await tandem.close();
  }
  return logger;
}

test('key snapshot: written at close, read back at the next open with no warning', async () => {
  await withTempDir(async (dir) => {
    await fill(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'keys', 'snapshot.json'), 'utf8')) as { through: number; types: Record<string, { count: number; table?: unknown }> };
    assert.equal(manifest.through, 350);
    assert.ok(manifest.types.order?.table !== undefined, 'the table was saved at close');
    assert.equal(manifest.types.order?.count, 350);
    const logger = await retryAll(dir);
    assert.deepEqual(logger.warnings, []);
    assert.equal(logger.opened[0]?.keysFromSnapshot, 350);
    // The close after the retries appended the one new key to what was there.
    const after = JSON.parse(await readFile(join(dir, 'keys', 'snapshot.json'), 'utf8')) as { through: number; types: Record<string, { count: number }> };
    assert.equal(after.types.order?.count, 351);
  });
});

test('key snapshot: a damaged saved table is rebuilt from the keys, which are still used', async () => {
  await withTempDir(async (dir) => {
    await fill(dir);
    const file = join(dir, 'keys', 'order.table');
    const bytes = await readFile(file);
    bytes[8] = bytes[8]! ^ 0xff;
    await writeFile(file, bytes);
    const logger = await retryAll(dir);
    assert.deepEqual(logger.warnings, []);
    assert.equal(logger.opened[0]?.keysFromSnapshot, 350);
  });
});

test('key snapshot: one older than the master dataset and the log is completed from both', async () => {
  await withTempDir(async (dir) => {
    const tandem = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096 });
    try {
      await tandem.ingest('order', range(0, 100));
      await tandem.runBatch({ seal: true });
    } finally {
      await tandem.close();
    }
    await cp(join(dir, 'keys'), join(dir, 'keys-old'), { recursive: true });
    await fill(dir);
    await rm(join(dir, 'keys'), { recursive: true });
    await cp(join(dir, 'keys-old'), join(dir, 'keys'), { recursive: true });
    await rm(join(dir, 'keys-old'), { recursive: true });
    const logger = await retryAll(dir);
    assert.deepEqual(logger.warnings, []);
    assert.equal(logger.opened[0]?.keysFromSnapshot, 100, 'the old snapshot held the first 100');
  });
});

test('key snapshot: damaged, cut short, for another key field, or ahead of the log, it is set aside in one sentence and the keys come from Parquet', async () => {
  const damages: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['a flipped byte', async (dir) => {
      const file = join(dir, 'keys', 'order.keys');
      const bytes = await readFile(file);
      bytes[20] = bytes[20]! ^ 0xff;
      await writeFile(file, bytes);
    }, /fails its checksum/],
    ['cut short', async (dir) => {
      const file = join(dir, 'keys', 'order.keys');
      await writeFile(file, (await readFile(file)).subarray(0, 100));
    }, /missing or shorter than/],
    ['another key field', (dir) => editManifest(dir, (m) => { m.types.order.key = 'country'; }), /holds field 'country'/],
    ['ahead of the log', (dir) => editManifest(dir, (m) => { m.through = 10_000; }), /past the log's end 350/],
  ];
  for (const [name, damage, warning] of damages) {
    await withTempDir(async (dir) => {
      await fill(dir);
      await damage(dir);
      const logger = await retryAll(dir);
      assert.ok(logger.warnings.some((w) => warning.test(w)), `${name}: ${JSON.stringify(logger.warnings)}`);
      assert.equal(logger.opened[0]?.keysFromSnapshot, 0, name);
      assert.ok(logger.warnings.every((w) => /^[A-Z].*\.$/.test(w) && !w.includes('\n')), `${name}: one sentence each`);
    });
  }
});

test('key snapshot: a type given a window of keys ignores the snapshot written without one', async () => {
  await withTempDir(async (dir) => {
    await fill(dir);
    const windowed: TandemConfig = { ...shopConfig, eventTypes: shopConfig.eventTypes.map((e) => ({ ...e, idempotencyWindow: 1000 })) };
    const logger = await retryAll(dir, recorder(), windowed);
    assert.ok(logger.warnings.some((w) => /keeps a window of keys/.test(w)), JSON.stringify(logger.warnings));
  });
});

type EditableManifest = { through: number; types: Record<string, { key: string }> } & { types: { order: { key: string } } };

async function editManifest(dir: string, edit: (manifest: EditableManifest) => void): Promise<void> {
  const file = join(dir, 'keys', 'snapshot.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as EditableManifest;
  edit(manifest);
  await writeFile(file, JSON.stringify(manifest));
}

test('key snapshot: a repair deletes it, and the next open reads every key from what survives', async () => {
  await withTempDir(async (dir) => {
    await fill(dir);
    await Tandem.repair(dir);
    await assert.rejects(readFile(join(dir, 'keys', 'snapshot.json')), { code: 'ENOENT' });
    const logger = await retryAll(dir);
    assert.equal(logger.opened[0]?.keysFromSnapshot, 0);
  });
});
