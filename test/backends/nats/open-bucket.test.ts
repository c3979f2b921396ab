/**
 * Opening a bucket on a new cluster: what another node has just created can
 * answer "stream not found" to the first read for a moment, and that read is
 * tried again, as is a create refused until enough servers have joined;
 * anything else that will not clear fails at once. A bucket already opened
 * can still answer "stream not found" for a moment (seen in CI on a read
 * right after the open's read succeeded), so its requests are tried again
 * while it does, for a bounded time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openBucket, whileStreamSettles } from '../../../src/backends/nats/publish-retry.ts';

const notFound = Object.assign(new Error('stream not found'), { code: 10059 });

test('open bucket - a first read that finds no stream is tried again until the bucket answers', async () => {
  let reads = 0;
  const bucket = await openBucket(async () => 'bucket', async () => {
    if (++reads < 3) throw notFound;
    return null;
  });
  assert.equal(bucket, 'bucket');
  assert.equal(reads, 3);
});

test('open bucket - any other failure of the first read fails the open at once, and "stream not found" from the create is not retried', async () => {
  let reads = 0;
  const refused = Object.assign(new Error('insufficient resources'), { code: 10023 });
  await assert.rejects(openBucket(async () => 'bucket', async () => {
    reads++;
    throw refused;
  }), refused);
  assert.equal(reads, 1);
  let creates = 0;
  await assert.rejects(openBucket(async () => {
    creates++;
    throw notFound;
  }), notFound);
  assert.equal(creates, 1);
});

test('open bucket - a create refused for want of servers (not all have joined a new cluster yet) is tried again until they have', async () => {
  const noPeers = Object.assign(new Error('no suitable peers for placement'), { code: 10005 });
  let creates = 0;
  const bucket = await openBucket(async () => {
    if (++creates < 3) throw noPeers;
    return 'bucket';
  });
  assert.equal(bucket, 'bucket');
  assert.equal(creates, 3);
});

test('open bucket - a request on an opened bucket that finds no stream is tried again; anything else, and a stream missing for good, fail', async () => {
  let reads = 0;
  assert.equal(await whileStreamSettles(async () => {
    if (++reads < 3) throw notFound;
    return 'value';
  }), 'value');
  assert.equal(reads, 3);
  const refused = Object.assign(new Error('wrong last sequence'), { code: 10071 });
  let writes = 0;
  await assert.rejects(whileStreamSettles(async () => {
    writes++;
    throw refused;
  }), refused);
  assert.equal(writes, 1);
  const started = Date.now();
  await assert.rejects(whileStreamSettles(async () => {
    throw notFound;
  }, 300), notFound);
  assert.ok(Date.now() - started < 2_000, 'a stream missing for good fails once the budget is spent');
});
