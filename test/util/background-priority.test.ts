import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { BACKGROUND_NICE, lowerThreadPriority } from '../../src/util/background-priority.ts';
import { siblingModule } from '../../src/util/start-worker.ts';
import { WorkerClient } from '../../src/util/worker-client.ts';

/** Each thread's nice value, from /proc (field 19 of stat, counted after the command's closing parenthesis). */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    nices.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return nices;
}

test('background priority - does nothing where a nice value is per process', () => {
  const before = getPriority();
  assert.equal(lowerThreadPriority('darwin'), false);
  assert.equal(lowerThreadPriority('win32'), false);
  assert.equal(getPriority(), before);
});

test('background priority - the export split worker runs below the main thread, which keeps its priority', { skip: process.platform !== 'linux' }, async () => {
  const before = getPriority();
  const entry = siblingModule('segment-split-worker', new URL('../../src/master/parquet-export.ts', import.meta.url).href);
  const client = new WorkerClient(entry, undefined, () => undefined);
  try {
    assert.equal(await client.whenReady(), true);
    const nices = threadNices();
    assert.equal(nices.get(process.pid), before);
    assert.equal(getPriority(), before);
    assert.ok([...nices.values()].some((n) => n === Math.min(19, before + BACKGROUND_NICE)), `thread nices: ${[...nices.values()].join(' ')}`);
  } finally {
    await client.close();
  }
});
