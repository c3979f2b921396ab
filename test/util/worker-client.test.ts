import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerClient } from '../../src/util/worker-client.ts';

const exiting = new URL('../support/exiting-worker.ts', import.meta.url);

test('worker client - whenReady waits for a starting worker instead of saying no', async () => {
  const client = new WorkerClient<string, string>(exiting, undefined, () => undefined);
  try {
    assert.equal(await client.whenReady(), true);
    assert.equal(client.available(), true);
    // This worker dies on its first request: the request settles as undefined and the worker is not waited for again.
    assert.equal(await client.request('die'), undefined);
    assert.equal(await client.whenReady(), false);
  } finally {
    await client.close();
  }
});

test('worker client - whenReady says no for a worker that cannot start, and tells onFailed', async () => {
  const failures: unknown[] = [];
  const client = new WorkerClient<string, string>(new URL('../support/no-such-worker.ts', import.meta.url), undefined, (e) => failures.push(e));
  try {
    assert.deepEqual(await Promise.all([client.whenReady(), client.whenReady()]), [false, false]);
    assert.equal(failures.length, 1);
  } finally {
    await client.close();
  }
});

test('worker client - close settles a wait for the start with no', async () => {
  const client = new WorkerClient<string, string>(exiting, undefined, () => undefined);
  const ready = client.whenReady();
  await client.close();
  assert.equal(await ready, false);
});
