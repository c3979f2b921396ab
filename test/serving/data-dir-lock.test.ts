import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataDirectoryLockedError, Tandem } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

test('lock - a second engine on the same data directory is refused, naming the holder; closing frees it', async () => {
  await withTempDir(async (dir) => {
    const first = await Tandem.open({ dataDir: dir, config: shopConfig });
    await assert.rejects(Tandem.open({ dataDir: dir, config: shopConfig }), (error: unknown) =>
      error instanceof DataDirectoryLockedError && error.pid === process.pid && /is in use by process \d+; stop it first/.test(error.message));
    await first.close();
    const second = await Tandem.open({ dataDir: dir, config: shopConfig });
    await second.close();
  });
});

test('lock - a lock left by a dead process is taken over', async () => {
  await withTempDir(async (dir) => {
    const first = await Tandem.open({ dataDir: dir, config: shopConfig });
    await first.close();
    await writeFile(join(dir, 'LOCK'), '999999999\n'); // no such pid
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
    await engine.close();
  });
});
