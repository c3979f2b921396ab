/**
 * A consumer whose reading of a partition ends with an error (NATS gone for
 * longer than a read retries, say) no longer counts as following it: a wait
 * on the partitions followed does not wait on it for good (a version's
 * adoption waited ten minutes on one), and the error is told so the node
 * reads the partition again; a refollowed partition is waited on again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig } from '../../../src/definitions/index.ts';
import type { ClusterLog } from '../../../src/backends/nats/cluster-log.ts';
import { FirstOccurrenceFilter } from '../../../src/backends/nats/first-occurrence.ts';
import { LogConsumer } from '../../../src/backends/nats/log-consumer.ts';
import type { LogMessage } from '../../../src/backends/nats/log-message.ts';
import type { Following } from '../../../src/backends/nats/partition-reader.ts';

const catalog = compileConfig({ eventTypes: [{ name: 'hit', time: 'at', fields: { at: 'timestamp' } }], views: [] });

/** A log whose readings the test ends: each follow hands out its message callback and a way to fail it. */
class ScriptedLog {
  readonly partitions = 2;
  readonly catalog = catalog;
  readonly readings: { partition: number; deliver: (seq: number) => void; fail: (error: Error) => void }[] = [];

  async follow(partition: number, _from: number, onMessage: (message: LogMessage) => void): Promise<Following> {
    let fail!: (error: Error) => void;
    let stop!: () => void;
    const done = new Promise<void>((resolve, reject) => {
      fail = reject;
      stop = resolve;
    });
    const deliver = (seq: number) => onMessage({ kind: 'skipped', partition, seq, msgId: '', reason: 'test' });
    this.readings.push({ partition, deliver, fail });
    return { done, stop: async () => stop() };
  }
}

test('log consumer - a reading that fails leaves its partition unfollowed: waits on the followed ones end, the error is told, and a refollow is waited on again', async () => {
  const log = new ScriptedLog();
  const errors: [number, string][] = [];
  const consumer = await LogConsumer.start(log as unknown as ClusterLog, () => {}, { onError: (error, p) => void errors.push([p, (error as Error).message]) });
  assert.deepEqual([consumer.follows(0), consumer.follows(1)], [true, true]);
  const waiting = consumer.waitForFollowed([5, 5], 60_000);
  log.readings[0]!.deliver(5);
  log.readings[1]!.fail(new Error('NATS is gone'));
  await waiting;
  assert.equal(consumer.follows(1), false);
  assert.deepEqual(errors, [[1, 'NATS is gone']]);
  await consumer.refollow(1, new FirstOccurrenceFilter(catalog));
  assert.equal(consumer.follows(1), true);
  let settled = false;
  const again = consumer.waitForFollowed([5, 3], 60_000).then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(settled, false, 'partition 1 is followed again, and not yet at 3');
  log.readings[2]!.deliver(3);
  await again;
  await consumer.stop();
});
