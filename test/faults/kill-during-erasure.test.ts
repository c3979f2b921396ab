/**
 * Faults: a process erasing one customer's events killed with SIGKILL at
 * several moments. The next open finishes an erasure that was recorded
 * before it answers (one killed before that never happened, and is asked
 * again, as a caller never answered would):
 * every answer equals the one an engine that never stored those events
 * gives, no file of the data directory holds the customer or an erased
 * event's id, and the audit log records the erasure once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tandem } from '../../src/index.ts';
import { answers, ERASED_CUSTOMER, erasureConfig, filesHolding, reference, usageEvents } from '../support/erasure-fixture.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const CHILD = fileURLToPath(new URL('../support/erase-child.ts', import.meta.url));
const events = [...usageEvents(0, 40_000), ...usageEvents(40_000, 2_000)];
const erasedId = events.find((e) => e.customer === ERASED_CUSTOMER)!.id;
let temp: { dir: string; remove(): Promise<void> };
let seeded: string;
let expected: string[];

before(async () => {
  temp = await makeTempDir('tandem-erase-kill-');
  seeded = join(temp.dir, 'seeded');
  // Many small segments, so the erasure writes many files again and a kill finds it in the middle.
  const engine = await Tandem.open({ dataDir: seeded, config: erasureConfig, segmentBytes: 64 * 1024 });
  await engine.ingest('usage', events.slice(0, 40_000));
  await engine.runBatch({ seal: true });
  await engine.ingest('usage', events.slice(40_000));
  await engine.close();
  expected = await reference(events.filter((e) => e.customer !== ERASED_CUSTOMER));
});
after(async () => {
  await temp.remove();
});

/** Runs the erasing process on `dataDir`, killing it `afterMs` after it says it starts (or letting it finish); resolves once it is gone. */
function eraseKilledAfter(dataDir: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('erasing')) timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
  });
  return new Promise((resolve) => child.on('exit', () => {
    clearTimeout(timer);
    resolve();
  }));
}

for (const afterMs of [0, 150, 400, 900, 2_000]) {
  test(`kill -9 during an erasure (${afterMs} ms in) - the next open finishes it: answers exact, no file holds an erased value`, { timeout: 180_000 }, async (t) => {
    const dataDir = join(temp.dir, `data-${afterMs}`);
    await cp(seeded, dataDir, { recursive: true });
    await eraseKilledAfter(dataDir, afterMs);
    const pending = existsSync(join(dataDir, 'erasure', 'pending.json'));
    const erased = existsSync(join(dataDir, 'erasure', 'audit.ndjson'));
    t.diagnostic(pending ? 'killed in the middle: the open resumes it' : erased ? 'the erasure had finished' : 'killed before the erasure was recorded');
    const engine = await Tandem.open({ dataDir, config: erasureConfig });
    try {
      await engine.loaded();
      // Killed before the erasure was recorded, it never happened: the caller, never answered, asks again.
      if ((await engine.erasures()).length === 0) await engine.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } });
      assert.deepEqual(await answers(engine), expected);
      const audits = await engine.erasures();
      assert.equal(audits.length, 1, 'the erasure is recorded once');
      assert.equal(audits[0]!.events, events.filter((e) => e.customer === ERASED_CUSTOMER).length);
    } finally {
      await engine.close();
    }
    assert.deepEqual(await filesHolding(dataDir, ERASED_CUSTOMER), []);
    assert.deepEqual(await filesHolding(dataDir, erasedId), []);
  });
}
