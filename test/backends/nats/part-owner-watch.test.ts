/**
 * The batch node gives up on an owner's part of a divided cycle once the
 * owner restarted under the same name (its request died with the old
 * process) or is no longer heard from, and keeps waiting while the process
 * it asked still beats. The schedule test found the restart case: a part
 * owner killed with SIGKILL mid-cycle and started again made the cycle wait
 * out the part's whole timeout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CyclePartFailedError } from '../../../src/backends/nats/errors.ts';
import type { Heartbeat } from '../../../src/backends/nats/heartbeat.ts';
import { watchPartOwner, type OwnerSighting } from '../../../src/backends/nats/part-owner-watch.ts';

const beat = (instance: string): Heartbeat => ({ node: 'b', instance, host: 'h', pid: 1, url: null, applied: [], batchVersion: 3, at: Date.now() });

async function outcome(sightings: OwnerSighting[]): Promise<string> {
  let tick = 0;
  const watch = watchPartOwner('b', 4, 'b-1', () => sightings[Math.min(tick++, sightings.length - 1)]!, 5);
  const settled = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 200));
  try {
    return await Promise.race([watch.gone, settled]);
  } catch (error) {
    assert.ok(error instanceof CyclePartFailedError);
    return error.reason;
  } finally {
    watch.stop();
  }
}

test('part owner watch - an owner restarted under the same name while computing is given up on', async () => {
  assert.equal(await outcome([{ beat: beat('b-1'), heard: true }, { beat: beat('b-2'), heard: true }]), 'it restarted while computing');
});

test('part owner watch - an owner no longer listed, or listed but silent, is given up on', async () => {
  assert.equal(await outcome([{ beat: beat('b-1'), heard: true }, { beat: undefined, heard: false }]), 'it is no longer heard from');
  assert.equal(await outcome([{ beat: beat('b-1'), heard: false }]), 'it is no longer heard from');
});

test('part owner watch - the process asked, still beating, is waited for', async () => {
  assert.equal(await outcome([{ beat: beat('b-1'), heard: true }]), 'still waiting');
});
